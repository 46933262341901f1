{#- One row per purchase (fct_orders.is_purchase) on or before as_of, with the customer's purchase
    sequence. Purchase day = date of ordered_at (Beijing time). Unresolved customers (customer_id null)
    are kept for order and revenue totals; their sequence columns are null.

    Incremental (DECISIONLOG "Customer state is a model"): a customer's rows depend on their purchases
    only, so a build recomputes the purchases of the customers with an order fct_orders wrote since this
    model's newest `_built_at`, or whose purchases changed since (int_customer_order_state: an order moved
    away or vanished), plus the unresolved purchases fct_orders wrote since; orders dated after the last
    build's as_of come in with their customers; everything when there is no earlier build or as_of moved
    back. delete+insert on order_key; purchases that are no longer purchases up to as_of are deleted
    (post-hook). Equals a full rebuild, bookkeeping aside. -#}
{{
    config(
        materialized=incremental_materialization(),
        unique_key='order_key',
        incremental_strategy='delete+insert',
        on_schema_change='fail',
        post_hook="{{ delete_vanished_keys('order_key', ref('fct_orders'), 'is_purchase and cast(ordered_at as date) <= ' ~ marts_as_of(), counted=true) }}",
    )
}}

-- depends_on: {{ ref('int_customer_order_state') }}

with

orders as (

    select * from {{ ref('fct_orders') }}

),

as_of as (

    select as_of_date from {{ ref('repurchase_as_of') }}

),

{% if is_incremental() %}
previous_build as (

    {{ customer_state_previous_build() }}

),

-- the orders written, or brought into scope by the later as_of, since the last build
changed_orders as (

    select orders.order_key, orders.customer_id
    from orders
    cross join previous_build
    cross join as_of
    where orders.is_purchase
        and cast(orders.ordered_at as date) <= as_of.as_of_date
        and (
            previous_build.recompute_all
            or orders._built_at > previous_build.built_at
            or cast(orders.ordered_at as date) > previous_build.as_of_date
        )

),

recomputed_customers as (

    select customer_id from changed_orders where customer_id is not null
    union
    select state.customer_id
    from {{ ref('int_customer_order_state') }} as state
    cross join previous_build
    cross join ({{ customer_state_as_of_check() }}) as state_check
    where state_check.state_as_of is not null
        and state.purchases_changed_at > previous_build.built_at

),

{% endif %}
purchases as (

    select
        orders.order_key,
        orders.customer_id,
        orders.channel,
        orders.shop_id,
        orders.ordered_at,
        cast(orders.ordered_at as date) as purchase_date,
        orders.net_amount
    from orders
    cross join as_of
    where orders.is_purchase
        and cast(orders.ordered_at as date) <= as_of.as_of_date
    {% if is_incremental() %}
        and (
            orders.customer_id in (select customer_id from recomputed_customers)
            or (
                orders.customer_id is null
                and orders.order_key in (select order_key from changed_orders where customer_id is null)
            )
        )
    {% endif %}

),

sequenced as (

    select
        purchases.*,
        case when customer_id is not null then
            row_number() over (partition by customer_id order by ordered_at, order_key)
        end as customer_purchase_seq,
        case when customer_id is not null then
            min(purchase_date) over (partition by customer_id)
        end as first_purchase_date,
        case when customer_id is not null then
            lag(purchase_date) over (partition by customer_id order by ordered_at, order_key)
        end as previous_purchase_date
    from purchases

),

final as (

    select
        cast(order_key as {{ dbt.type_string() }}) as order_key,
        cast(customer_id as {{ dbt.type_string() }}) as customer_id,
        cast(channel as {{ dbt.type_string() }}) as channel,
        cast(shop_id as {{ dbt.type_string() }}) as shop_id,
        cast(ordered_at as timestamp) as ordered_at,
        cast(purchase_date as date) as purchase_date,
        cast(net_amount as decimal(18, 2)) as net_amount,
        cast(customer_purchase_seq as integer) as customer_purchase_seq,
        cast(first_purchase_date as date) as first_purchase_date,
        cast(previous_purchase_date as date) as previous_purchase_date,
        cast({{ row_fingerprint(['order_key', 'customer_id', 'channel', 'shop_id', 'ordered_at', 'purchase_date',
                                 'net_amount', 'customer_purchase_seq', 'first_purchase_date',
                                 'previous_purchase_date']) }} as decimal(20, 0))
            as _row_fingerprint,
        {{ built_at() }} as _built_at,
        cast(as_of.as_of_date as date) as _built_as_of
    from sequenced
    cross join as_of

)

select * from final
