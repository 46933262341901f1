{{
    config(
        materialized=incremental_materialization(),
        incremental_strategy='delete+insert',
        unique_key='identifier_id',
        on_schema_change='append_new_columns',
        post_hook="{{ identity_graph_drop_vanished('customer_id is null') }}",
    )
}}
{#-
    The current customer of every identity node (hubs and rejected values have none): the nodes joined to
    the map on identifier_id, one row per node.

    Incremental by identifier (macros/identity_graph_incremental.sql): a build rewrites the identifiers
    the graph steps changed after its own last build (observations written or retracted, hub status) and
    those the map or the nodes rewrote since; one that is no node any more is written without a customer
    and dropped by the post-hook. Equals a full rebuild.
-#}

{%- set nodes_relation = ref('int_identity_nodes') %}
{%- set map_relation = ref('customer_identifier_map') %}
{%- set candidates = ref('int_identifier_candidates') %}
{%- set hubs = ref('int_identity_hubs') %}

with

{%- if is_incremental() %}
{%- set since = identity_graph_since() %}

changed_ids as (

    {{ identity_graph_changed_identifiers(candidates, hubs, since) }}
    union
    select written.identifier_id
    from {{ nodes_relation }} as written
    where {{ written_since_last_build('written', since) }}
    union
    select id_map.identifier_id
    from {{ map_relation }} as id_map
    where {{ since }} is null or id_map.updated_at > {{ since }}

),
{%- endif %}

nodes as (

    select * from {{ nodes_relation }}
    {%- if is_incremental() %}
    where identifier_id in (select identifier_id from changed_ids)
    {%- endif %}

),

id_map as (

    select identifier_id, customer_id from {{ map_relation }}
    {%- if is_incremental() %}
    where identifier_id in (select identifier_id from changed_ids)
    {%- endif %}

),

joined as (

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

),

{%- if is_incremental() %}

-- a changed identifier that is no node any more: a row without a customer replaces the stored one and the
-- post-hook drops it
final as (

    select
        changed_ids.identifier_id,
        joined.identifier_key,
        joined.identifier_type,
        joined.strength_rank,
        joined.customer_id,
        joined.first_seen_at,
        joined.last_seen_at,
        joined.record_count
    from changed_ids
    left join joined
        on joined.identifier_id = changed_ids.identifier_id

),
{%- else %}

final as (

    select * from joined

),
{%- endif %}

stamped as (

    select *, {{ built_at() }} as _built_at from final

)

select * from stamped
