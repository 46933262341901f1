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

    Stored: every value whose first-pass degree is above the threshold (`first_degree`; the hubs are among
    them, is_hub says which), and by change: a build writes only the values whose hub status, degree or
    first-pass degree changed; a value that stopped being a hub keeps a row with is_hub false and no
    degree (so the graph steps, which recompute the identifiers whose row a build wrote, can tell).
    Readers of the hubs filter is_hub; with that filter the table equals a full rebuild.

    Incremental over the part of the graph a day reaches (issue 17): a value's neighbours change only
    through the records that show it, so a build recomputes the first-pass degree of the identifiers of
    the records whose observations were written or retracted since its last build (`touched`), and the
    second pass of those above the threshold and of the stored values above it that neighbour a touched
    value whose first-pass degree moved on the threshold's upper side (the only values whose exclusions can
    change). Everything is recomputed on a first build, after a change of the threshold (hub_threshold,
    stored with each row) and on a table from before first_degree was stored.
-#}

-- depends_on: {{ ref('int_identifier_candidates') }}
{%- set threshold = var('identity_hub_threshold') | int %}
{%- set localized = false %}
{%- if is_incremental() and this is string %}
{#- a unit test's stored rows (a fixture): the day's logic -#}
{%- set localized = true %}
{%- elif is_incremental() and execute and stored_table_has_column('first_degree') and stored_rows_are_stamped() %}
{%- set other_thresholds = run_query(
    'select count(*) from ' ~ this ~ ' where hub_threshold is distinct from ' ~ threshold
).columns[0].values()[0] %}
{%- set localized = other_thresholds == 0 %}
{%- endif %}
{%- set since = last_build_stamp() if localized else none %}
{#- a stored table from before a column existed (on_schema_change adds it after this select): every value
    computed here is written again -#}
{%- set stored_columns = {
    'is_hub': 'cast(null as boolean)', 'first_degree': 'cast(null as bigint)',
    'hub_threshold': 'cast(null as integer)',
} %}
{%- set rewrite_all = [false] %}
{%- if is_incremental() %}
{%- for column in stored_columns.keys() | list %}
{%- if stored_table_has_column(column) %}
{%- do stored_columns.update({column: column}) %}
{%- else %}
{%- do rewrite_all.append(true) %}
{%- endif %}
{%- endfor %}
{%- endif %}

with

identifiers as (

    select identifier_id, identifier_type, record_id from {{ ref('int_identifiers') }}

),

{%- if localized %}

-- the identifiers of the records whose observations were written or retracted since the last build
touched as (

    select distinct changed.identifier_id
    from {{ ref('int_identifier_candidates') }} as changed
    where changed.identifier_id is not null
        and changed.record_id in (
            select record_id from {{ ref('int_identifier_candidates') }} where _built_at > {{ since }}
        )

),

scope_identifiers as (

    select identifiers.*
    from identifiers
    where identifiers.identifier_id in (select identifier_id from touched)

),

-- their records' observations (a record's size and the neighbours it gives)
scope_records as (

    select identifiers.*
    from identifiers
    where identifiers.record_id in (select record_id from scope_identifiers)

),
{%- else %}

scope_identifiers as (

    select * from identifiers

),

scope_records as (

    select * from identifiers

),
{%- endif %}

-- a value's distinct neighbours are at most the other sightings on its records (sum of record size - 1):
-- only values above the threshold by that bound can be hubs, and only their records need the self-join
record_sizes as (

    select record_id, count(*) as sightings
    from scope_records
    group by record_id
    having count(*) > 1

),

candidates as (

    select scope_identifiers.identifier_id
    from scope_identifiers
    inner join record_sizes
        on record_sizes.record_id = scope_identifiers.record_id
    group by scope_identifiers.identifier_id
    having sum(record_sizes.sightings - 1) > {{ threshold }}

),

candidate_records as (

    select distinct scope_identifiers.record_id
    from scope_identifiers
    inner join candidates
        on candidates.identifier_id = scope_identifiers.identifier_id

),

-- not made distinct: a record's repeated sightings (a payer on each bill line of its payment: 7% of the
-- observations at 1M people, at most 3 of one value) only repeat that record's rows in the self-join below,
-- whose distinct removes them; a distinct here cost a third of the model (3.2 vs 2.2 s at 1M, in process)
record_identifiers as (

    select scope_records.identifier_id, scope_records.identifier_type, scope_records.record_id
    from scope_records
    inner join candidate_records
        on candidate_records.record_id = scope_records.record_id

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

-- the first-pass degree of the values in scope above the threshold
scope_first_pass as (

    select identifier_id, max(neighbour_count) as first_degree
    from (
        select identifier_id, neighbour_type, count(*) as neighbour_count
        from neighbours
        group by identifier_id, neighbour_type
    ) as counted
    group by identifier_id
    having max(neighbour_count) > {{ threshold }}

),

{%- if localized %}

stored_first_pass as (

    select identifier_id, first_degree
    from {{ this }}
    where first_degree is not null

),

-- every value above the threshold now: the stored ones out of scope, and the scope's
first_pass as (

    select stored_first_pass.identifier_id, stored_first_pass.first_degree
    from stored_first_pass
    where stored_first_pass.identifier_id not in (select identifier_id from touched)
    union all
    select identifier_id, first_degree from scope_first_pass

),

-- touched values whose first-pass degree moved above the threshold (in, out or within): their
-- neighbours above the threshold may now exclude them or stop doing so
moved as (

    select coalesce(old.identifier_id, new.identifier_id) as identifier_id
    from (
        select * from stored_first_pass where identifier_id in (select identifier_id from touched)
    ) as old
    full outer join scope_first_pass as new
        on new.identifier_id = old.identifier_id
    where old.first_degree is distinct from new.first_degree

),

-- the values whose second pass is recomputed: the touched ones above the threshold and those above it
-- seen on a record with a moved value (its neighbours, and values of its own type: recomputed for nothing)
-- (records picked first, by key: a join of the observations with themselves hashed all 4M of them)
second_pass_scope as (

    select identifier_id from scope_first_pass
    union
    select first_pass.identifier_id
    from first_pass
    where first_pass.identifier_id in (
        select identifier_id
        from identifiers
        where record_id in (
            select record_id from identifiers where identifier_id in (select identifier_id from moved)
        )
    )

),

-- the neighbours of that scope: the touched values' are in `neighbours`, the others' are read here
extra_sightings as (

    select identifiers.*
    from identifiers
    where identifiers.identifier_id in (select identifier_id from second_pass_scope)
        and identifiers.identifier_id not in (select identifier_id from touched)

),

second_pass_neighbours as (

    select neighbours.*
    from neighbours
    where neighbours.identifier_id in (select identifier_id from second_pass_scope)
    union
    select distinct
        a.identifier_id,
        a.identifier_type,
        b.identifier_id as neighbour_id,
        b.identifier_type as neighbour_type
    from extra_sightings as a
    inner join (
        select identifiers.*
        from identifiers
        where identifiers.record_id in (select record_id from extra_sightings)
    ) as b
        on a.record_id = b.record_id
        and a.identifier_type <> b.identifier_type

),
{%- else %}

first_pass as (

    select * from scope_first_pass

),

second_pass_neighbours as (

    select * from neighbours

),
{%- endif %}

-- a neighbour that is itself a bigger hub does not count: it explains the co-occurrence
second_pass_counts as (

    select
        second_pass_neighbours.identifier_id,
        second_pass_neighbours.identifier_type,
        second_pass_neighbours.neighbour_type,
        count(*) as neighbour_count
    from second_pass_neighbours
    inner join first_pass as own
        on own.identifier_id = second_pass_neighbours.identifier_id
    left join first_pass as other
        on other.identifier_id = second_pass_neighbours.neighbour_id
    where not coalesce(other.first_degree > own.first_degree, false)
    group by
        second_pass_neighbours.identifier_id,
        second_pass_neighbours.identifier_type,
        second_pass_neighbours.neighbour_type

),

degrees as (

    select
        identifier_id,
        identifier_type,
        max(neighbour_count) as degree,
        max_by(neighbour_type, neighbour_count) as degree_neighbour_type
    from second_pass_counts
    group by identifier_id, identifier_type
    having max(neighbour_count) > {{ threshold }}

),

-- the values computed here: above the threshold in the first pass (with their second pass), or, in an
-- incremental build, touched (a touched value no longer above it is written if its stored row says so)
computed as (

    select
        first_pass.identifier_id,
        degrees.degree,
        degrees.degree_neighbour_type,
        degrees.identifier_id is not null as is_hub,
        first_pass.first_degree
    from first_pass
    left join degrees
        on degrees.identifier_id = first_pass.identifier_id
    {%- if localized %}
    where first_pass.identifier_id in (select identifier_id from second_pass_scope)
        or first_pass.identifier_id in (select identifier_id from touched)
    union all
    select
        touched.identifier_id,
        cast(null as bigint),
        cast(null as {{ dbt.type_string() }}),
        false,
        cast(null as bigint)
    from touched
    where touched.identifier_id not in (select identifier_id from first_pass)
    {%- endif %}

),

{%- if is_incremental() %}

-- a value whose hub status, degree or first-pass degree changed (or all of them, stored before the
-- threshold changed); the others are not rewritten
changed as (

    select
        coalesce(computed.identifier_id, stored.identifier_id) as identifier_id,
        computed.degree,
        computed.degree_neighbour_type,
        coalesce(computed.is_hub, false) as is_hub,
        computed.first_degree
    from computed
    full outer join (
        select
            identifier_id,
            degree,
            degree_neighbour_type,
            {%- for column, expression in stored_columns.items() %}
            {{ expression }} as {{ column }}{{ ',' if not loop.last }}
            {%- endfor %}
        from {{ this }}
        {%- if localized %}
        where identifier_id in (select identifier_id from computed)
        {%- endif %}
    ) as stored
        on stored.identifier_id = computed.identifier_id
    where (computed.identifier_id is null and (stored.is_hub or stored.first_degree is not null))
        or (computed.identifier_id is not null and stored.identifier_id is null
            and (computed.is_hub or computed.first_degree is not null))
        or (computed.identifier_id is not null and stored.identifier_id is not null and (
            {{ 'true' if true in rewrite_all else 'false' }}
            or stored.is_hub is distinct from computed.is_hub
            or stored.degree is distinct from computed.degree
            or stored.degree_neighbour_type is distinct from computed.degree_neighbour_type
            or stored.first_degree is distinct from computed.first_degree
            {%- if not localized %}
            or stored.hub_threshold is distinct from {{ threshold }}
            {%- endif %}
        ))
        {%- if not localized %}
        or (computed.identifier_id is null and stored.hub_threshold is distinct from {{ threshold }})
        {%- endif %}

),
{%- else %}

changed as (

    select * from computed

),
{%- endif %}

keys as (

    select identifier_id, min(identifier_key) as identifier_key, min(identifier_type) as identifier_type
    from {{ ref('int_identifiers') }}
    where identifier_id in (select identifier_id from changed)
    group by identifier_id

),

final as (

    select
        changed.identifier_id,
        {%- if is_incremental() %}
        coalesce(keys.identifier_key, stored_keys.identifier_key) as identifier_key,
        coalesce(keys.identifier_type, stored_keys.identifier_type) as identifier_type,
        {%- else %}
        keys.identifier_key,
        keys.identifier_type,
        {%- endif %}
        cast(changed.degree as bigint) as degree,
        changed.degree_neighbour_type,
        changed.is_hub,
        cast(changed.first_degree as bigint) as first_degree,
        cast({{ threshold }} as integer) as hub_threshold,
        {{ built_at() }} as _built_at
    from changed
    left join keys
        on keys.identifier_id = changed.identifier_id
    {%- if is_incremental() %}
    -- a value with no observation left keeps its stored key
    left join {{ this }} as stored_keys
        on stored_keys.identifier_id = changed.identifier_id
    {%- endif %}

)

select * from final
