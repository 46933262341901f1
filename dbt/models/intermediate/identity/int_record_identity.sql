{#-
    The identity outcome of every source record that carried at least one identifier observation
    (usable or rejected): its customer when one resolves, else why not. identity_status:
      resolved              a usable identifier of the record belongs to a customer
      hub_only              every usable identifier is a hub (shared by many people, never identifies one)
      unusable_identifier   only rejected values (masked, placeholder, invalid...): rejection_reason says
                            which (the alphabetically first when several)
    A record absent from this model carried no identifier at all (consumers call it no_identifier).
    fct_orders and the touch events read this one rule; int_record_customers is its resolved rows.
-#}

with

-- every record with a usable identifier, and its customer (null when all of them are hubs; the
-- customer_count check: all non-hub identifiers of a record share a component, hence one customer)
identified as (

    select
        any_value(identifiers.record_key) as record_key,
        min(customer_identifiers.customer_id) as customer_id,
        count(distinct customer_identifiers.customer_id) as customer_count
    from {{ ref('int_identifiers') }} as identifiers
    left join {{ ref('int_customer_identifiers') }} as customer_identifiers
        on customer_identifiers.identifier_id = identifiers.identifier_id
    group by identifiers.record_id

),

rejected as (

    select
        record_key,
        min(rejection_reason) as rejection_reason
    from {{ ref('int_identifiers_rejected') }}
    group by record_key

),

final as (

    select
        coalesce(identified.record_key, rejected.record_key) as record_key,
        identified.customer_id,
        coalesce(identified.customer_count, 0) as customer_count,
        case
            when identified.customer_id is not null then 'resolved'
            when identified.record_key is not null then 'hub_only'
            else 'unusable_identifier'
        end as identity_status,
        case
            when identified.record_key is null then rejected.rejection_reason
        end as rejection_reason
    from identified
    full outer join rejected
        on rejected.record_key = identified.record_key

)

select * from final
