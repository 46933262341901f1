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
    ever had an identifier observation. The identity is rebuilt in full every day (a new link can merge
    any two clusters), so its tables say what a record resolves to today, not which records a day changed.
    This model says that once, for every consumer: a build compares today's outcome of every record with
    the stored one and rewrites only the records that differ, stamped with `_built_at` (macros/
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
    Equals a full rebuild, stamps and those vanished records aside (tests/dbt/test_incremental_facts.py).
-#}

{%- set outcome_columns = [
    'customer_id', 'customer_count', 'identity_status', 'rejection_reason', 'is_customer_known_beyond_touches',
] -%}

with

record_identity as (

    select * from {{ ref('int_record_identity') }}

),

-- customers seen somewhere else than in touch logs (a customer known only as a touch recipient has no
-- orders or member row to convert through): those with a resolved record that is not a touch event
customers_beyond_touches as (

    select distinct customer_id
    from record_identity
    where identity_status = 'resolved'
        and record_key not like 'touches:%'

),

outcomes as (

    select
        record_identity.record_key,
        record_identity.customer_id,
        record_identity.customer_count,
        record_identity.identity_status,
        record_identity.rejection_reason,
        customers_beyond_touches.customer_id is not null as is_customer_known_beyond_touches
    from record_identity
    left join customers_beyond_touches
        on customers_beyond_touches.customer_id = record_identity.customer_id

),

{%- if is_incremental() %}

-- today's outcome of every record against the stored one, in one join: a record new today, one whose
-- outcome differs, and a stored record that lost its identifiers (outcome null, unless already stored so)
compared as (

    select
        coalesce(outcomes.record_key, stored.record_key) as record_key,
        outcomes.customer_id,
        outcomes.customer_count,
        outcomes.identity_status,
        outcomes.rejection_reason,
        coalesce(outcomes.is_customer_known_beyond_touches, false) as is_customer_known_beyond_touches,
        stored.record_key is null
        {%- for column in outcome_columns %}
            or stored.{{ column }} is distinct from
                {{ 'coalesce(outcomes.' ~ column ~ ', false)' if column.startswith('is_') else 'outcomes.' ~ column }}
        {%- endfor %} as is_changed
    from outcomes
    full outer join {{ this }} as stored
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
