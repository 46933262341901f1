{{
    config(
        materialized=incremental_materialization(),
        unique_key='record_key',
        incremental_strategy='delete+insert',
        on_schema_change='fail',
    )
}}

{#-
    int_record_identity with the build that last changed each record's outcome: one row per record that
    ever had an identifier observation. A new link can merge any two clusters, so the identity's tables
    say what a record resolves to today, not which records a day changed. This model says that once, for
    every consumer: a build compares today's outcome of the records a day can have changed with the
    stored one and rewrites only the records that differ, stamped with `_built_at` (macros/
    last_build_rows.sql). fct_orders and int_touch_events_resolved then read only the records stamped
    after their own newest `_built_at`, instead of each joining all their rows to today's identity again
    (DECISIONLOG "Customer state is a model").
    - An outcome is customer_id, customer_count, identity_status, rejection_reason and
      is_customer_known_beyond_touches (the record's customer has a resolved record that is not a touch
      event: the touch events' flag, which changes when a customer known only from touches buys or joins).
    - This table is where a record's identity is stored: int_record_identity is a view that only this
      model reads (int_record_customers reads the resolved rows here). Writing its 5.4M rows at 1M people
      as a table of their own cost 1.2 s a day, and its tests scanned them all again.
    - A record that no longer has any identifier observation (a re-export dropped its only phone) keeps a
      row with identity_status null, stamped when it went: its consumers then see no_identifier, as for
      a record that never had one.
    - The records a day can have changed (issue 17: identity over the affected part, not all 5.4M records
      at 1M people): those with observations written or retracted after this model's last build, those
      showing an identifier whose customer changed (customer_identifier_map's updated_at) or whose hub
      status changed (int_identity_hubs' stamp). Their outcome is int_record_identity's rule
      (record_identity_outcomes) on their observations only. A customer's beyond-touches flag is
      recomputed from the stored rows of every customer such a record had or has now, with the new
      outcomes in place of the old.
    Equals a full rebuild, stamps and those vanished records aside (tests/dbt/test_incremental_facts.py,
    tests/dbt/identity/test_identity_stable_ids.py).
-#}

{%- set outcome_columns = [
    'customer_id', 'customer_count', 'identity_status', 'rejection_reason', 'is_customer_known_beyond_touches',
] -%}
{%- set candidates = ref('int_identifier_candidates') %}
{%- set id_map = ref('customer_identifier_map') %}
{%- set hubs = ref('int_identity_hubs') %}
{%- set customer_identifiers = ref('int_customer_identifiers') %}

with

{%- if is_incremental() %}
{%- set since = last_build_stamp() %}

-- identifiers whose customer changed (the map rewrites exactly those) or whose hub status changed
changed_identifiers as (

    select id_map.identifier_id
    from {{ id_map }} as id_map
    where {{ since }} is null or id_map.updated_at > {{ since }}
    union
    select flipped.identifier_id
    from {{ hubs }} as flipped
    where {{ written_since_last_build('flipped', since) }}

),

-- the records whose outcome can have changed: observations written or retracted after this model's last
-- build (a record with none left is here through its retracted rows), and records showing a changed
-- identifier
affected_records as (

    select changed.record_id, changed.record_key
    from {{ candidates }} as changed
    where {{ written_since_last_build('changed', since) }}
    union
    select record_id, record_key
    from {{ candidates }}
    where retracted_at is null
        and identifier_id in (select identifier_id from changed_identifiers)

),

record_identity as (

    {{ record_identity_outcomes(
        '(select record_key, identifier_id, rejection_reason from ' ~ candidates
        ~ ' where retracted_at is null and record_id in (select record_id from affected_records))',
        customer_identifiers,
    ) }}

),

-- a customer's beyond-touches flag depends on all its records: the stored rows of every customer an
-- affected record had or has now are read back
affected_customers as (

    select customer_id from record_identity where customer_id is not null
    union
    select stored.customer_id
    from {{ this }} as stored
    -- distinct: so DuckDB hashes the day's few records, not the 5.1M stored ones (at 1M people; in
    -- process 0.89 -> 0.61 s)
    inner join (select distinct record_key from affected_records) as affected
        on affected.record_key = stored.record_key
    where stored.customer_id is not null

),

-- today's outcome of every record in scope: an affected record's new one (null when it has no
-- observation left), and the other records of the affected customers as stored
scope as (

    select
        affected.record_key,
        record_identity.customer_id,
        record_identity.customer_count,
        record_identity.identity_status,
        record_identity.rejection_reason
    from (select distinct record_key from affected_records) as affected
    left join record_identity
        on record_identity.record_key = affected.record_key
    union all
    select stored.record_key, stored.customer_id, stored.customer_count, stored.identity_status, stored.rejection_reason
    from {{ this }} as stored
    where stored.customer_id in (select customer_id from affected_customers)
        and not exists (
            select 1 from affected_records where affected_records.record_key = stored.record_key
        )

),
{%- else %}

scope as (

    select * from {{ ref('int_record_identity') }}

),
{%- endif %}

-- customers seen somewhere else than in touch logs (a customer known only as a touch recipient has no
-- orders or member row to convert through): those with a resolved record that is not a touch event
customers_beyond_touches as (

    select distinct customer_id
    from scope
    where identity_status = 'resolved'
        and record_key not like 'touches:%'

),

outcomes as (

    select
        scope.record_key,
        scope.customer_id,
        scope.customer_count,
        scope.identity_status,
        scope.rejection_reason,
        customers_beyond_touches.customer_id is not null as is_customer_known_beyond_touches
    from scope
    left join customers_beyond_touches
        on customers_beyond_touches.customer_id = scope.customer_id

),

{%- if is_incremental() %}

-- the scope's outcomes against the stored ones: a record new today, one whose outcome differs, and a
-- stored record that lost its identifiers (outcome null, unless already stored so)
compared as (

    select
        outcomes.record_key,
        outcomes.customer_id,
        outcomes.customer_count,
        outcomes.identity_status,
        outcomes.rejection_reason,
        outcomes.is_customer_known_beyond_touches,
        case
            when stored.record_key is null then outcomes.identity_status is not null
            else false
            {%- for column in outcome_columns %}
                or stored.{{ column }} is distinct from outcomes.{{ column }}
            {%- endfor %}
        end as is_changed
    from outcomes
    left join {{ this }} as stored
        on stored.record_key = outcomes.record_key

),

changed as (

    select record_key, {{ outcome_columns | join(', ') }}
    from compared
    where is_changed

),
{%- else %}

changed as (

    select * from outcomes

),
{%- endif %}

final as (

    select
        cast(record_key as {{ dbt.type_string() }}) as record_key,
        cast(customer_id as {{ dbt.type_string() }}) as customer_id,
        cast(customer_count as integer) as customer_count,
        cast(identity_status as {{ dbt.type_string() }}) as identity_status,
        cast(rejection_reason as {{ dbt.type_string() }}) as rejection_reason,
        cast(is_customer_known_beyond_touches as boolean) as is_customer_known_beyond_touches,
        {{ built_at() }} as _built_at
    from changed

)

select * from final
