{{
    config(
        materialized=incremental_materialization(),
        incremental_strategy='append',
        on_schema_change='fail',
        pre_hook=[
            "{{ orders_incremental_prepare(order_channels() | map(attribute='channel') | list) }}",
            "{{ orders_incremental_delete('source_order_id') }}",
            "{{ orders_incremental_scope(order_channels() | map(attribute='channel') | list) }}",
        ],
        post_hook="{{ orders_incremental_cleanup(order_channels() | map(attribute='channel') | list) }}",
    )
}}

{#-
    One row per order across every sales channel, with money netted and the order's identifiers.

    pos     a receipt is an order; gross = its sale lines' paid_amount. A return receipt (退货) nets against
            its original receipt (refund_amount); a return whose original is not in the data stays as its
            own row (status returned, gross 0, net negative) so channel revenue stays right.
    tmall   one row per order as exported; gross = paid_amount (买家实际支付金额) when paid, else 0;
            refund_amount = 退款金额.
    jd      order-level money repeats on each line: taken once per order (payable_amount, 应付金额).
            Paid = 付款确认时间 present or status paid/shipped/completed; 锁定 (locked) after payment stays a
            purchase; 已取消 after payment is refunded in full (the export has no refund column).
    wechat  a SUCCESS bill line is an order (out_trade_no), gross = 订单金额 (order_amount: the order's
            value; 应结订单金额 settlement_amount is that minus the 代金券 coupon, what the merchant settles,
            so using it would count coupon-paid orders short); REFUND lines net against their out_trade_no;
            REVOKED payments are not purchases; a refund whose payment is not in the data stays as its own
            row (status refunded, gross 0, net negative).

    Every channel: net_amount = gross_amount - refund_amount, and is_purchase = paid and not fully
    refunded. Non-purchases have gross 0 unless money was paid (then refund = gross), so the sum of
    net_amount over all rows is the channel's net revenue.
    phone is the full normalised phone, null when the export masked it or the loader flagged it.
    source_status is the status staging mapped from the export, before netting (POS receipt type, Tmall and
    JD order status, WeChat Pay: `unknown` when a line's trade state is not mapped, else success / revoked
    / refund by the order's lines): the staging views' status tests are tested here, on the rows each
    build wrote (_orders__models.yml).

    Incremental (macros/orders_incremental.sql): a run recomputes only the orders whose export rows were
    loaded after the table's newest _source_loaded_at (per channel), plus the POS receipts linked to them
    by a return, and equals a full rebuild. _source_loaded_at = the newest _loaded_at of the staging rows
    the order was built from (a POS sale's own lines and the returns netted against it).
-#}

with pos_lines as (
    select * from {{ ref('stg_pos__receipt_lines') }}
    {%- if is_incremental() %}
    where {{ orders_incremental_reads('pos', 'receipt_no') }}
    {%- endif %}
),

tmall_orders as (
    select * from {{ ref('stg_tmall__orders') }}
    {%- if is_incremental() %}
    where {{ orders_incremental_reads('tmall', 'order_id') }}
    {%- endif %}
),

jd_lines as (
    select * from {{ ref('stg_jd__order_lines') }}
    {%- if is_incremental() %}
    where {{ orders_incremental_reads('jd', 'order_id') }}
    {%- endif %}
),

wechat_pay_lines as (
    select * from {{ ref('stg_wechat_pay__transactions') }}
    {%- if is_incremental() %}
    where {{ orders_incremental_reads('wechat', 'out_trade_no') }}
    {%- endif %}
),

-- pos ----------------------------------------------------------------------------------------------
pos_receipts as (
    select
        receipt_no,
        case
            when min(receipt_type_en) = max(receipt_type_en) then min(receipt_type_en)
            else 'unknown'
        end as receipt_type_en,
        max(original_receipt_no) as original_receipt_no,
        max(store_code) as store_code,
        max(store_name) as store_name,
        min(sold_at) as sold_at,
        sum(paid_amount) as paid_amount,
        sum(abs(paid_amount)) as returned_amount,
        sum(quantity) as quantity,
        max(member_card) as member_card,
        max(case when phone_issue is null and not phone_masked then phone end) as phone,
        max(_loaded_at) as source_loaded_at
    from pos_lines
    group by receipt_no
),

pos_sales as (
    select * from pos_receipts
    where receipt_type_en <> 'return'
),

pos_returns as (
    select
        pos_receipts.*,
        pos_sales.receipt_no as matched_receipt_no
    from pos_receipts
    left join pos_sales
        on pos_receipts.original_receipt_no = pos_sales.receipt_no
    where pos_receipts.receipt_type_en = 'return'
),

pos_returned_by_original as (
    select
        matched_receipt_no as receipt_no,
        sum(returned_amount) as refund_amount,
        max(source_loaded_at) as returns_loaded_at
    from pos_returns
    where matched_receipt_no is not null
    group by matched_receipt_no
),

pos_sale_orders as (
    select
        pos_sales.receipt_no as source_order_id,
        pos_sales.store_code as shop_id,
        pos_sales.store_name as shop_name,
        pos_sales.sold_at as ordered_at,
        pos_sales.sold_at as paid_at,
        pos_sales.receipt_type_en,
        pos_sales.receipt_type_en as source_status,
        pos_sales.paid_amount as gross_amount,
        coalesce(pos_returned_by_original.refund_amount, 0) as refund_amount,
        pos_sales.quantity as item_count,
        pos_sales.phone,
        pos_sales.member_card,
        greatest(
            pos_sales.source_loaded_at,
            coalesce(pos_returned_by_original.returns_loaded_at, pos_sales.source_loaded_at)
        ) as source_loaded_at
    from pos_sales
    left join pos_returned_by_original
        on pos_sales.receipt_no = pos_returned_by_original.receipt_no
),

pos_orders as (
    select
        'pos' as channel,
        shop_id,
        shop_name,
        source_order_id,
        ordered_at,
        paid_at,
        case
            when receipt_type_en <> 'sale' then 'unknown'
            when refund_amount > 0 and refund_amount >= gross_amount then 'returned'
            else 'completed'
        end as order_status,
        source_status,
        gross_amount,
        refund_amount,
        item_count,
        receipt_type_en = 'sale' and not (refund_amount > 0 and refund_amount >= gross_amount)
            as is_purchase,
        phone,
        member_card,
        cast(null as {{ dbt.type_string() }}) as buyer_nick,
        cast(null as {{ dbt.type_string() }}) as oaid,
        cast(null as {{ dbt.type_string() }}) as jd_account,
        cast(null as {{ dbt.type_string() }}) as openid,
        cast(null as {{ dbt.type_string() }}) as app_id,
        source_loaded_at
    from pos_sale_orders

    union all

    select
        'pos' as channel,
        store_code as shop_id,
        store_name as shop_name,
        receipt_no as source_order_id,
        sold_at as ordered_at,
        sold_at as paid_at,
        'returned' as order_status,
        receipt_type_en as source_status,
        0 as gross_amount,
        returned_amount as refund_amount,
        quantity as item_count,
        false as is_purchase,
        phone,
        member_card,
        cast(null as {{ dbt.type_string() }}) as buyer_nick,
        cast(null as {{ dbt.type_string() }}) as oaid,
        cast(null as {{ dbt.type_string() }}) as jd_account,
        cast(null as {{ dbt.type_string() }}) as openid,
        cast(null as {{ dbt.type_string() }}) as app_id,
        source_loaded_at
    from pos_returns
    where matched_receipt_no is null
),

-- tmall --------------------------------------------------------------------------------------------
tmall_paid as (
    select
        *,
        paid_at is not null
        or order_status_en in ('paid', 'shipped', 'completed')
        or (order_status_en = 'closed' and coalesce(refund_amount, 0) > 0) as was_paid
    from tmall_orders
),

tmall_netted as (
    select
        *,
        case when was_paid then coalesce(paid_amount, 0) else 0 end as order_gross,
        case when was_paid then coalesce(refund_amount, 0) else 0 end as order_refund
    from tmall_paid
),

tmall_flagged as (
    select
        *,
        order_refund > 0 and order_refund >= order_gross as fully_refunded
    from tmall_netted
),

tmall_unioned as (
    select
        'tmall' as channel,
        shop_name as shop_id,
        shop_name,
        order_id as source_order_id,
        created_at as ordered_at,
        paid_at,
        case
            when order_status_en = 'unknown' then 'unknown'
            when fully_refunded then 'refunded'
            when order_status_en = 'closed' and not was_paid then 'cancelled'
            else order_status_en
        end as order_status,
        order_status_en as source_status,
        order_gross as gross_amount,
        order_refund as refund_amount,
        item_count,
        was_paid and not fully_refunded and order_status_en <> 'unknown' as is_purchase,
        case when phone_issue is null and not phone_masked then phone end as phone,
        cast(null as {{ dbt.type_string() }}) as member_card,
        buyer_nick,
        oaid,
        cast(null as {{ dbt.type_string() }}) as jd_account,
        cast(null as {{ dbt.type_string() }}) as openid,
        cast(null as {{ dbt.type_string() }}) as app_id,
        _loaded_at as source_loaded_at
    from tmall_flagged
),

-- jd -----------------------------------------------------------------------------------------------
jd_orders as (
    select
        order_id,
        max(shop_name) as shop_name,
        min(ordered_at) as ordered_at,
        max(paid_at) as paid_at,
        max(order_status_en) as order_status_en,
        -- order-level money repeats on every line: take it once, never sum it over lines
        max(payable_amount) as order_paid_amount,
        sum(quantity) as item_count,
        max(case when phone_issue is null and not phone_masked then phone end) as phone,
        max(account) as jd_account,
        max(_loaded_at) as source_loaded_at
    from jd_lines
    group by order_id
),

jd_paid as (
    select
        *,
        paid_at is not null or order_status_en in ('paid', 'shipped', 'completed') as was_paid
    from jd_orders
),

jd_unioned as (
    select
        'jd' as channel,
        shop_name as shop_id,
        shop_name,
        order_id as source_order_id,
        ordered_at,
        paid_at,
        case
            when order_status_en = 'cancelled' and was_paid then 'refunded'
            else order_status_en
        end as order_status,
        order_status_en as source_status,
        case when was_paid then order_paid_amount else 0 end as gross_amount,
        -- the export has no refund column: an order cancelled after payment was refunded in full
        case when was_paid and order_status_en = 'cancelled' then order_paid_amount else 0 end
            as refund_amount,
        item_count,
        was_paid and order_status_en not in ('cancelled', 'unknown') as is_purchase,
        phone,
        cast(null as {{ dbt.type_string() }}) as member_card,
        cast(null as {{ dbt.type_string() }}) as buyer_nick,
        cast(null as {{ dbt.type_string() }}) as oaid,
        jd_account,
        cast(null as {{ dbt.type_string() }}) as openid,
        cast(null as {{ dbt.type_string() }}) as app_id,
        source_loaded_at
    from jd_paid
),

-- wechat pay ---------------------------------------------------------------------------------------
wechat_trades as (
    select
        out_trade_no,
        max(case when trade_state_en = 'success' then 1 else 0 end) = 1 as has_payment,
        max(case when trade_state_en = 'revoked' then 1 else 0 end) = 1 as has_revocation,
        max(case when trade_state_en not in ('success', 'refund', 'revoked') then 1 else 0 end) = 1
            as has_unknown_state,
        sum(case when trade_state_en = 'success' then order_amount else 0 end) as paid_amount,
        sum(case when trade_state_en = 'refund' then abs(refund_amount) else 0 end) as refunded_amount,
        min(case when trade_state_en = 'success' then traded_at end) as paid_at,
        min(traded_at) as first_traded_at,
        max(coalesce(mch_id, app_id)) as shop_id,
        max(openid) as openid,
        max(app_id) as app_id,
        max(_loaded_at) as source_loaded_at
    from wechat_pay_lines
    group by out_trade_no
),

wechat_unioned as (
    select
        'wechat' as channel,
        shop_id,
        cast(null as {{ dbt.type_string() }}) as shop_name,
        out_trade_no as source_order_id,
        coalesce(paid_at, first_traded_at) as ordered_at,
        paid_at,
        case
            when has_payment and refunded_amount > 0 and refunded_amount >= paid_amount then 'refunded'
            when has_payment then 'completed'
            when has_revocation then 'revoked'
            when refunded_amount > 0 then 'refunded'
            else 'unknown'
        end as order_status,
        case
            when has_unknown_state then 'unknown'
            when has_payment then 'success'
            when has_revocation then 'revoked'
            else 'refund'
        end as source_status,
        case when has_payment then paid_amount else 0 end as gross_amount,
        refunded_amount as refund_amount,
        cast(null as integer) as item_count,
        has_payment and not has_unknown_state
        and not (refunded_amount > 0 and refunded_amount >= paid_amount) as is_purchase,
        cast(null as {{ dbt.type_string() }}) as phone,
        cast(null as {{ dbt.type_string() }}) as member_card,
        cast(null as {{ dbt.type_string() }}) as buyer_nick,
        cast(null as {{ dbt.type_string() }}) as oaid,
        cast(null as {{ dbt.type_string() }}) as jd_account,
        openid,
        app_id,
        source_loaded_at
    from wechat_trades
),

-- all channels -------------------------------------------------------------------------------------
unioned as (
    select * from pos_orders
    union all
    select * from tmall_unioned
    union all
    select * from jd_unioned
    union all
    select * from wechat_unioned
),

final as (
    select
        channel || ':' || source_order_id as order_key,
        channel,
        shop_id,
        shop_name,
        source_order_id,
        cast(ordered_at as timestamp) as ordered_at,
        cast(paid_at as timestamp) as paid_at,
        order_status,
        source_status,
        cast(gross_amount as decimal(18, 2)) as gross_amount,
        cast(refund_amount as decimal(18, 2)) as refund_amount,
        cast(gross_amount - refund_amount as decimal(18, 2)) as net_amount,
        cast(item_count as integer) as item_count,
        is_purchase,
        phone,
        member_card,
        buyer_nick,
        oaid,
        jd_account,
        openid,
        app_id,
        cast(source_loaded_at as timestamp) as _source_loaded_at,
        {{ built_at() }} as _built_at
    from unioned
)

select * from final
{%- if is_incremental() %}
-- only the affected orders (the pre-hooks deleted their rows)
where {{ orders_incremental_writes('source_order_id') }}
{%- endif %}
