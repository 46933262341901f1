{{
    config(
        materialized=incremental_materialization(),
        incremental_strategy='append',
        on_schema_change='append_new_columns',
        pre_hook=[
            "{{ identity_incremental_prepare() }}",
            "{{ identity_incremental_retract() }}",
            "{{ identity_incremental_scope() }}",
        ],
        post_hook=[
            "{{ identity_incremental_keep_losses() }}",
            "{{ identity_incremental_cleanup() }}",
        ],
    )
}}
{#-
    Every identifier observation of every source, valid or not: one row per (record, identifier).
    rejection_reason is null for a usable identifier; otherwise it says why the value may not link.
    identifier_id (usable rows only) and record_id are the 64-bit ids of the keys (identity_key_id), computed
    once here, where a daily run only adds the new records' rows: every graph step downstream joins and
    groups on them instead of hashing or comparing strings.
    Values are already normalised by ingestion (phone: 11 digits or null with phone_issue); this model
    re-checks the format and never repairs a value.

    Incremental (macros/identity_incremental.sql): a run recomputes only the records (orders, member rows,
    touch events) whose inputs were loaded after the table's newest _source_loaded_at, and equals a full
    rebuild. The logic below is the full build's; an incremental run only filters the inputs to the
    affected keys. _source_loaded_at = the _loaded_at of the input row (for an order: the order's own).
    _built_at = the build that wrote the row (macros/last_build_rows.sql): the observation tests on
    int_identifiers check the rows of the last build, and the ids those rows carry against every row.
    retracted_at (null on every live row): set on a row an incremental run took back (the record was
    recomputed and no longer shows that identifier, or no longer has any observation), kept with the run's
    stamp so the graph steps downstream see what a day removed as well as what it added; every reader of
    observations leaves these rows out, and a full build has none. The last column, null when absent: a
    table written before it gains it with every row live (on_schema_change='append_new_columns').
-#}

with

{#- A full build reads the orders again in each of their seven uses (cte_not_materialized): materialized,
    every column of every order was copied first (identity bench, 2.1M records: the query 2.07 -> 1.83 s in
    process). A day's orders are few and filtered by a key list: kept materialized, filtered once. #}
orders as {{ cte_not_materialized() if not is_incremental() }} (

    select * from {{ ref('int_orders_unioned') }}
    {%- if is_incremental() %}
    where {{ identity_incremental_reads('order', 'source_order_id') }}
    {%- endif %}

),

members as (

    select * from {{ ref('stg_wechat_members__members') }}
    {%- if is_incremental() %}
    where {{ identity_incremental_reads('member', 'openid') }}
    {%- endif %}

),

pay as (

    select * from {{ ref('stg_wechat_pay__transactions') }}
    {%- if is_incremental() %}
    where {{ identity_incremental_reads('order', 'out_trade_no') }}
    {%- endif %}

),

touches as (

    select * from {{ ref('stg_touches__events') }}
    {%- if is_incremental() %}
    where {{ identity_incremental_new_touches() }}
    {%- endif %}

),

pos as (

    select * from {{ ref('stg_pos__receipt_lines') }}
    {%- if is_incremental() %}
    where {{ identity_incremental_reads('order', 'receipt_no') }}
    {%- endif %}

),

tmall as (

    select * from {{ ref('stg_tmall__orders') }}
    {%- if is_incremental() %}
    where {{ identity_incremental_reads('order', 'order_id') }}
    {%- endif %}

),

jd as (

    select * from {{ ref('stg_jd__order_lines') }}
    {%- if is_incremental() %}
    where {{ identity_incremental_reads('order', 'order_id') }}
    {%- endif %}

),

-- the identifiers an order carries (one row per order in int_orders_unioned)
order_identifiers as (

    select channel as source, order_key as record_key, ordered_at as seen_at, 'phone' as identifier_type, phone as raw_value, cast(null as {{ dbt.type_string() }}) as issue, _source_loaded_at as loaded_at from orders where phone is not null
    union all
    select channel, order_key, ordered_at, 'member_card', member_card, null, _source_loaded_at from orders where member_card is not null
    union all
    select channel, order_key, ordered_at, 'tmall_nick', buyer_nick, null, _source_loaded_at from orders where buyer_nick is not null
    union all
    select channel, order_key, ordered_at, 'tmall_oaid', oaid, null, _source_loaded_at from orders where oaid is not null
    union all
    select channel, order_key, ordered_at, 'jd_account', jd_account, null, _source_loaded_at from orders where jd_account is not null
    union all
    select channel, order_key, ordered_at, 'openid', openid, null, _source_loaded_at from orders where openid is not null

),

-- identifiers the order sources carried but ingestion could not keep (masked, placeholder, invalid)
order_rejections as (

    select distinct 'pos' as source, 'pos:' || receipt_no as record_key, sold_at as seen_at, 'phone' as identifier_type, cast(null as {{ dbt.type_string() }}) as raw_value, phone_issue as issue, _loaded_at as loaded_at from pos where phone is null and phone_issue is not null
    union all
    select distinct 'tmall', 'tmall:' || order_id, created_at, 'phone', null, phone_issue, _loaded_at from tmall where phone is null and phone_issue is not null
    union all
    select distinct 'tmall', 'tmall:' || order_id, created_at, 'tmall_nick', null, 'masked', _loaded_at from tmall where buyer_nick is null and buyer_nick_masked
    union all
    select distinct 'jd', 'jd:' || order_id, ordered_at, 'phone', null, phone_issue, _loaded_at from jd where phone is null and phone_issue is not null
    union all
    select distinct 'jd', 'jd:' || order_id, ordered_at, 'jd_account', null, 'masked', _loaded_at from jd where account is null and account_masked

),

-- a member row links its openid, unionid, phone, card and email
member_identifiers as (

    select 'wechat_members' as source, {{ member_record_key('app_id', 'openid') }} as record_key, registered_at as seen_at, 'openid' as identifier_type, openid as raw_value, cast(null as {{ dbt.type_string() }}) as issue, _loaded_at as loaded_at from members where openid is not null
    union all
    select 'wechat_members', {{ member_record_key('app_id', 'openid') }}, registered_at, 'unionid', unionid, null, _loaded_at from members where unionid is not null
    union all
    select 'wechat_members', {{ member_record_key('app_id', 'openid') }}, registered_at, 'phone', phone, coalesce(phone_issue, case when phone_masked then 'masked' end), _loaded_at from members where phone is not null or phone_issue is not null
    union all
    select 'wechat_members', {{ member_record_key('app_id', 'openid') }}, registered_at, 'member_card', member_card, null, _loaded_at from members where member_card is not null
    union all
    select 'wechat_members', {{ member_record_key('app_id', 'openid') }}, registered_at, 'email', email, null, _loaded_at from members where email is not null

),

-- a WeChat Pay payer's openid belongs to its own order and to any other channel's order with the same
-- merchant order number (a store receipt paid by WeChat Pay)
pay_orders as (

    select
        pay.openid,
        pay.traded_at,
        orders.order_key as record_key,
        max(pay._loaded_at) as loaded_at
    from pay
    inner join orders
        on orders.source_order_id = pay.out_trade_no
    where pay.openid is not null
    group by pay.openid, pay.traded_at, orders.order_key

),

pay_identifiers as (

    select 'wechat_pay' as source, record_key, traded_at as seen_at, 'openid' as identifier_type, openid as raw_value, cast(null as {{ dbt.type_string() }}) as issue, loaded_at from pay_orders

),

-- a touch names one recipient: a node of the graph, never a link
touch_identifiers as (

    select
        'touches' as source,
        'touches:' || event_key as record_key,
        event_time as seen_at,
        case recipient_type
            when 'phone' then 'phone'
            when 'openid' then 'openid'
            when 'unionid' then 'unionid'
            when 'member_card' then 'member_card'
            when 'email' then 'email'
            else coalesce(recipient_type, 'unknown')
        end as identifier_type,
        recipient as raw_value,
        case
            when recipient_issue is not null then recipient_issue
            when recipient_type not in ('phone', 'openid', 'unionid', 'member_card', 'email') or recipient_type is null
                then 'unknown recipient_type'
        end as issue,
        _loaded_at as loaded_at
    from touches
    where recipient is not null or recipient_issue is not null

),

observations as (

    select * from order_identifiers
    union all
    select * from order_rejections
    union all
    select * from member_identifiers
    union all
    select * from pay_identifiers
    union all
    select * from touch_identifiers

),

checked as (

    select
        identifier_type,
        trim(raw_value) as identifier_value,
        source,
        record_key,
        seen_at,
        loaded_at,
        case
            when issue is not null then identifier_type || ' ' || issue
            when raw_value is null or trim(raw_value) = '' then identifier_type || ' empty'
            when instr(raw_value, '*') > 0 then identifier_type || ' masked'
            when identifier_type = 'phone' and not {{ regex_full_match('raw_value', '1[3-9][0-9]{9}') }}
                then 'phone not an 11-digit mainland mobile'
            {#- One comparison per blocked phone, evaluated on the phone rows the earlier whens left: DuckDB ran
                an `in (...)` list of them as a mark join over every observation (identity bench, 5.3M rows:
                the query 2.15 -> 1.99 s in process). #}
            {%- set blocked = var('identity_blocked_phones', []) %}
            {%- if blocked %}
            when identifier_type = 'phone' and (
                {%- for phone in blocked %}
                trim(raw_value) = {{ dbt.string_literal(dbt.escape_single_quotes(phone | string)) }}{% if not loop.last %} or{% endif %}
                {%- endfor %}
            )
                then 'phone blocked (merchant number)'
            {%- endif %}
            when identifier_type = 'email' and not {{ regex_full_match('raw_value', '[^@[:space:]]+@[^@[:space:]]+\\.[^@[:space:]]+') }}
                then 'email malformed'
            when identifier_type in ('openid', 'unionid', 'tmall_oaid') and {{ regex_contains('raw_value', '[[:space:]]') }}
                then identifier_type || ' contains whitespace'
        end as rejection_reason
    from observations

),

-- the key (identifier_type:identifier_value) is hashed here and not stored: int_identifiers derives it,
-- and a second high-cardinality text column per observation cost more to write than the rest of a row
final as (

    select
        case
            when rejection_reason is null then {{ identity_key_id("identifier_type || ':' || identifier_value") }}
        end as identifier_id,
        {{ identity_key_id('record_key') }} as record_id,
        identifier_type,
        identifier_value,
        {{ identifier_strength_rank('identifier_type') }} as strength_rank,
        source,
        record_key,
        seen_at,
        rejection_reason,
        cast(loaded_at as timestamp) as _source_loaded_at,
        {{ built_at() }} as _built_at,
        cast(null as timestamp) as retracted_at
    from checked

)

select * from final
