{#-
    Each customer's primary phone: the one seen on most records, then most recently (restricted layer).
    dim_customers hashes and masks it; customer_pii carries it in full: one rule, so both always agree.
-#}

with

customer_identifiers as (

    select * from {{ ref('int_customer_identifiers') }}

),

final as (

    select
        customer_id,
        {{ max_by_row(identifier_value_of('identifier_key'), ['record_count', 'last_seen_at', 'identifier_key']) }} as phone
    from customer_identifiers
    where identifier_type = 'phone'
    group by customer_id

)

select * from final
