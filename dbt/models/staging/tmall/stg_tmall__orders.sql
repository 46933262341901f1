{#-
    One row per Tmall/Taobao order. An order re-exported in several files is taken from the most
    recently loaded file: its status and refund are the latest known.
-#}
{#- Every status the source registry knows (core/sources.py TMALL_STATUSES; tests/core/test_sources.py
    keeps the two equal), with the ASCII-comma spellings. -#}
{%- set order_statuses = {
    '交易成功': 'completed',
    '交易关闭': 'closed',
    '等待买家付款': 'unpaid',
    '买家已付款，等待卖家发货': 'paid',
    '买家已付款,等待卖家发货': 'paid',
    '卖家已发货，等待买家确认': 'shipped',
    '卖家已发货,等待买家确认': 'shipped',
    '卖家部分发货': 'shipped',
    '买家已付款': 'paid',
    '卖家已发货': 'shipped',
} -%}

with source as (
    select * from {{ source('raw', 'tmall') }}
),

ranked as (
    select
        *,
        row_number() over (
            partition by order_id
            order by _loaded_at desc, _file_name desc, _file_sha256 desc, _row_number desc
        ) as file_rank
    from source
),

renamed as (
    select
        cast(order_id as {{ dbt.type_string() }}) as order_id,
        buyer_nick,
        coalesce(buyer_nick_masked, false) as buyer_nick_masked,
        oaid,
        cast(goods_amount as decimal(18, 2)) as goods_amount,
        cast(shipping_fee as decimal(18, 2)) as shipping_fee,
        cast(total_amount as decimal(18, 2)) as total_amount,
        cast(paid_amount as decimal(18, 2)) as paid_amount,
        order_status,
        {{ map_native_value('order_status', order_statuses) }} as order_status_en,
        buyer_message,
        receiver_name,
        receiver_address,
        phone,
        coalesce(phone_masked, false) as phone_masked,
        phone_issue,
        cast(created_at as timestamp) as created_at,
        cast(paid_at as timestamp) as paid_at,
        item_title,
        cast(item_count as integer) as item_count,
        shop_name,
        cast(refund_amount as decimal(18, 2)) as refund_amount,
        close_reason,
        _file_name,
        _file_sha256,
        _row_number,
        _loaded_at
    from ranked
    where file_rank = 1
)

select * from renamed
