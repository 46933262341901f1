{{
    config(
        materialized=incremental_materialization(),
        incremental_strategy='delete+insert',
        unique_key='identifier_id',
        on_schema_change='append_new_columns',
    )
}}
{#-
    Hub identifiers: a value seen on the same records as more than var('identity_hub_threshold') distinct
    values of one other identifier type (a cashier's placeholder phone typed for many walk-ins, a store
    phone, a shared card). Degree = the largest such count over neighbour types. Hubs never link.

    Two passes: a member's card typed on several receipts together with store phones is seen with many
    phones only because those phones are hubs. The second pass ignores a neighbour that is a bigger hub
    (first-pass degree above the threshold and above this value's own), so the store phones stay hubs
    and the card does not. Equal degrees exclude neither (both stay hubs: fewer links, never a wrong one).

    Computed in full every build (a hub is a property of the whole graph), but stored by change: an
    incremental build compares today's hubs with the stored ones and rewrites only the values that became
    a hub, stopped being one (is_hub false, degree null: kept so the graph steps can tell) or changed
    degree, stamped with `_built_at`. int_identity_nodes and int_identity_edges recompute the identifiers
    whose hub status changed after their own last build. Readers of the hubs filter is_hub; with that
    filter the table equals a full rebuild.
-#}

with

identifiers as (

    select identifier_id, identifier_type, record_id from {{ ref('int_identifiers') }}

),

-- a value's distinct neighbours are at most the other sightings on its records (sum of record size - 1):
-- only values above the threshold by that bound can be hubs, and only their records need the self-join
record_sizes as (

    select record_id, count(*) as sightings
    from identifiers
    group by record_id
    having count(*) > 1

),

candidates as (

    select identifiers.identifier_id
    from identifiers
    inner join record_sizes
        on record_sizes.record_id = identifiers.record_id
    group by identifiers.identifier_id
    having sum(record_sizes.sightings - 1) > {{ var('identity_hub_threshold') }}

),

candidate_records as (

    select distinct identifiers.record_id
    from identifiers
    inner join candidates
        on candidates.identifier_id = identifiers.identifier_id

),

-- not made distinct: a record's repeated sightings (a payer on each bill line of its payment: 7% of the
-- observations at 1M people, at most 3 of one value) only repeat that record's rows in the self-join below,
-- whose distinct removes them; a distinct here cost a third of the model (3.2 vs 2.2 s at 1M, in process)
record_identifiers as (

    select identifiers.identifier_id, identifiers.identifier_type, identifiers.record_id
    from identifiers
    inner join candidate_records
        on candidate_records.record_id = identifiers.record_id

),

neighbours as (

    select distinct
        a.identifier_id,
        a.identifier_type,
        b.identifier_id as neighbour_id,
        b.identifier_type as neighbour_type
    from record_identifiers as a
    inner join candidates
        on candidates.identifier_id = a.identifier_id
    inner join record_identifiers as b
        on a.record_id = b.record_id
        and a.identifier_type <> b.identifier_type

),

first_pass as (

    select identifier_id, max(neighbour_count) as first_degree
    from (
        select identifier_id, neighbour_type, count(*) as neighbour_count
        from neighbours
        group by identifier_id, neighbour_type
    ) as counted
    group by identifier_id

),

-- a neighbour that is itself a bigger hub does not count: it explains the co-occurrence
second_pass_counts as (

    select
        neighbours.identifier_id,
        neighbours.identifier_type,
        neighbours.neighbour_type,
        count(*) as neighbour_count
    from neighbours
    inner join first_pass as own
        on own.identifier_id = neighbours.identifier_id
    left join first_pass as other
        on other.identifier_id = neighbours.neighbour_id
    where own.first_degree > {{ var('identity_hub_threshold') }}
        and not coalesce(
            other.first_degree > {{ var('identity_hub_threshold') }}
            and other.first_degree > own.first_degree,
            false
        )
    group by neighbours.identifier_id, neighbours.identifier_type, neighbours.neighbour_type

),

degrees as (

    select
        identifier_id,
        identifier_type,
        max(neighbour_count) as degree,
        max_by(neighbour_type, neighbour_count) as degree_neighbour_type
    from second_pass_counts
    group by identifier_id, identifier_type
    having max(neighbour_count) > {{ var('identity_hub_threshold') }}

),

hub_keys as (

    select identifier_id, min(identifier_key) as identifier_key
    from {{ ref('int_identifiers') }}
    where identifier_id in (select identifier_id from degrees)
    group by identifier_id

),

hubs as (

    select
        degrees.identifier_id,
        hub_keys.identifier_key,
        degrees.identifier_type,
        degrees.degree,
        degrees.degree_neighbour_type
    from degrees
    inner join hub_keys
        on hub_keys.identifier_id = degrees.identifier_id

),

{%- if is_incremental() %}
{%- set flagged = stored_table_has_column('is_hub') %}

-- a value that became a hub, stopped being one or changed degree; the others are not rewritten
changed as (

    select
        coalesce(hubs.identifier_id, stored.identifier_id) as identifier_id,
        coalesce(hubs.identifier_key, stored.identifier_key) as identifier_key,
        coalesce(hubs.identifier_type, stored.identifier_type) as identifier_type,
        hubs.degree,
        hubs.degree_neighbour_type,
        hubs.identifier_id is not null as is_hub
    from hubs
    full outer join (
        {%- if flagged %}
        select * from {{ this }} where is_hub
        {%- else %}
        -- a table written before the column existed holds hubs only; on_schema_change adds the column
        -- (null) after this select, so every row is written again, ex-hubs with is_hub false
        select * from {{ this }}
        {%- endif %}
    ) as stored
        on stored.identifier_id = hubs.identifier_id
    where {{ 'false' if flagged else 'true' }}
        or stored.identifier_id is null
        or hubs.identifier_id is null
        or stored.degree <> hubs.degree
        or stored.degree_neighbour_type is distinct from hubs.degree_neighbour_type

),
{%- else %}

changed as (

    select *, true as is_hub from hubs

),
{%- endif %}

final as (

    select
        identifier_id,
        identifier_key,
        identifier_type,
        cast(degree as bigint) as degree,
        degree_neighbour_type,
        is_hub,
        {{ built_at() }} as _built_at
    from changed

)

select * from final
