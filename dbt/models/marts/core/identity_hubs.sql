{#- Identifier values that were seen with too many others to be one person's and so never link. -#}

with

hubs as (

    select * from {{ ref('int_identity_hubs') }}
    where is_hub

),

usage as (

    select
        identifier_id,
        count(distinct record_id) as record_count,
        min(seen_at) as first_seen_at,
        max(seen_at) as last_seen_at
    from {{ ref('int_identifiers') }}
    where identifier_id in (select identifier_id from hubs)
    group by identifier_id

),

final as (

    select
        {{ pii_hash('hubs.identifier_key') }} as hub_key,
        hubs.identifier_type,
        {{ mask_identifier('hubs.identifier_type', identifier_value_of('hubs.identifier_key')) }} as value_masked,
        cast(hubs.degree as integer) as degree,
        hubs.degree_neighbour_type,
        cast(usage.record_count as integer) as record_count,
        usage.first_seen_at,
        usage.last_seen_at
    from hubs
    inner join usage
        on usage.identifier_id = hubs.identifier_id

)

select * from final
