{#-
    Every touch event with the customer its recipient resolves to through the identity tables (a touch
    recipient is an identity node: phone, openid, unionid, member card or email; int_record_identity
    gives the touch record's customer, or why none resolved). An unresolved recipient keeps its row with
    customer_id null and a resolution_status saying why: hub_only (the value is shared by many people and
    never identifies one), unusable_identifier (masked / invalid / recipient_issue: the identity rejection
    reason is kept) or no_identifier (no recipient at all).
    A `control` row is an assignment to the holdout group, never a send, whatever its event type.
-#}

with

touches as (

    select * from {{ ref('stg_touches__events') }}

),

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

keyed as (

    select
        touches.*,
        'touches:' || touches.event_key as record_key
    from touches

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
        customers_beyond_touches.customer_id is not null as is_customer_known_beyond_touches,
        keyed._file_name
    from keyed
    left join record_identity
        on record_identity.record_key = keyed.record_key
    left join customers_beyond_touches
        on customers_beyond_touches.customer_id = record_identity.customer_id

)

select * from final
