{#-
    The identity graph's nodes: every usable identifier value that is not a hub. The value (short: most
    fit DuckDB's inline strings) is carried through the grouping and the key built once per node.
-#}

with

identifiers as (

    select identifier_id, identifier_type, identifier_value, strength_rank, seen_at
    from {{ ref('int_identifiers') }}

),

hubs as (

    select identifier_id from {{ ref('int_identity_hubs') }}

),

grouped as (

    select
        identifiers.identifier_id,
        any_value(identifiers.identifier_type) as identifier_type,
        any_value(identifiers.identifier_value) as identifier_value,
        min(identifiers.strength_rank) as strength_rank,
        min(identifiers.seen_at) as first_seen_at,
        max(identifiers.seen_at) as last_seen_at,
        count(*) as record_count
    from identifiers
    left join hubs
        on hubs.identifier_id = identifiers.identifier_id
    where hubs.identifier_id is null
    group by identifiers.identifier_id

),

final as (

    select
        identifier_id,
        identifier_type || ':' || identifier_value as identifier_key,
        identifier_type,
        strength_rank,
        first_seen_at,
        last_seen_at,
        record_count
    from grouped

)

select * from final
