{{
    config(
        materialized=incremental_materialization(),
        incremental_strategy='delete+insert',
        unique_key='identifier_id',
        full_refresh=false,
        on_schema_change='fail',
        pre_hook="{{ identity_map_add_identifier_id() }}",
    )
}}
{#-
    The state that keeps customer ids stable: identifier -> customer_id, read back via {{ this }} on every
    run. Each component of the identity graph keeps the oldest (smallest) id its identifiers carried
    before; a component that absorbed several ids is a merge (the older id survives, the others retire);
    components without an earlier id get new ids 'C' + 10 digits, minted in a deterministic order
    (first seen, then smallest identifier key). When a component split off from the one that keeps an id, it gets a
    new id. Only new or changed rows are written; full refresh is disabled so ids are never re-minted.
    identifier_id (the node's 64-bit id, identity_key_id of identifier_key) is the key the previous state
    is joined on (integers, not text); a map written before it existed gains it in the pre-hook
    (macros/identity_key_id.sql, identity_map_add_identifier_id), its ids untouched.
    A build reads only the components labelled again since the map's last write (their `_built_at`, the
    upstream change they reflect, after the map's newest updated_at): the others keep their identifiers
    and so their ids. Every identifier that carried an id a relabelled component claims was in the same
    stored component, which was relabelled whole, so the claims and the mint order are those of a build
    over every component; the last minted number is still read from the whole map.
-#}

{%- set components_relation = ref(engine_model('int_identity_components')) %}
{%- set run_ts = "cast('" ~ run_started_at.strftime('%Y-%m-%d %H:%M:%S.%f') ~ "' as timestamp)" %}

with

previous as (

    {% if is_incremental() %}
    select identifier_id, customer_id, original_customer_id, first_assigned_at from {{ this }}
    {% else %}
    select
        {{ identity_key_id('cast(null as ' ~ dbt.type_string() ~ ')') }} as identifier_id,
        cast(null as {{ dbt.type_string() }}) as customer_id,
        cast(null as {{ dbt.type_string() }}) as original_customer_id,
        cast(null as timestamp) as first_assigned_at
    where false
    {% endif %}

),

components as (

    select
        nodes.identifier_id,
        nodes.identifier_key,
        components.component_id,
        nodes.identifier_type,
        nodes.first_seen_at,
        previous.customer_id as previous_customer_id,
        previous.original_customer_id,
        previous.first_assigned_at
    from {{ components_relation }} as components
    inner join {{ ref('int_identity_nodes') }} as nodes
        on nodes.identifier_id = components.identifier_id
    left join previous
        on previous.identifier_id = nodes.identifier_id
    {%- if is_incremental() %}
    -- the components labelled again since this map's last write (the only ones whose ids can change)
    where components.component_id in (
        select relabelled.component_id
        from {{ components_relation }} as relabelled
        where relabelled._built_at > {{ stored_stamp(this, 'updated_at') }}
    )
    {%- endif %}

),

-- how many identifiers of each component carried each earlier id (a group-by, not a window over every
-- identifier: on a daily run nearly every identifier has one)
previous_ids as (

    select
        component_id,
        previous_customer_id as customer_id,
        count(*) as carriers
    from components
    where previous_customer_id is not null
    group by component_id, previous_customer_id

),

-- the oldest id each component carried before, and how many of its identifiers carried it
claims as (

    select
        component_id,
        min(customer_id) as claimed_id,
        min_by(carriers, customer_id) as carriers
    from previous_ids
    group by component_id

),

-- after a split two components may claim one id: the one holding most of its identifiers keeps it
kept as (

    select component_id, claimed_id as customer_id
    from (
        select
            component_id,
            claimed_id,
            row_number() over (partition by claimed_id order by carriers desc, component_id) as claim_rank
        from claims
    ) as ranked
    where claim_rank = 1

),

-- every id is 'C' + 10 digits (minted below), so the greatest string is the greatest number
last_sequence as (

    select coalesce(cast(substr(max(id), 2) as bigint), 0) as last_seq
    from (
        select max(customer_id) as id from previous
        union all
        select max(original_customer_id) from previous
    ) as ids

),

unclaimed as (

    select
        components.component_id,
        min(components.first_seen_at) as first_seen_at,
        min(components.identifier_key) as first_identifier_key
    from components
    left join kept
        on kept.component_id = components.component_id
    where kept.component_id is null
    group by components.component_id

),

minted as (

    select
        unclaimed.component_id,
        'C' || lpad(
            cast(last_sequence.last_seq + row_number() over (
                order by unclaimed.first_seen_at, unclaimed.first_identifier_key
            ) as {{ dbt.type_string() }}),
            10,
            '0'
        ) as customer_id
    from unclaimed
    cross join last_sequence

),

assigned as (

    select component_id, customer_id from kept
    union all
    select component_id, customer_id from minted

),

current_rows as (

    select
        components.identifier_id,
        components.identifier_key,
        components.identifier_type,
        assigned.customer_id,
        components.previous_customer_id,
        components.original_customer_id,
        components.first_assigned_at
    from components
    inner join assigned
        on assigned.component_id = components.component_id

),

final as (

    select
        identifier_key,
        identifier_type,
        customer_id,
        coalesce(original_customer_id, customer_id) as original_customer_id,
        previous_customer_id,
        case
            when previous_customer_id is null then 'new'
            when customer_id < previous_customer_id then 'merged'
            else 'split'
        end as change_type,
        coalesce(first_assigned_at, {{ run_ts }}) as first_assigned_at,
        {{ run_ts }} as updated_at,
        identifier_id
    from current_rows
    where previous_customer_id is null
        or previous_customer_id <> customer_id

)

select * from final
