{#- The automated touch's daily list (自动化触达): one row per customer x trigger fired on as_of
    (int_activation_triggers_fired), with the playbook's recommended action for the customer's segment,
    personalisation fields (no name or phone: those are joined only by the restricted exports), the one
    channel it goes to, or why it is not sent (suppressed_reason, in this precedence):

    1. control_group: the customer is in a campaign's holdout whose attribution window is still open on
       as_of (a touch would contaminate the measurement);
    2. unreachable: no channel of touch_channel_preference reaches the customer (wecom friend, sms
       consent with a phone, a known email);
    3. unsubscribed / complained / bounced / failed: every reachable channel is suppressed by the touch
       log (unsubscribed and complained for good, bounced and failed for
       touch_delivery_failure_suppress_days days); the reason of the first preferred reachable channel;
    4. frequency_cap: touch_cap_touches touches in the touch_cap_days days ending as_of are used up by
       earlier days' exported trigger touches (raw._touch_send_log, as_of_date before this as_of) and
       campaign sends (sent touch events up to as_of), or by this day's higher-priority triggers;
    5. daily_limit: the customer already gets touch_max_per_day higher-priority triggers today.
    A sent row has channel set and suppressed_reason null; a suppressed row has channel null. -#}

{%- set preference = var('touch_channel_preference') -%}
{%- set priority = var('trigger_priority') -%}
{%- set cap_days = var('touch_cap_days') -%}

with

as_of as (

    select as_of_date from {{ ref('repurchase_as_of') }}

),

fired as (

    select * from {{ ref('int_activation_triggers_fired') }}

),

rfm as (

    select * from {{ ref('customer_rfm') }}

),

customers as (

    select * from {{ ref('dim_customers') }}

),

tiers as (

    select * from {{ ref('member_tiers') }}

),

purchases as (

    select * from {{ ref('repurchase_purchases') }}

),

order_lines as (

    select * from {{ ref('fct_order_lines') }}

),

touch_events as (

    select * from {{ ref('fct_touch_events') }}

),

assignments as (

    select * from {{ ref('campaign_assignments') }}

),

identifiers as (

    select * from {{ ref('int_customer_identifiers') }}

),

send_log as (

    select * from {{ ref('stg_raw__touch_send_log') }}

),

emails as (

    select distinct customer_id
    from identifiers
    where identifier_type = 'email'

),

reach as (

    select
        customers.customer_id,
        coalesce(customers.wecom_friend, false) as reaches_wecom,
        coalesce(customers.phone_hash is not null and customers.sms_consent, false) as reaches_sms,
        emails.customer_id is not null as reaches_email
    from customers
    left join emails
        on emails.customer_id = customers.customer_id

),

channel_suppressions as (

    select
        touch_events.customer_id,
        touch_events.channel,
        -- one reason per customer x channel: the permanent ones first
        min(case touch_events.event_type
            when 'unsubscribed' then '1unsubscribed' when 'complained' then '2complained'
            when 'bounced' then '3bounced' else '4failed'
        end) as ranked_reason
    from touch_events
    cross join as_of
    where touch_events.customer_id is not null
        and touch_events.event_date <= as_of.as_of_date
        and (
            touch_events.event_type in ('unsubscribed', 'complained')
            or (
                touch_events.event_type in ('bounced', 'failed')
                and touch_events.event_date > {{ marts_add_days(-var('touch_delivery_failure_suppress_days'),
                                                                'as_of.as_of_date') }}
            )
        )
    group by touch_events.customer_id, touch_events.channel

),

control_groups as (

    select distinct assignments.customer_id
    from assignments
    cross join as_of
    where assignments.is_control
        and cast(assignments.first_touch_at as date) <= as_of.as_of_date
        and cast(assignments.window_end_at as date) >= as_of.as_of_date

),

-- one row per fired trigger x channel the customer is reachable on, in preference order
channel_options as (

    {% for channel in preference %}
    select
        fired.customer_id,
        fired.trigger_code,
        '{{ channel }}' as channel,
        {{ loop.index }} as preference_rank,
        substr(channel_suppressions.ranked_reason, 2) as channel_suppressed_reason
    from fired
    inner join reach
        on reach.customer_id = fired.customer_id
        and reach.reaches_{{ channel }}
    left join channel_suppressions
        on channel_suppressions.customer_id = fired.customer_id
        and channel_suppressions.channel = '{{ channel }}'
    {% if not loop.last %}union all{% endif %}
    {% endfor %}

),

channel_choice as (

    select
        customer_id,
        trigger_code,
        -- the first reachable channel not suppressed; else the first reachable channel's reason
        min(case when channel_suppressed_reason is null then preference_rank end) as chosen_rank,
        min_by(channel_suppressed_reason, preference_rank) as first_suppressed_reason
    from channel_options
    group by customer_id, trigger_code

),

chosen as (

    select
        fired.customer_id,
        fired.trigger_code,
        options.channel,
        case
            when control_groups.customer_id is not null then 'control_group'
            when channel_choice.customer_id is null then 'unreachable'
            when channel_choice.chosen_rank is null then channel_choice.first_suppressed_reason
        end as pre_cap_reason,
        case fired.trigger_code
            {% for code in priority %}when '{{ code }}' then {{ loop.index }} {% endfor %}
            else {{ priority | length + 1 }}
        end as trigger_priority
    from fired
    left join control_groups
        on control_groups.customer_id = fired.customer_id
    left join channel_choice
        on channel_choice.customer_id = fired.customer_id
        and channel_choice.trigger_code = fired.trigger_code
    left join channel_options as options
        on options.customer_id = fired.customer_id
        and options.trigger_code = fired.trigger_code
        and options.preference_rank = channel_choice.chosen_rank

),

-- touches already made in the cap window: earlier days' exported trigger touches and campaign sends
prior_touches as (

    select customer_id, count(*) as touches
    from (
        select send_log.customer_id
        from send_log
        cross join as_of
        where send_log.as_of_date < as_of.as_of_date
            and send_log.as_of_date > {{ marts_add_days(-cap_days, 'as_of.as_of_date') }}
        union all
        select touch_events.customer_id
        from touch_events
        cross join as_of
        where touch_events.event_type = 'sent'
            and not touch_events.is_control
            and touch_events.customer_id is not null
            and touch_events.event_date <= as_of.as_of_date
            and touch_events.event_date > {{ marts_add_days(-cap_days, 'as_of.as_of_date') }}
    ) as touches
    group by customer_id

),

ranked as (

    select
        chosen.*,
        coalesce(prior_touches.touches, 0) as prior_touches,
        case when chosen.pre_cap_reason is null then
            row_number() over (
                partition by chosen.customer_id, chosen.pre_cap_reason is null
                order by chosen.trigger_priority, chosen.trigger_code
            )
        end as send_rank
    from chosen
    left join prior_touches
        on prior_touches.customer_id = chosen.customer_id

),

decided as (

    select
        *,
        case
            when pre_cap_reason is not null then pre_cap_reason
            when send_rank > {{ var('touch_cap_touches') }} - prior_touches then 'frequency_cap'
            when send_rank > {{ var('touch_max_per_day') }} then 'daily_limit'
        end as suppressed_reason
    from ranked

),

last_purchase as (

    select
        purchases.customer_id,
        max_by(purchases.order_key, purchases.ordered_at) as order_key,
        max_by(purchases.channel, purchases.ordered_at) as last_channel,
        max_by(purchases.channel || ':' || purchases.shop_id, purchases.ordered_at) as last_store
    from purchases
    cross join as_of
    where purchases.purchase_date <= as_of.as_of_date
    group by purchases.customer_id

),

last_product as (

    select
        order_lines.order_key,
        max_by(order_lines.sku_name, order_lines.line_amount) as last_product
    from order_lines
    inner join last_purchase
        on last_purchase.order_key = order_lines.order_key
    where not order_lines.is_return
    group by order_lines.order_key

),

final as (

    select
        cast(decided.customer_id as {{ dbt.type_string() }}) as customer_id,
        cast(as_of.as_of_date as date) as as_of_date,
        cast(decided.trigger_code as {{ dbt.type_string() }}) as trigger_code,
        cast(decided.trigger_priority as integer) as trigger_priority,
        cast(fired.fired_reason as {{ dbt.type_string() }}) as fired_reason,
        cast(rfm.segment as {{ dbt.type_string() }}) as segment,
        cast(rfm.segment_code as {{ dbt.type_string() }}) as segment_code,
        cast(rfm.lifecycle_stage as {{ dbt.type_string() }}) as lifecycle_stage,
        cast(rfm.recommended_action as {{ dbt.type_string() }}) as recommended_action,
        cast(tiers.tier as {{ dbt.type_string() }}) as member_tier,
        cast(customers.points as integer) as points,
        cast(last_purchase.last_channel as {{ dbt.type_string() }}) as last_channel,
        cast(last_purchase.last_store as {{ dbt.type_string() }}) as last_store,
        cast(last_product.last_product as {{ dbt.type_string() }}) as last_product,
        cast(customers.phone_hash as {{ dbt.type_string() }}) as phone_hash,
        cast(decided.prior_touches as integer) as prior_touches_in_cap_window,
        cast(case when decided.suppressed_reason is null then decided.channel end as {{ dbt.type_string() }}) as channel,
        cast(decided.suppressed_reason is null as boolean) as is_sent,
        cast(decided.suppressed_reason as {{ dbt.type_string() }}) as suppressed_reason
    from decided
    cross join as_of
    inner join fired
        on fired.customer_id = decided.customer_id
        and fired.trigger_code = decided.trigger_code
    left join rfm
        on rfm.customer_id = decided.customer_id
    left join tiers
        on tiers.customer_id = decided.customer_id
    left join customers
        on customers.customer_id = decided.customer_id
    left join last_purchase
        on last_purchase.customer_id = decided.customer_id
    left join last_product
        on last_product.order_key = last_purchase.order_key

)

select * from final
