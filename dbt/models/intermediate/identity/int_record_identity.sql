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
    group) cost twice the whole text grouping at 1M people (4.1 vs 2.0 s for 9.8M observations). The rule
    is macros/identity_graph_incremental.sql (record_identity_outcomes): int_record_identity_changes
    applies it to a day's affected records only.
-#}

with

observations as (

    select record_key, identifier_id, rejection_reason
    from {{ ref('int_identifier_candidates') }}
    where retracted_at is null

),

final as (

    {{ record_identity_outcomes('observations', ref('int_customer_identifiers')) }}

)

select * from final
