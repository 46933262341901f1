{#-
    The identity outcome of every source record that carried at least one identifier observation
    (usable or rejected): its customer when one resolves, else why not. identity_status:
      resolved              a usable identifier of the record belongs to a customer
      hub_only              every usable identifier is a hub (shared by many people, never identifies one)
      unusable_identifier   only rejected values (masked, placeholder, invalid...): rejection_reason says
                            which (the alphabetically first when several)
    A record absent from this model carried no identifier at all (consumers call it no_identifier).
    fct_orders and the touch events read this one rule.
-#}

with

identified as (

    select record_key from {{ ref('int_identifiers') }}
    group by record_key

),

rejected as (

    select
        record_key,
        min(rejection_reason) as rejection_reason
    from {{ ref('int_identifiers_rejected') }}
    group by record_key

),

record_customers as (

    select record_key, customer_id from {{ ref('int_record_customers') }}

),

records as (

    select record_key from identified
    union
    select record_key from rejected

),

final as (

    select
        records.record_key,
        record_customers.customer_id,
        case
            when record_customers.customer_id is not null then 'resolved'
            when identified.record_key is not null then 'hub_only'
            else 'unusable_identifier'
        end as identity_status,
        case
            when identified.record_key is null then rejected.rejection_reason
        end as rejection_reason
    from records
    left join identified
        on identified.record_key = records.record_key
    left join rejected
        on rejected.record_key = records.record_key
    left join record_customers
        on record_customers.record_key = records.record_key

)

select * from final
