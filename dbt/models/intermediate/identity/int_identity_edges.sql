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

    select identifier_key from {{ ref('int_identity_hubs') }}

),

linkable as (

    select identifiers.*
    from identifiers
    left join hubs
        on hubs.identifier_key = identifiers.identifier_key
    where hubs.identifier_key is null

),

anchors as (

    select
        record_key,
        arg_min(identifier_key, strength_rank || ':' || identifier_key) as anchor_key
    from linkable
    group by record_key

),

record_links as (

    select
        least(anchors.anchor_key, linkable.identifier_key) as from_key,
        greatest(anchors.anchor_key, linkable.identifier_key) as to_key,
        linkable.source,
        linkable.record_key,
        linkable.seen_at
    from linkable
    inner join anchors using (record_key)
    where linkable.identifier_key <> anchors.anchor_key

),

final as (

    select
        from_key,
        to_key,
        arg_min(record_key, seen_at) as first_record_key,
        arg_min(source, seen_at) as first_source,
        min(seen_at) as first_seen_at,
        max(seen_at) as last_seen_at,
        count(distinct record_key) as record_count
    from record_links
    group by from_key, to_key

)

select * from final
