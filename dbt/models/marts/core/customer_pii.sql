{{
    config(
        schema='restricted',
        materialized=incremental_materialization(),
        unique_key='customer_id',
        incremental_strategy='delete+insert',
        on_schema_change='append_new_columns',
        pre_hook="{{ customer_pii_bind_order_ids(is_incremental() and stored_rows_are_stamped()) }}",
        post_hook=[
            "{{ delete_vanished_keys('customer_id', ref('dim_customers'), counted=true) }}",
            "{{ customer_pii_reset_order_ids(is_incremental() and stored_rows_are_stamped()) }}",
        ],
    )
}}
{#-
    Restricted: the personal data behind a customer id (full phone, name, address, email), for the few
    processes allowed to contact a customer. BI-facing marts never join this table.

    Incremental: its inputs (the customer's identifiers and their sightings, the marketplace orders'
    names and addresses) change only for customers dim_customers recomputes, so a build recomputes the
    customers dim_customers rewrote since this model's last build; a customer dim_customers no longer has
    loses the row (post-hook: one row per dim_customers row, so the delete runs only when this table has
    more rows than dim_customers, `counted`). The marketplace staging views are read for those customers'
    orders only (a key list the pre-hook binds, macros/incremental_key_lists.sql). Equals a full rebuild,
    bookkeeping aside.
-#}
{%- set scoped = is_incremental() and stored_rows_are_stamped() %}

-- depends_on: {{ ref('dim_customers') }}

with

customer_identifiers as (

    select * from {{ ref('int_customer_identifiers') }}

),

record_customers as (

    select * from {{ ref('int_record_customers') }}

),

tmall as (

    select * from {{ ref('stg_tmall__orders') }}
    {%- if scoped %}
    where {{ key_list_contains(customer_pii_order_ids_variable('tmall'), 'order_id') }}
    {%- endif %}

),

jd as (

    select * from {{ ref('stg_jd__order_lines') }}
    {%- if scoped %}
    where {{ key_list_contains(customer_pii_order_ids_variable('jd'), 'order_id') }}
    {%- endif %}

),

{% if scoped %}
customers as (

    {{ customer_pii_recomputed_customers() }}

),
{% else %}
customers as (

    select distinct customer_id from customer_identifiers

),
{% endif %}

phones as (

    select * from {{ ref('int_customer_primary_phone') }}
    {%- if scoped %}
    where customer_id in (select customer_id from customers)
    {%- endif %}

),

emails as (

    select
        customer_id,
        {{ max_by_row(identifier_value_of('identifier_key'), ['last_seen_at', 'identifier_key']) }} as email
    from customer_identifiers
    where identifier_type = 'email'
    {%- if scoped %}
        and customer_id in (select customer_id from customers)
    {%- endif %}
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
    {%- if scoped %}
    where record_customers.customer_id in (select customer_id from customers)
    {%- endif %}
    group by record_customers.customer_id

),

final as (

    select
        customers.customer_id,
        phones.phone,
        latest_address.name,
        latest_address.address,
        emails.email,
        {{ built_at() }} as _built_at
    from customers
    left join phones on phones.customer_id = customers.customer_id
    left join emails on emails.customer_id = customers.customer_id
    left join latest_address on latest_address.customer_id = customers.customer_id

)

select * from final
