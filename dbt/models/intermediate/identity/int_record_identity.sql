{{ config(materialized='view') }}
{#-
    The identity outcome of every source record that carried at least one identifier observation
    (usable or rejected): its customer when one resolves, else why not. identity_status:
      resolved              a usable identifier of the record belongs to a customer
      hub_only              every usable identifier is a hub (shared by many people, never identifies one)
      unusable_identifier   only rejected values (masked, placeholder, invalid...): rejection_reason says
                            which (the alphabetically first when several)
    A record absent from this model carried no identifier at all (consumers call it no_identifier).
    fct_orders and the touch events read this one rule through int_record_identity_changes, which stores
    it (this model is a view: the changes model is its only reader, and a table of its own cost a 5.4M-row
    write a day at 1M people); int_record_customers is the resolved rows stored there.
    One pass over the observations, grouped by record_key (usable and rejected together), with the customer
    joined on the integer identifier_id. Grouped by the key itself, not by the integer record_id: the key
    is an output, and carrying it through an integer grouping (any_value of a 20-40 character string per
    group) cost twice the whole text grouping at 1M people (4.1 vs 2.0 s for 9.8M observations).
-#}

with

observations as (

    select record_key, identifier_id, rejection_reason
    from {{ ref('int_identifier_candidates') }}
    where not is_retracted

),

customer_identifiers as (

    select identifier_id, customer_id from {{ ref('int_customer_identifiers') }}

),

-- per record: its customer (null when every usable identifier is a hub; all non-hub identifiers of a
-- record share a component, hence one customer: customer_count says 2 when two of them disagree, which
-- its test rejects; min/max instead of a distinct count, which costs more than the rest of the model),
-- whether any identifier was usable, and the first reason a rejected one was dropped
records as (

    select
        observations.record_key,
        min(customer_identifiers.customer_id) as customer_id,
        max(customer_identifiers.customer_id) as last_customer_id,
        bool_or(observations.rejection_reason is null) as has_usable_identifier,
        min(observations.rejection_reason) as rejection_reason
    from observations
    left join customer_identifiers
        on customer_identifiers.identifier_id = observations.identifier_id
    group by observations.record_key

),

final as (

    select
        record_key,
        customer_id,
        case
            when customer_id is null then 0
            when customer_id = last_customer_id then 1
            else 2
        end as customer_count,
        case
            when customer_id is not null then 'resolved'
            when has_usable_identifier then 'hub_only'
            else 'unusable_identifier'
        end as identity_status,
        case
            when not has_usable_identifier then rejection_reason
        end as rejection_reason
    from records

)

select * from final
