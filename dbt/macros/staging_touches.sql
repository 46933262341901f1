{#-
    The body of stg_touches__events: one row per campaign touch event. The same event exported twice
    (overlapping logs, a re-sent file) is one event: rows equal on every canonical column are collapsed,
    keeping the first loaded copy's lineage.

    raw_touches: the raw relation (source('raw', 'touches'), passed by the model so that each model names
    its source itself).
    loaded_after (an SQL expression, e.g. a scalar subquery): only the raw rows loaded after it are read,
    with the filter on the raw scan itself. An incremental reader uses it instead of filtering the view:
    a filter on the view's output cannot pass below its row_number() (it would change the ranking), so
    every daily run hashed and ranked all the history of raw touches. Among the rows loaded after a
    point, an event's first copy is its first copy overall when no earlier row has its key: the reader
    drops the keys it already holds (int_touch_events_resolved).
-#}
{% macro stg_touches_events(raw_touches, loaded_after=none) -%}
{%- set event_columns = [
    'campaign_id', 'campaign_name', 'channel', 'variant', 'recipient_type', 'recipient',
    'recipient_issue', 'event_type', 'event_time',
] -%}

with source as (
    select * from {{ raw_touches }}
    {%- if loaded_after %}
    where _loaded_at > {{ loaded_after }}
    {%- endif %}
),

keyed as (
    select
        {{ surrogate_key(event_columns) }} as event_key,
        *
    from source
),

ranked as (
    select
        *,
        row_number() over (
            partition by event_key
            order by _loaded_at, _file_name, _file_sha256, _row_number
        ) as copy_rank
    from keyed
),

renamed as (
    select
        event_key,
        campaign_id,
        campaign_name,
        lower(trim(channel)) as channel,
        variant,
        lower(trim(recipient_type)) as recipient_type,
        recipient,
        recipient_issue,
        lower(trim(event_type)) as event_type,
        cast(event_time as timestamp) as event_time,
        _file_name,
        _file_sha256,
        _row_number,
        _loaded_at
    from ranked
    where copy_rank = 1
)

select * from renamed
{%- endmacro %}
