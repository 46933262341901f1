{#-
    One row per campaign touch event. The same event exported twice (overlapping logs, a re-sent file)
    is one event: rows equal on every canonical column are collapsed, keeping the first loaded copy's
    lineage.
-#}
{%- set event_columns = [
    'campaign_id', 'campaign_name', 'channel', 'variant', 'recipient_type', 'recipient',
    'recipient_issue', 'event_type', 'event_time',
] -%}

with source as (
    select * from {{ source('raw', 'touches') }}
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
