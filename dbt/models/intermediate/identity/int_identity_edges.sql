{{
    config(
        materialized=incremental_materialization(),
        incremental_strategy='delete+insert',
        unique_key=['from_id', 'to_id'],
        on_schema_change='append_new_columns',
        post_hook="{{ identity_graph_drop_vanished('sighting_count = 0') }}",
    )
}}
{#-
    Links between identifiers seen on the same record (an order's phone and card, a member's openid,
    unionid, phone and card, a WeChat Pay openid with its order). Hubs are removed first, then every
    record links its remaining identifiers as a star around its strongest one (lowest strength rank,
    then lowest id): enough for connectivity. One row per undirected link (from_id < to_id), with the
    first record that showed it. Integer ids only: keys are in int_identity_nodes.

    Incremental (macros/identity_graph_incremental.sql): a build recomputes the edges that touch an
    identifier of a changed record (observations written or retracted after its own last build, or an
    identifier whose hub status changed), from every record showing such an identifier; an edge no record
    shows any more is written with sighting_count 0 and dropped by the post-hook. Equals a full rebuild.
-#}

{%- set candidates = ref('int_identifier_candidates') %}

with

{%- if is_incremental() %}
{%- set since = identity_graph_since() %}

-- records whose observations changed, and records that show an identifier whose hub status changed
changed_records as (

    select changed.record_id
    from {{ candidates }} as changed
    where {{ written_since_last_build('changed', since) }}
    union
    select record_id
    from {{ ref('int_identifiers') }}
    where identifier_id in (
        select flipped.identifier_id
        from {{ ref('int_identity_hubs') }} as flipped
        where {{ written_since_last_build('flipped', since) }}
    )

),

-- every identifier those records show or showed (a retracted observation: one a record no longer shows)
changed_ids as (

    select distinct identifier_id
    from {{ candidates }}
    where identifier_id is not null
        and record_id in (select record_id from changed_records)

),

-- the records an edge of a changed identifier can come from: all that show one
affected_records as (

    select distinct record_id
    from {{ ref('int_identifiers') }}
    where identifier_id in (select identifier_id from changed_ids)

),
{%- endif %}

identifiers as (

    {%- if is_incremental() %}
    -- the day's records joined first: written as `record_id in (select ...)`, DuckDB hashed all the
    -- observations (9.2M at 1M people) to find a day's 32k records (in process 0.49 -> 0.13 s; 0.43 ->
    -- 0.01 s on a build with nothing new)
    select identifiers.identifier_id, identifiers.strength_rank, identifiers.record_id, identifiers.seen_at
    from affected_records
    inner join {{ ref('int_identifiers') }} as identifiers
        on identifiers.record_id = affected_records.record_id
    {%- else %}
    select identifier_id, strength_rank, record_id, seen_at from {{ ref('int_identifiers') }}
    {%- endif %}

),

hubs as (

    select identifier_id from {{ ref('int_identity_hubs') }} where is_hub

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

edges as (

    select
        from_id,
        to_id,
        min_by(record_id, seen_at) as first_record_id,
        min(seen_at) as first_seen_at,
        max(seen_at) as last_seen_at,
        count(*) as sighting_count
    from record_links
    {%- if is_incremental() %}
    where from_id in (select identifier_id from changed_ids)
        or to_id in (select identifier_id from changed_ids)
    {%- endif %}
    group by from_id, to_id

),

{%- if is_incremental() %}

-- a stored edge of a changed identifier that no record shows any more: a row of count 0 replaces it and
-- the post-hook drops it
final as (

    select * from edges
    union all
    select
        stored.from_id,
        stored.to_id,
        -- null, typed as stored
        case when false then stored.first_record_id end as first_record_id,
        case when false then stored.first_seen_at end as first_seen_at,
        case when false then stored.last_seen_at end as last_seen_at,
        0 as sighting_count
    from {{ this }} as stored
    where (
            stored.from_id in (select identifier_id from changed_ids)
            or stored.to_id in (select identifier_id from changed_ids)
        )
        and not exists (
            select 1
            from edges
            where edges.from_id = stored.from_id
                and edges.to_id = stored.to_id
        )

),
{%- else %}

final as (

    select * from edges

),
{%- endif %}

stamped as (

    select *, {{ built_at() }} as _built_at from final

)

select * from stamped
