{#-
    The identity graph's nodes: every usable identifier value that is not a hub, on its integer id. The key
    (type:value) is not carried: customer_identifier_map keeps it for every identifier it has mapped and
    looks up only the new ones, and int_customer_identifiers reads it from the map. Carrying the value
    through this grouping (any_value of a string per node) and writing it cost 0.7 of the model's 1.6 s
    at 1M people (9.2M observations, in process).
-#}

with

identifiers as (

    select identifier_id, identifier_type, strength_rank, seen_at
    from {{ ref('int_identifiers') }}

),

hubs as (

    select identifier_id from {{ ref('int_identity_hubs') }}

),

final as (

    select
        identifiers.identifier_id,
        any_value(identifiers.identifier_type) as identifier_type,
        min(identifiers.strength_rank) as strength_rank,
        min(identifiers.seen_at) as first_seen_at,
        max(identifiers.seen_at) as last_seen_at,
        count(*) as record_count
    from identifiers
    left join hubs
        on hubs.identifier_id = identifiers.identifier_id
    where hubs.identifier_id is null
    group by identifiers.identifier_id

)

select * from final
