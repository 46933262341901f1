{#-
    One row per JD order line; order-level money (order_amount, settlement_amount, payable_amount)
    repeats on every line of an order as exported: count it once per order downstream.

    De-duplication: an order re-exported in several files is taken whole from the most recently loaded
    file that has it (its status is the latest known). Within one order the same SKU can legitimately
    appear on two lines, so a line is keyed by its position: (order_id, line_number).
-#}
{#- Every status the source registry knows (core/sources.py JD_STATUSES; tests/core/test_sources.py keeps
    the two equal): the JD back office's own words and the variants other export versions write. -#}
{%- set order_statuses = {
    '完成': 'completed',
    '已完成': 'completed',
    '已收货': 'completed',
    '已取消': 'cancelled',
    '取消': 'cancelled',
    '等待出库': 'paid',
    '正在出库': 'paid',
    '等待发货': 'paid',
    '等待确认收货': 'shipped',
    '锁定': 'locked',
    '暂停': 'locked',
    '等待付款': 'unpaid',
} -%}

with source as (
    select * from {{ source('raw', 'jd') }}
),

ranked as (
    select
        *,
        {{ latest_file_rank('order_id') }} as file_rank
    from source
),

deduplicated as (
    select
        *,
        row_number() over (partition by order_id order by _row_number) as line_number
    from ranked
    where file_rank = 1
),

renamed as (
    select
        order_id || ':' || cast(line_number as {{ dbt.type_string() }}) as order_line_key,
        cast(order_id as {{ dbt.type_string() }}) as order_id,
        cast(line_number as integer) as line_number,
        cast(sku_id as {{ dbt.type_string() }}) as sku_id,
        sku_name,
        cast(quantity as integer) as quantity,
        payment_method,
        cast(ordered_at as timestamp) as ordered_at,
        cast(jd_price as decimal(18, 2)) as jd_price,
        cast(order_amount as decimal(18, 2)) as order_amount,
        cast(settlement_amount as decimal(18, 2)) as settlement_amount,
        cast(payable_amount as decimal(18, 2)) as payable_amount,
        order_status,
        {{ map_native_value('order_status', order_statuses) }} as order_status_en,
        order_type,
        account,
        coalesce(account_masked, false) as account_masked,
        customer_name,
        customer_address,
        phone,
        coalesce(phone_masked, false) as phone_masked,
        phone_issue,
        cast(paid_at as timestamp) as paid_at,
        cast(completed_at as timestamp) as completed_at,
        shop_name,
        _file_name,
        _file_sha256,
        _row_number,
        _loaded_at
    from deduplicated
)

select * from renamed
