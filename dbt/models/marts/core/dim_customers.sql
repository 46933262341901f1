{{
    config(
        materialized=incremental_materialization(),
        unique_key='customer_id',
        incremental_strategy='delete+insert',
        on_schema_change='append_new_columns',
        post_hook="{{ delete_vanished_keys(['customer_id'], ref('int_customer_identifiers'), counted=true) }}",
    )
}}
{#-
    Customer 360: one row per resolved customer. The phone appears only as a salted hash and a masked
    display form; the member export gives card, tier, points, tags, follow status and consents.
    Orders, purchases and spend count orders dated on or before as_of; net_spend follows the one net-spend
    rule (macros/marts_net_spend.sql: every order's net_amount, returns included, floored at 0). A
    customer whose orders were all refunded keeps their row (net_spend 0, purchase_count 0).

    Incremental (DECISIONLOG "The customer profile marts rewrite the customers a day changed"): nothing
    here depends on as_of except the order totals, which int_customer_order_state keeps per customer. A
    row is a function of the customer's identifiers (count, first sighting, cards, the primary phone's
    sightings), order state and member rows, and of the hash key. So a build recomputes only the customers
    changed_customers names (their state rewritten or dropped, a record of theirs derived again, their
    identifiers changed in number or first sighting) and replaces their rows (delete+insert on
    customer_id); a customer without an identifier any more loses the row (post-hook). Everyone when no
    row is stamped yet or the hash key changed. It equals a full rebuild, bookkeeping aside
    (tests/dbt/marts/test_incremental_customer_profile.py).
-#}

-- depends_on: {{ ref('customer_identifier_map') }}
-- depends_on: {{ ref('int_identifiers') }}

with

-- read again by each use (cte_not_materialized): materialized, every column of every identifier was
-- copied first (0.4 s at 1M people)
customer_identifiers as {{ cte_not_materialized() }} (

    select * from {{ ref('int_customer_identifiers') }}

),

{#- The customer's order totals (net spend, channels, purchases, preferred channel and store) are kept
    per customer by int_customer_order_state, which recomputes only the customers whose orders changed; it
    must have been built for this as_of (customer_state_as_of_check: a selection that left it out stops the
    build instead of showing another day's totals). -#}
order_state as (

    select state.*
    from {{ ref('int_customer_order_state') }} as state
    cross join ({{ customer_state_as_of_check() }}) as state_check
    where state_check.state_as_of is not null

),

members as (

    select * from {{ ref('stg_wechat_members__members') }}

),

record_customers as (

    select * from {{ ref('int_record_customers') }}

),

-- every customer's identifier count and first sighting
identifier_totals as (

    select
        customer_id,
        count(*) as identifier_count,
        min(first_seen_at) as first_seen_at
    from customer_identifiers
    group by customer_id

),

{#- The build's customers: everyone on a full build; on an incremental one, those whose row can differ
    from the stored one (each part of changed_customers names the input change it covers; a superset only
    costs time). The per-customer inputs below are read for those customers only. -#}
{%- set scoped = is_incremental() and stored_rows_are_stamped() %}
-- The hash key's fingerprint, stored on every row: rows hashed with another key (a rotated secret) are
-- not reused.
settings as (

    select {{ pii_hash("'dim_customers'") }} as key_check

),
{% if scoped %}
previous_build as (

    select
        max(stored._built_at) as built_at,
        max(stored._built_at) is null or bool_or(stored._built_settings is distinct from settings.key_check)
            as recompute_all
    from {{ this }} as stored
    cross join settings

),

changed_customers as (

    -- order totals the state rewrote since (a new or changed order, an order an identity change moved,
    -- the later as_of's orders)
    select state.customer_id
    from order_state as state
    cross join previous_build
    where state._built_at > previous_build.built_at

    union

    -- order totals the state dropped (no order on or before as_of any more: an as_of moved back, an
    -- order that vanished)
    select stored.customer_id
    from {{ this }} as stored
    left join order_state as state
        on state.customer_id = stored.customer_id
    where state.customer_id is null
        and (
            stored.channels is not null or stored.channel_count <> 0 or stored.purchase_count <> 0
            or stored.net_spend <> 0 or stored.first_purchase_at is not null or stored.last_purchase_at is not null
            or stored.first_channel is not null or stored.preferred_channel is not null
            or stored.preferred_store is not null
        )

    union

    -- records derived again since (a re-exported member row or order: its card, tier, consents, phone or
    -- its identifiers' sightings may differ), through the map, whose row outlives a node that became a hub
    select id_map.customer_id
    from {{ ref('int_identifiers') }} as observations
    inner join {{ ref('customer_identifier_map') }} as id_map
        on id_map.identifier_id = observations.identifier_id
    cross join previous_build
    where observations._built_at > previous_build.built_at

    union

    -- a customer who is new, or whose identifiers differ in number or first sighting from the stored row:
    -- both sides of a merge or a split, a new identifier, one that vanished or turned hub, and one that
    -- turned node again inside the customer whose map row it kept (which no stamp names)
    select identifier_totals.customer_id
    from identifier_totals
    left join {{ this }} as stored
        on stored.customer_id = identifier_totals.customer_id
    where stored.customer_id is null
        or stored.identifier_count <> identifier_totals.identifier_count
        or stored.first_seen_at is distinct from identifier_totals.first_seen_at

),

{% endif %}
-- the customers of the build
customers as (

    select identifier_totals.*
    from identifier_totals
    {%- if scoped %}
    cross join previous_build
    where previous_build.recompute_all
        or identifier_totals.customer_id in (select customer_id from changed_customers)
    {%- endif %}

),

primary_phone as (

    select * from {{ ref('int_customer_primary_phone') }}
    {%- if scoped %}
    where customer_id in (select customer_id from customers)
    {%- endif %}

),

member_rows as (

    select
        record_customers.customer_id,
        members.*
    from members
    inner join record_customers
        on record_customers.record_key = {{ member_record_key('members.app_id', 'members.openid') }}
    {%- if scoped %}
    where record_customers.customer_id in (select customer_id from customers)
    {%- endif %}

),

-- the member row that carries the card (then the latest registered) speaks for card, tier, points, tags
member_profile as (

    select
        customer_id,
        member_card,
        member_level,
        points,
        tags
    from (
        select
            *,
            row_number() over (
                partition by customer_id
                order by member_card is null, registered_at desc nulls last, openid
            ) as profile_rank
        from member_rows
    ) as ranked
    where profile_rank = 1

),

member_flags as (

    select
        customer_id,
        case
            when bool_or(follow_status_en = 'subscribed') then 'subscribed'
            when bool_or(follow_status_en = 'unsubscribed') then 'unsubscribed'
        end as wechat_follow_status,
        bool_or(coalesce(sms_consent, false)) as sms_consent,
        bool_or(coalesce(wecom_friend, false)) as wecom_friend,
        -- the latest registered member row that states a birthday
        max_by(birth_month_day, registered_at) filter (where birth_month_day is not null) as birth_month_day,
        max_by(birth_year, registered_at) filter (where birth_month_day is not null) as birth_year
    from member_rows
    group by customer_id

),

-- a card seen only on orders (no member row) still identifies the member
any_card as (

    select customer_id, min({{ identifier_value_of('identifier_key') }}) as member_card
    from customer_identifiers
    where identifier_type = 'member_card'
    {%- if scoped %}
        and customer_id in (select customer_id from customers)
    {%- endif %}
    group by customer_id

),

final as (

    select
        customers.customer_id,
        case when primary_phone.phone is not null then {{ pii_hash('primary_phone.phone') }} end as phone_hash,
        {{ mask_identifier("'phone'", 'primary_phone.phone') }} as phone_masked,
        order_state.channels,
        cast(coalesce(order_state.channel_count, 0) as integer) as channel_count,
        cast(customers.identifier_count as integer) as identifier_count,
        customers.first_seen_at,
        order_state.first_purchase_at,
        order_state.last_purchase_at,
        cast(coalesce(order_state.purchase_count, 0) as integer) as purchase_count,
        cast(coalesce(order_state.net_spend, 0) as decimal(18, 2)) as net_spend,
        {{ decimal_from_double(
            'case when order_state.purchase_count > 0
                then order_state.net_spend / cast(order_state.purchase_count as double)
            end', 18, 2
        ) }} as average_order_value,
        order_state.first_channel,
        order_state.preferred_channel,
        order_state.preferred_store,
        member_flags.wechat_follow_status,
        coalesce(member_profile.member_card, any_card.member_card) as member_card,
        {{ mask_member_card('coalesce(member_profile.member_card, any_card.member_card)') }}
            as member_card_masked,
        member_profile.member_level,
        member_profile.points,
        member_profile.tags,
        coalesce(member_flags.sms_consent, false) as sms_consent,
        coalesce(member_flags.wecom_friend, false) as wecom_friend,
        member_flags.birth_month_day,
        member_flags.birth_year,
        {{ built_at() }} as _built_at,
        settings.key_check as _built_settings
    from customers
    cross join settings
    left join primary_phone on primary_phone.customer_id = customers.customer_id
    left join order_state on order_state.customer_id = customers.customer_id
    left join member_profile on member_profile.customer_id = customers.customer_id
    left join member_flags on member_flags.customer_id = customers.customer_id
    left join any_card on any_card.customer_id = customers.customer_id

)

select * from final
