{{
    config(
        materialized=incremental_materialization(),
        unique_key='event_key',
        incremental_strategy='delete+insert',
        on_schema_change='append_new_columns',
        post_hook="{{ delete_vanished_keys('event_key', ref('int_touch_events_resolved'), counted=true) }}",
    )
}}

{#-
    One row per campaign touch event with its customer (null when the recipient does not resolve:
    resolution_status / unresolved_reason say why; such events are kept, never dropped). The recipient
    itself is personal data and stays in staging: this mart carries its salted hash.
    Incremental by change detection like fct_orders (macros/incremental_changes.sql): a run writes the new
    day's events and the old ones whose customer changed (an identity merge), and equals a full rebuild.
    A row depends on its int_touch_events_resolved row and the hash key only, so a run reads the events
    that model wrote after this table's newest `_built_at` (the new and re-resolved ones: DECISIONLOG
    "Customer state is a model"), not all of them; all of them when the hash key changed (one stored
    hash is made again to tell).
-#}

with

{% if is_incremental() %}
-- 1 when a stored recipient hash is what today's key makes of its recipient (or nothing is stored), else 0
same_hash_key as (

    select coalesce(min(case when stored.recipient_hash = {{ pii_hash('resolved.recipient') }} then 1 else 0 end), 1)
        as same_key
    from (
        select event_key, recipient_hash
        from {{ this }}
        where recipient_hash is not null
        order by event_key
        limit 1
    ) as stored
    inner join {{ ref('int_touch_events_resolved') }} as resolved
        on resolved.event_key = stored.event_key

),

{% endif %}
events as (

    select resolved.*
    from {{ ref('int_touch_events_resolved') }} as resolved
    {% if is_incremental() %}
    cross join same_hash_key
    where same_hash_key.same_key = 0
        or {{ written_since_last_build('resolved') }}
    {% endif %}

),

final as (

    select
        cast(event_key as {{ dbt.type_string() }}) as event_key,
        cast(campaign_id as {{ dbt.type_string() }}) as campaign_id,
        cast(campaign_name as {{ dbt.type_string() }}) as campaign_name,
        cast(channel as {{ dbt.type_string() }}) as channel,
        cast(variant as {{ dbt.type_string() }}) as variant,
        cast(is_control as boolean) as is_control,
        cast(recipient_type as {{ dbt.type_string() }}) as recipient_type,
        cast(case when recipient is not null then {{ pii_hash('recipient') }} end as {{ dbt.type_string() }}) as recipient_hash,
        cast(event_type as {{ dbt.type_string() }}) as event_type,
        cast(event_time as timestamp) as event_time,
        cast(event_time as date) as event_date,
        cast(customer_id as {{ dbt.type_string() }}) as customer_id,
        cast(resolution_status as {{ dbt.type_string() }}) as resolution_status,
        cast(unresolved_reason as {{ dbt.type_string() }}) as unresolved_reason,
        cast(is_customer_known_beyond_touches as boolean) as is_customer_known_beyond_touches,
        cast(_file_name as {{ dbt.type_string() }}) as _file_name,
        {{ built_at() }} as _built_at
    from events

)

select * from final
{% if is_incremental() %}
where {{ incremental_changed_rows('final', 'event_key') }}
{% endif %}
