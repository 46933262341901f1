{#-
    The customer of every source record (order, member row, payment, touch) that carries at least one
    resolvable identifier. All non-hub identifiers of one record share a component, hence one customer.
-#}

with

identifiers as (

    select * from {{ ref('int_identifiers') }}

),

customer_identifiers as (

    select * from {{ ref('int_customer_identifiers') }}

),

final as (

    select
        identifiers.record_key,
        min(customer_identifiers.customer_id) as customer_id,
        count(distinct customer_identifiers.customer_id) as customer_count
    from identifiers
    inner join customer_identifiers
        on customer_identifiers.identifier_key = identifiers.identifier_key
    group by identifiers.record_key

)

select * from final
