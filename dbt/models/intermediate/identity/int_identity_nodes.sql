{#- The identity graph's nodes: every usable identifier value that is not a hub. -#}

with

identifiers as (

    select * from {{ ref('int_identifiers') }}

),

hubs as (

    select identifier_id from {{ ref('int_identity_hubs') }}

),

final as (

    select
        identifiers.identifier_id,
        any_value(identifiers.identifier_key) as identifier_key,
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
