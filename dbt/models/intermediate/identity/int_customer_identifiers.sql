{#- The current customer of every identity node (hubs and rejected values have none). -#}

with

nodes as (

    select * from {{ ref('int_identity_nodes') }}

),

id_map as (

    select * from {{ ref('customer_identifier_map') }}

),

final as (

    select
        nodes.identifier_id,
        nodes.identifier_key,
        nodes.identifier_type,
        nodes.strength_rank,
        id_map.customer_id,
        nodes.first_seen_at,
        nodes.last_seen_at,
        nodes.record_count
    from nodes
    inner join id_map
        on id_map.identifier_id = nodes.identifier_id

)

select * from final
