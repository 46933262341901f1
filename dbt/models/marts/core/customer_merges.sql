{{
    config(
        materialized=incremental_materialization(),
        incremental_strategy='append',
        full_refresh=false,
        on_schema_change='fail',
    )
}}
{#-
    Merge history: one row per retired customer id, appended in the run that merged it. The older id is
    kept. cause_* name the link (identifier types and the source record, no personal values) that joined
    the retired customer's identifiers to the rest of the merged customer.
-#}

with

id_map as (

    select * from {{ ref('customer_identifier_map') }}

),

nodes as (

    select identifier_id, identifier_type from {{ ref('int_identity_nodes') }}

),

edges as (

    select * from {{ ref('int_identity_edges') }}

),

moved as (

    select
        nodes.identifier_id,
        nodes.identifier_type,
        id_map.customer_id as kept_id,
        id_map.previous_customer_id as retired_id,
        id_map.updated_at as merged_at
    from id_map
    inner join nodes
        on nodes.identifier_id = id_map.identifier_id
    where id_map.change_type = 'merged'
    {% if is_incremental() %}
        {%- set since = "coalesce(" ~ stored_stamp(this, 'merged_at') ~ ", cast('1900-01-01' as timestamp))" %}
        -- the newest merge stored, read once as a constant (stored_stamp): the map's scan skips older row groups
        and id_map.updated_at > {{ since }}
        {%- if execute and this is not string %}
        {%- set new_merges = run_query(
            "select count(*) from " ~ ref('customer_identifier_map')
            ~ " where change_type = 'merged' and updated_at > " ~ since
        ).columns[0].values()[0] %}
        {%- if new_merges == 0 %}
        -- no merge since (counted once): the build selects nothing (else the joins below hashed every node
        -- and edge to find that)
        and false
        {%- endif %}
        {%- endif %}
    {% endif %}

),

touching as (

    select moved.*, edges.to_id as other_id, edges.first_record_id, edges.first_seen_at
    from moved
    inner join edges
        on edges.from_id = moved.identifier_id
    union all
    select moved.*, edges.from_id as other_id, edges.first_record_id, edges.first_seen_at
    from moved
    inner join edges
        on edges.to_id = moved.identifier_id

),

-- links from a retired customer's identifier to one that was not part of that customer
crossing as (

    select touching.*, other.identifier_type as other_type
    from touching
    inner join nodes as other
        on other.identifier_id = touching.other_id
    left join moved as same_side
        on same_side.identifier_id = touching.other_id
        and same_side.retired_id = touching.retired_id
    where same_side.identifier_id is null

),

moved_counts as (

    select kept_id, retired_id, merged_at, cast(count(*) as integer) as identifiers_moved
    from moved
    group by kept_id, retired_id, merged_at

),

causes as (

    select
        retired_id,
        max_by(first_record_id, first_seen_at) as cause_record_id,
        max_by(identifier_type || '-' || other_type, first_seen_at) as cause_link_types,
        max(first_seen_at) as cause_seen_at
    from crossing
    group by retired_id

),

cause_records as (

    select record_id, any_value(record_key) as record_key
    from {{ ref('int_identifiers') }}
    where record_id in (select cause_record_id from causes)
    group by record_id

),

final as (

    select
        moved_counts.kept_id,
        moved_counts.retired_id,
        moved_counts.merged_at,
        causes.cause_link_types,
        cause_records.record_key as cause_record_key,
        causes.cause_seen_at,
        moved_counts.identifiers_moved
    from moved_counts
    left join causes
        on causes.retired_id = moved_counts.retired_id
    left join cause_records
        on cause_records.record_id = causes.cause_record_id

)

select * from final
