{#- One row per purchase (fct_orders.is_purchase) on or before as_of, with the customer's purchase
    sequence. Purchase day = date of ordered_at (Beijing time). Unresolved customers (customer_id null)
    are kept for order and revenue totals; their sequence columns are null. -#}

with

orders as (

    select * from {{ ref('fct_orders') }}

),

as_of as (

    select as_of_date from {{ ref('repurchase_as_of') }}

),

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

),

sequenced as (

    select
        purchases.*,
        case when customer_id is not null then
            row_number() over (partition by customer_id order by ordered_at, order_key)
        end as customer_purchase_seq,
        case when customer_id is not null then
            min(purchase_date) over (partition by customer_id)
        end as first_purchase_date
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
        cast(first_purchase_date as date) as first_purchase_date
    from sequenced

)

select * from final
