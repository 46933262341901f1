{#-
    Links between identifiers seen on the same record (an order's phone and card, a member's openid,
    unionid, phone and card, a WeChat Pay openid with its order). Hubs are removed first, then every
    record links its remaining identifiers as a star around its strongest one (lowest strength rank,
    then lowest id): enough for connectivity. One row per undirected link (from_id < to_id), with the
    first record that showed it. Integer ids only: keys are in int_identity_nodes.
-#}

with

identifiers as (

    select identifier_id, strength_rank, record_id, seen_at from {{ ref('int_identifiers') }}

),

hubs as (

    select identifier_id from {{ ref('int_identity_hubs') }}

),

linkable as (

    select identifiers.*
    from identifiers
    left join hubs
        on hubs.identifier_id = identifiers.identifier_id
    where hubs.identifier_id is null

),

anchors as (

    select
        record_id,
        {{ min_id_by_rank('identifier_id', 'strength_rank') }} as anchor_id
    from linkable
    group by record_id
    having min(identifier_id) <> max(identifier_id)

),

record_links as (

    select
        least(anchors.anchor_id, linkable.identifier_id) as from_id,
        greatest(anchors.anchor_id, linkable.identifier_id) as to_id,
        linkable.record_id,
        linkable.seen_at
    from linkable
    inner join anchors
        on anchors.record_id = linkable.record_id
    where linkable.identifier_id <> anchors.anchor_id

),

final as (

    select
        from_id,
        to_id,
        min_by(record_id, seen_at) as first_record_id,
        min(seen_at) as first_seen_at,
        max(seen_at) as last_seen_at,
        count(*) as sighting_count
    from record_links
    group by from_id, to_id

)

select * from final
