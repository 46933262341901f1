{{ config(schema='restricted') }}
{#-
    Restricted: the personal data behind a customer id (full phone, name, address, email), for the few
    processes allowed to contact a customer. BI-facing marts never join this table.
-#}

with

customer_identifiers as (

    select * from {{ ref('int_customer_identifiers') }}

),

record_customers as (

    select * from {{ ref('int_record_customers') }}

),

tmall as (

    select * from {{ ref('stg_tmall__orders') }}

),

jd as (

    select * from {{ ref('stg_jd__order_lines') }}

),

customers as (

    select distinct customer_id from customer_identifiers

),

phones as (

    select * from {{ ref('int_customer_primary_phone') }}

),

emails as (

    select
        customer_id,
        {{ max_by_row(identifier_value_of('identifier_key'), ['last_seen_at', 'identifier_key']) }} as email
    from customer_identifiers
    where identifier_type = 'email'
    group by customer_id

),

-- names and addresses the marketplaces ship to; the latest order's wins
addressed_orders as (

    select 'tmall:' || order_id as record_key, created_at as ordered_at, receiver_name as name, receiver_address as address
    from tmall
    where receiver_name is not null or receiver_address is not null
    union all
    select 'jd:' || order_id, min(ordered_at), max(customer_name), max(customer_address)
    from jd
    where customer_name is not null or customer_address is not null
    group by order_id

),

latest_address as (

    select
        record_customers.customer_id,
        {{ max_by_row('addressed_orders.name', ['addressed_orders.ordered_at', 'addressed_orders.record_key']) }} as name,
        {{ max_by_row('addressed_orders.address', ['addressed_orders.ordered_at', 'addressed_orders.record_key']) }} as address
    from addressed_orders
    inner join record_customers
        on record_customers.record_key = addressed_orders.record_key
    group by record_customers.customer_id

),

final as (

    select
        customers.customer_id,
        phones.phone,
        latest_address.name,
        latest_address.address,
        emails.email
    from customers
    left join phones on phones.customer_id = customers.customer_id
    left join emails on emails.customer_id = customers.customer_id
    left join latest_address on latest_address.customer_id = customers.customer_id

)

select * from final
