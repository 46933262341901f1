{{
    config(
        materialized=incremental_materialization(),
        unique_key='event_key',
        incremental_strategy='delete+insert',
        on_schema_change='fail',
    )
}}

{#-
    Every touch event with the customer its recipient resolves to through the identity tables (a touch
    recipient is an identity node: phone, openid, unionid, member card or email; int_record_identity,
    read through int_record_identity_changes, gives the touch record's customer, or why none resolved).
    An unresolved recipient keeps its row with customer_id null and a resolution_status saying why:
    hub_only (the value is shared by many people and never identifies one), unusable_identifier (masked /
    invalid / recipient_issue: the identity rejection reason is kept) or no_identifier (no recipient at
    all).
    A `control` row is an assignment to the holdout group, never a send, whatever its event type.

    Incremental (DECISIONLOG "Incremental models are selective"), the two patterns of the other
    incremental models side by side, and equal to a full rebuild:
      - new events: the staging events first loaded after the table's newest `_source_loaded_at` (the
        watermark of identity_incremental_new_touches: staging keeps an event's first copy and an event is
        immutable, its key a hash of its columns, so a later copy of an old event changes nothing), read
        with staging's rule from the raw rows loaded after the watermark, less the events already here;
      - old events whose identity changed (a merge moved the recipient to another customer, a value
        became a hub, the customer bought somewhere and is now known beyond touches): the stored events
        whose record int_record_identity_changes stamped after this table's newest `_built_at` meet
        today's identity again from their own columns, and only the rows that differ from the stored ones
        are kept (incremental_changed_rows, as fct_touch_events does);
    delete+insert on event_key replaces those; no other row is written, and the rows written carry this
    build's `_built_at` (macros/last_build_rows.sql: the data tests check those rows). Raw rows are
    assumed never deleted, and a change of this model's logic or columns needs a --full-refresh
    (on_schema_change fail), as for the other incremental models.
-#}

{#- The raw touches an incremental run reads with staging's rule (named here, so dbt sees the source on
    every build). -#}
{%- set raw_touches = source('raw', 'touches') -%}

{#- An event's own columns: read from staging, and from this table for the stored events. The stamp
    `_built_at` is not one: a stored event is looked up again without it, gets this build's stamp only if
    it is written, and incremental_changed_rows does not compare it (bookkeeping). -#}
{%- set event_columns = [
    'event_key', 'campaign_id', 'campaign_name', 'channel', 'variant', 'recipient_type', 'recipient',
    'recipient_issue', 'event_type', 'event_time', '_file_name',
] -%}

with

{%- if is_incremental() %}

-- staging's events from the raw rows loaded after the watermark only (macros/staging_touches.sql: the
-- same rule as stg_touches__events, filtered on the raw scan)
staged as (

    select *
    from ({{ stg_touches_events(
        raw_touches,
        loaded_after="(select coalesce(max(_source_loaded_at), cast('1900-01-01' as timestamp)) from " ~ this ~ ")",
    ) }}) as staged_rows

),

-- those already here, found from the staged keys (a `not exists` against the table hashed every stored
-- event key, 1.9M at 1M people, even on a day without a touch file)
already_stored as (

    select stored.event_key
    from (select distinct event_key from staged) as staged_keys
    inner join {{ this }} as stored
        on stored.event_key = staged_keys.event_key

),
{%- endif %}

touches as (

    select
        {{ event_columns | join(',\n        ') }},
        _loaded_at
    {%- if is_incremental() %}
    from staged
    where not exists (
        select 1 from already_stored where already_stored.event_key = staged.event_key
    )
    {%- else %}
    from {{ ref('stg_touches__events') }}
    {%- endif %}

),

{%- if is_incremental() %}

-- the events of earlier builds whose record's identity outcome changed since this table's last build
-- (int_record_identity_changes), from their own columns: their identity is looked up again below. The
-- changed touch records' event keys are joined to the stored events (`'touches:' || event_key in (...)`
-- made the key of every stored event and read all their columns first)
stored as (

    select
        {%- for column in event_columns %}
        stored_events.{{ column }},
        {%- endfor %}
        stored_events._source_loaded_at as _loaded_at
    from (
        select distinct substr(record_key, {{ 'touches:' | length + 1 }}) as event_key
        from ({{ keys_written_since_last_build(ref('int_record_identity_changes'), 'record_key') }}) as written
        where record_key like 'touches:%'
    ) as changed
    inner join {{ this }} as stored_events
        on stored_events.event_key = changed.event_key

),

events as (

    select * from touches
    union all
    select * from stored

),
{%- else %}

events as (

    select * from touches

),
{%- endif %}

record_identity as (

    select * from {{ ref('int_record_identity_changes') }}

),

keyed as (

    select
        events.*,
        'touches:' || events.event_key as record_key
    from events

),

final as (

    select
        keyed.event_key,
        keyed.campaign_id,
        keyed.campaign_name,
        keyed.channel,
        keyed.variant,
        coalesce(lower(keyed.variant) = 'control', false) as is_control,
        keyed.recipient_type,
        keyed.recipient,
        keyed.recipient_issue,
        keyed.event_type,
        keyed.event_time,
        record_identity.customer_id,
        coalesce(record_identity.identity_status, 'no_identifier') as resolution_status,
        case record_identity.identity_status
            when 'resolved' then null
            when 'hub_only' then 'recipient is a hub identifier'
            when 'unusable_identifier' then record_identity.rejection_reason
            else 'no recipient'
        end as unresolved_reason,
        coalesce(record_identity.is_customer_known_beyond_touches, false) as is_customer_known_beyond_touches,
        keyed._file_name,
        cast(keyed._loaded_at as timestamp) as _source_loaded_at,
        {{ built_at() }} as _built_at
    from keyed
    left join record_identity
        on record_identity.record_key = keyed.record_key

)

select * from final
{%- if is_incremental() %}
-- new events, and stored ones whose identity columns changed (macros/incremental_changes.sql)
where {{ incremental_changed_rows('final', 'event_key') }}
{%- endif %}
