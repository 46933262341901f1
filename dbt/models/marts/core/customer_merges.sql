{{
    config(
        materialized='incremental',
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

edges as (

    select * from {{ ref('int_identity_edges') }}

),

moved as (

    select
        identifier_key,
        customer_id as kept_id,
        previous_customer_id as retired_id,
        updated_at as merged_at
    from id_map
    where change_type = 'merged'
    {% if is_incremental() %}
        and updated_at > (select coalesce(max(merged_at), cast('1900-01-01' as timestamp)) from {{ this }})
    {% endif %}

),

touching as (

    select moved.*, edges.to_key as other_key, edges.first_record_key, edges.first_seen_at
    from moved
    inner join edges
        on edges.from_key = moved.identifier_key
    union all
    select moved.*, edges.from_key as other_key, edges.first_record_key, edges.first_seen_at
    from moved
    inner join edges
        on edges.to_key = moved.identifier_key

),

-- links from a retired customer's identifier to one that was not part of that customer
crossing as (

    select touching.*
    from touching
    left join moved as same_side
        on same_side.identifier_key = touching.other_key
        and same_side.retired_id = touching.retired_id
    where same_side.identifier_key is null

),

moved_counts as (

    select kept_id, retired_id, merged_at, cast(count(*) as integer) as identifiers_moved
    from moved
    group by kept_id, retired_id, merged_at

),

causes as (

    select
        retired_id,
        arg_max(first_record_key, first_seen_at) as cause_record_key,
        arg_max(
            split_part(identifier_key, ':', 1) || '-' || split_part(other_key, ':', 1),
            first_seen_at
        ) as cause_link_types,
        max(first_seen_at) as cause_seen_at
    from crossing
    group by retired_id

),

final as (

    select
        moved_counts.kept_id,
        moved_counts.retired_id,
        moved_counts.merged_at,
        causes.cause_link_types,
        causes.cause_record_key,
        causes.cause_seen_at,
        moved_counts.identifiers_moved
    from moved_counts
    left join causes
        on causes.retired_id = moved_counts.retired_id

)

select * from final
