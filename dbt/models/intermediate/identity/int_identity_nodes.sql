{{
    config(
        materialized=incremental_materialization(),
        incremental_strategy='delete+insert',
        unique_key='identifier_id',
        on_schema_change='append_new_columns',
        post_hook="{{ identity_graph_drop_vanished('record_count = 0') }}",
    )
}}
{#-
    The identity graph's nodes: every usable identifier value that is not a hub. The value (short: most
    fit DuckDB's inline strings) is carried through the grouping and the key built once per node.

    Incremental by identifier (macros/identity_graph_incremental.sql): a build recomputes only the
    identifiers of the observations written or retracted after its own last build and those whose hub
    status changed, from every observation of those identifiers; one that no longer has a non-hub
    observation is written with record_count 0 and dropped by the post-hook. Equals a full rebuild.
-#}

{%- set candidates = ref('int_identifier_candidates') %}

with

{%- if is_incremental() %}

changed_ids as (

    {{ identity_graph_changed_identifiers(candidates, ref('int_identity_hubs'), identity_graph_since()) }}

),
{%- endif %}

identifiers as (

    select identifier_id, identifier_type, identifier_value, strength_rank, seen_at
    from {{ ref('int_identifiers') }}
    {%- if is_incremental() %}
    where identifier_id in (select identifier_id from changed_ids)
    {%- endif %}

),

hubs as (

    select identifier_id from {{ ref('int_identity_hubs') }} where is_hub

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

{%- if is_incremental() %}

-- a changed identifier with no non-hub observation left: a row of count 0 replaces the stored one and
-- the post-hook drops it
nodes as (

    select
        changed_ids.identifier_id,
        grouped.identifier_type,
        grouped.identifier_value,
        grouped.strength_rank,
        grouped.first_seen_at,
        grouped.last_seen_at,
        coalesce(grouped.record_count, 0) as record_count
    from changed_ids
    left join grouped
        on grouped.identifier_id = changed_ids.identifier_id

),
{%- else %}

nodes as (

    select * from grouped

),
{%- endif %}

final as (

    select
        identifier_id,
        identifier_type || ':' || identifier_value as identifier_key,
        identifier_type,
        strength_rank,
        first_seen_at,
        last_seen_at,
        record_count,
        {{ built_at() }} as _built_at
    from nodes

)

select * from final
