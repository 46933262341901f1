{#- Who an automated touch (自动化触达) may reach on the as_of day, and on which channel: the send rules
    written once, read by activation_triggers (the dbt triggers) and prediction/churn_risk.py (churn_risk,
    after the predictive CLV). One row per customer: every resolved customer (dim_customers), every
    customer with a purchase (the churn_risk candidates of customer_clv_predicted) and every customer a
    trigger fired for today, so no consumer meets a customer without a row.

    - channel: the first channel of touch_channel_preference that reaches the customer (wecom: a WeCom
      friend; sms: a phone with SMS consent; email: a known email) and is not suppressed by the touch log
      (unsubscribed and complained for good, bounced and failed for touch_delivery_failure_suppress_days
      days); null when none;
    - pre_cap_suppressed_reason, in this precedence: control_group (in a campaign holdout whose window is
      open on as_of), unreachable (no channel reaches the customer), else the first preferred reachable
      channel's reason (unsubscribed > complained > bounced > failed) when every reachable channel is
      suppressed; null when the customer can be sent to;
    - prior_touches_in_cap_window: earlier days' exported trigger touches (raw._touch_send_log, as_of_date
      before this as_of) and campaign sends (sent touch events up to as_of) in the touch_cap_days days
      ending as_of; cap_touches_left: what touch_cap_touches leaves of it (0 at least). The day's own
      touches are the consumer's: the k-th touch of the customer today hits frequency_cap when
      k > cap_touches_left. -#}

{%- set preference = var('touch_channel_preference') -%}
{%- set cap_days = var('touch_cap_days') -%}

with

as_of as (

    select as_of_date from {{ ref('repurchase_as_of') }}

),

customers as {{ cte_not_materialized() }} (

    select * from {{ ref('dim_customers') }}

),

purchases as (

    select * from {{ ref('repurchase_purchases') }}

),

fired as (

    select * from {{ ref('int_activation_triggers_fired') }}

),

identifiers as (

    select * from {{ ref('int_customer_identifiers') }}

),

touch_events as {{ cte_not_materialized() }} (

    select * from {{ ref('fct_touch_events') }}

),

assignments as (

    select * from {{ ref('campaign_assignments') }}

),

send_log as (

    select * from {{ ref('stg_raw__touch_send_log') }}

),

population as (

    select customer_id from customers
    union
    select customer_id from purchases where customer_id is not null
    union
    select customer_id from fired

),

emails as (

    select distinct customer_id
    from identifiers
    where identifier_type = 'email'

),

reach as (

    select
        population.customer_id,
        {{ touch_reaches_wecom('customers') }} as reaches_wecom,
        {{ touch_reaches_sms('customers') }} as reaches_sms,
        emails.customer_id is not null as reaches_email
    from population
    left join customers
        on customers.customer_id = population.customer_id
    left join emails
        on emails.customer_id = population.customer_id

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

-- one row per customer x channel the customer is reachable on, in preference order
channel_options as (

    {% for channel in preference %}
    select
        reach.customer_id,
        '{{ channel }}' as channel,
        {{ loop.index }} as preference_rank,
        substr(channel_suppressions.ranked_reason, 2) as channel_suppressed_reason
    from reach
    left join channel_suppressions
        on channel_suppressions.customer_id = reach.customer_id
        and channel_suppressions.channel = '{{ channel }}'
    where reach.reaches_{{ channel }}
    {% if not loop.last %}union all{% endif %}
    {% endfor %}

),

channel_choice as (

    select
        customer_id,
        -- the first reachable channel not suppressed; else the first reachable channel's reason
        case min(case when channel_suppressed_reason is null then preference_rank end)
            {% for channel in preference %}when {{ loop.index }} then '{{ channel }}' {% endfor %}
        end as channel,
        min_by(channel_suppressed_reason, preference_rank) as first_suppressed_reason
    from channel_options
    group by customer_id

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

final as (

    select
        cast(population.customer_id as {{ dbt.type_string() }}) as customer_id,
        cast(as_of.as_of_date as date) as as_of_date,
        cast(channel_choice.channel as {{ dbt.type_string() }}) as channel,
        cast(case
            when control_groups.customer_id is not null then 'control_group'
            when channel_choice.customer_id is null then 'unreachable'
            when channel_choice.channel is null then channel_choice.first_suppressed_reason
        end as {{ dbt.type_string() }}) as pre_cap_suppressed_reason,
        cast(coalesce(prior_touches.touches, 0) as integer) as prior_touches_in_cap_window,
        cast(greatest({{ var('touch_cap_touches') }} - coalesce(prior_touches.touches, 0), 0) as integer)
            as cap_touches_left
    from population
    cross join as_of
    left join control_groups
        on control_groups.customer_id = population.customer_id
    left join channel_choice
        on channel_choice.customer_id = population.customer_id
    left join prior_touches
        on prior_touches.customer_id = population.customer_id

)

select * from final
