{#-
    How many touch recipients resolved to a customer, per campaign x channel x recipient type. A
    recipient is a distinct recipient value (its hash); an event without any recipient value counts as
    one recipient of its own. Unresolved recipients are counted by reason, never silently dropped.
-#}

with

events as (

    select * from {{ ref('fct_touch_events') }}
    where {{ campaigns_on_or_before_as_of('event_time') }}

),

recipients as (

    select
        campaign_id,
        channel,
        recipient_type,
        coalesce(recipient_hash, 'event:' || event_key) as recipient_unit,
        -- a recipient value resolves identically on every event; min() only guards against mixed rows
        min(resolution_status) as resolution_status,
        min(unresolved_reason) as unresolved_reason,
        count(*) as events
    from events
    group by campaign_id, channel, recipient_type, coalesce(recipient_hash, 'event:' || event_key)

),

final as (

    select
        cast(campaign_id as {{ dbt.type_string() }}) as campaign_id,
        cast(channel as {{ dbt.type_string() }}) as channel,
        cast(recipient_type as {{ dbt.type_string() }}) as recipient_type,
        cast(sum(events) as integer) as events,
        cast(count(*) as integer) as recipients,
        cast(sum(case when resolution_status = 'resolved' then 1 else 0 end) as integer) as resolved_recipients,
        cast(sum(case when resolution_status <> 'resolved' then 1 else 0 end) as integer) as unresolved_recipients,
        cast(sum(case when resolution_status <> 'resolved' then events else 0 end) as integer) as unresolved_events,
        cast(sum(case when resolution_status = 'hub_only' then 1 else 0 end) as integer) as hub_only_recipients,
        cast(sum(case when resolution_status = 'unusable_identifier' then 1 else 0 end) as integer) as unusable_identifier_recipients,
        cast(sum(case when resolution_status = 'no_identifier' then 1 else 0 end) as integer) as no_identifier_recipients,
        cast({{ campaigns_ratio("sum(case when resolution_status = 'resolved' then 1 else 0 end)", 'count(*)') }} as double) as resolution_rate,
        cast(min(unresolved_reason) as {{ dbt.type_string() }}) as example_unresolved_reason
    from recipients
    group by campaign_id, channel, recipient_type

)

select * from final
