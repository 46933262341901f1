{{
    config(
        materialized=incremental_materialization(),
        unique_key='order_key',
        incremental_strategy='delete+insert',
        on_schema_change='append_new_columns',
        post_hook="{{ delete_vanished_keys('order_key', ref('int_orders_unioned')) }}",
    )
}}

{#-
    One row per order of every channel with its customer (null when none of the order's identifiers
    resolves: such orders still count in channel revenue; identity_status says why). No personal
    identifiers here: phones, nicks, accounts and openids stay in intermediate / restricted tables.
-#}

with

orders as (

    select * from {{ ref('int_orders_unioned') }}

),

record_identity as (

    select * from {{ ref('int_record_identity') }}

),

final as (

    select
        orders.order_key,
        record_identity.customer_id,
        orders.channel,
        orders.shop_id,
        orders.shop_name,
        orders.source_order_id,
        orders.ordered_at,
        orders.paid_at,
        orders.order_status,
        orders.gross_amount,
        orders.refund_amount,
        orders.net_amount,
        orders.item_count,
        orders.is_purchase,
        coalesce(record_identity.identity_status, 'no_identifier') as identity_status,
        {{ built_at() }} as _built_at
    from orders
    left join record_identity
        on record_identity.record_key = orders.order_key

)

select * from final
{% if is_incremental() %}
-- Only new orders and orders that changed since the last run (see macros/incremental_changes.sql).
where {{ incremental_changed_rows('final', 'order_key') }}
{% endif %}
