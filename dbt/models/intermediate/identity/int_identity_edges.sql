{#-
    Links between identifiers seen on the same record (an order's phone and card, a member's openid,
    unionid, phone and card, a WeChat Pay openid with its order). Hubs are removed first, then every
    record links its remaining identifiers as a star around its strongest one (enough for connectivity).
    One row per undirected link (from_key < to_key), with the first record that showed it.
-#}

with

identifiers as (

    select * from {{ ref('int_identifiers') }}

),

hubs as (

    select identifier_id from {{ ref('int_identity_hubs') }}

),

linkable as (

    select identifiers.identifier_id, identifiers.identifier_key, identifiers.strength_rank,
        identifiers.record_id, identifiers.record_key, identifiers.source, identifiers.seen_at
    from identifiers
    left join hubs
        on hubs.identifier_id = identifiers.identifier_id
    where hubs.identifier_id is null

),

anchors as (

    select
        record_id,
        arg_min(identifier_id, strength_rank || ':' || identifier_key) as anchor_id,
        arg_min(identifier_key, strength_rank || ':' || identifier_key) as anchor_key
    from linkable
    group by record_id
    having count(distinct identifier_id) > 1

),

record_links as (

    select
        case when anchors.anchor_key < linkable.identifier_key then anchors.anchor_id else linkable.identifier_id end
            as from_id,
        case when anchors.anchor_key < linkable.identifier_key then linkable.identifier_id else anchors.anchor_id end
            as to_id,
        case when anchors.anchor_key < linkable.identifier_key then anchors.anchor_key else linkable.identifier_key end
            as from_key,
        case when anchors.anchor_key < linkable.identifier_key then linkable.identifier_key else anchors.anchor_key end
            as to_key,
        linkable.source,
        linkable.record_key,
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
        min(from_key) as from_key,
        min(to_key) as to_key,
        arg_min(record_key, seen_at) as first_record_key,
        arg_min(source, seen_at) as first_source,
        min(seen_at) as first_seen_at,
        max(seen_at) as last_seen_at,
        count(distinct record_key) as record_count
    from record_links
    group by from_id, to_id

)

select * from final
