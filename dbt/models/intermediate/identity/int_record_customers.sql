{#-
    The customer of every source record (order, member row, payment, touch) that carries at least one
    resolvable identifier. All non-hub identifiers of one record share a component, hence one customer.
-#}

with

identifiers as (

    select identifier_id, record_id, record_key from {{ ref('int_identifiers') }}

),

customer_identifiers as (

    select identifier_id, customer_id from {{ ref('int_customer_identifiers') }}

),

final as (

    select
        any_value(identifiers.record_key) as record_key,
        min(customer_identifiers.customer_id) as customer_id,
        count(distinct customer_identifiers.customer_id) as customer_count
    from identifiers
    inner join customer_identifiers
        on customer_identifiers.identifier_id = identifiers.identifier_id
    group by identifiers.record_id

)

select * from final
