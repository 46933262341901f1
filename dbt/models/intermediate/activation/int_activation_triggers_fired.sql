{#- The automated touch's rules (自动化触达): one row per customer x trigger that fires on the as_of day,
    before any channel, suppression or cap (activation_triggers decides those). Every threshold is a var:

    - repurchase_reminder: the last purchase was exactly trigger_repurchase_reminder_days ago;
    - first_repurchase_nudge: one purchase day only (the first and the last are one day), and it was
      exactly trigger_first_repurchase_days ago;
    - newly_silent / newly_churned: lifecycle_transitions moved the customer to silent / churned on as_of
      (the crossing day only);
    - tier_upgrade: the member tier (marts_member_tier over the tier window ending the day) is higher on
      as_of than the day before, from silver or above (a first purchase earning silver is not an upgrade);
    - birthday: the member's 生日 (MM-DD) is the as_of day; 02-29 fires on 02-28 in a year without it;
    - clicked_not_ordered: the customer's latest campaign click (not a control row) is exactly
      attribution_window_days before as_of and no purchase followed it up to as_of.
    Only events on or before as_of are read. churn_risk (p_alive below a var) is not here: the predictive
    CLV mart is written by a Dagster asset after dbt (DECISIONLOG.md). -#}

{%- set tier_window = var('tier_window_months') -%}

with

as_of as (

    select as_of_date from {{ ref('repurchase_as_of') }}

),

purchases as {{ cte_not_materialized() }} (

    select * from {{ ref('repurchase_purchases') }}

),

transitions as (

    select * from {{ ref('lifecycle_transitions') }}

),

customers as (

    select * from {{ ref('dim_customers') }}

),

touch_events as (

    select * from {{ ref('fct_touch_events') }}

),

spend_orders as (

    {{ marts_spend_orders() }}

),

purchase_days as (

    select
        purchases.customer_id,
        max(purchases.purchase_date) as last_purchase_date,
        min(purchases.purchase_date) as first_purchase_date
    from purchases
    cross join as_of
    where purchases.purchase_date <= as_of.as_of_date
    group by purchases.customer_id

),

repurchase_reminder as (

    select
        purchase_days.customer_id,
        'repurchase_reminder' as trigger_code,
        'last purchase ' || cast(purchase_days.last_purchase_date as {{ dbt.type_string() }})
            || ', {{ var("trigger_repurchase_reminder_days") }} days ago' as fired_reason
    from purchase_days
    cross join as_of
    where purchase_days.last_purchase_date
        = {{ marts_add_days(-var('trigger_repurchase_reminder_days'), 'as_of.as_of_date') }}

),

first_repurchase_nudge as (

    select
        purchase_days.customer_id,
        'first_repurchase_nudge' as trigger_code,
        'only purchase ' || cast(purchase_days.first_purchase_date as {{ dbt.type_string() }})
            || ', {{ var("trigger_first_repurchase_days") }} days ago' as fired_reason
    from purchase_days
    cross join as_of
    where purchase_days.first_purchase_date = purchase_days.last_purchase_date
        and purchase_days.first_purchase_date
            = {{ marts_add_days(-var('trigger_first_repurchase_days'), 'as_of.as_of_date') }}

),

stage_crossings as (

    select
        transitions.customer_id,
        case transitions.to_stage when 'silent' then 'newly_silent' else 'newly_churned' end as trigger_code,
        'stage ' || coalesce(transitions.from_stage, '') || ' -> ' || transitions.to_stage || ' on as_of'
            as fired_reason
    from transitions
    cross join as_of
    where transitions.day = as_of.as_of_date
        and transitions.to_stage in ('silent', 'churned')

),

-- the customers whose tier window holds other orders on as_of than the day before: an order on as_of
-- (in today's window only) or on a day that left the window overnight (in yesterday's only). Everyone
-- else has the same tier on both days and cannot be upgraded.
tier_moved_customers as (

    select distinct spend_orders.customer_id
    from spend_orders
    cross join as_of
    where spend_orders.customer_id is not null
        and (
            spend_orders.order_date = as_of.as_of_date
            or (
                spend_orders.order_date > {{ marts_add_months(-tier_window, marts_add_days(-1, 'as_of.as_of_date')) }}
                and spend_orders.order_date <= {{ marts_add_months(-tier_window, 'as_of.as_of_date') }}
            )
        )

),

-- the tier on as_of and on the day before: the window rule of member_tiers (macros/marts_tiers.sql)
tier_days as (

    select
        spend_orders.customer_id,
        day_offsets.offset_days,
        {{ marts_tier_window_totals('spend_orders.') }}
    from spend_orders
    cross join as_of
    cross join (select 0 as offset_days union all select 1) as day_offsets
    inner join tier_moved_customers
        on tier_moved_customers.customer_id = spend_orders.customer_id
    where {{ marts_tier_window('spend_orders.order_date', marts_add_days('-day_offsets.offset_days', 'as_of.as_of_date')) }}
    group by spend_orders.customer_id, day_offsets.offset_days
    having {{ marts_tier_window_has_purchase('spend_orders.') }}

),

tier_ranks as (

    select
        customer_id,
        offset_days,
        {{ marts_member_tier('rolling_spend', 'rolling_orders') }} as tier,
        case {{ marts_member_tier('rolling_spend', 'rolling_orders') }}
            when 'diamond' then 3 when 'gold' then 2 when 'silver' then 1 else 0
        end as tier_rank
    from tier_days

),

tier_upgrade as (

    select
        today.customer_id,
        'tier_upgrade' as trigger_code,
        'tier ' || yesterday.tier || ' -> ' || today.tier as fired_reason
    from tier_ranks as today
    inner join tier_ranks as yesterday
        on yesterday.customer_id = today.customer_id
        and yesterday.offset_days = 1
    where today.offset_days = 0
        and yesterday.tier_rank >= 1
        and today.tier_rank > yesterday.tier_rank

),

as_of_month_day as (

    select
        lpad(cast(extract(month from as_of_date) as {{ dbt.type_string() }}), 2, '0') || '-'
            || lpad(cast(extract(day from as_of_date) as {{ dbt.type_string() }}), 2, '0') as month_day,
        -- the last day of February in a year without 02-29
        extract(month from as_of_date) = 2
            and extract(day from {{ marts_add_days(1, 'as_of_date') }}) = 1
            and extract(day from as_of_date) = 28 as is_feb_28_of_common_year
    from as_of

),

birthday as (

    select
        customers.customer_id,
        'birthday' as trigger_code,
        'birthday today' as fired_reason
    from customers
    cross join as_of_month_day
    where customers.birth_month_day = as_of_month_day.month_day
        or (customers.birth_month_day = '02-29' and as_of_month_day.is_feb_28_of_common_year)

),

latest_clicks as (

    select
        touch_events.customer_id,
        max(touch_events.event_time) as clicked_at,
        max(touch_events.event_date) as click_date,
        max_by(touch_events.campaign_id, touch_events.event_time) as campaign_id
    from touch_events
    cross join as_of
    where touch_events.event_type = 'clicked'
        and not touch_events.is_control
        and touch_events.customer_id is not null
        and touch_events.event_date <= as_of.as_of_date
    group by touch_events.customer_id

),

clicked_not_ordered as (

    select
        latest_clicks.customer_id,
        'clicked_not_ordered' as trigger_code,
        'clicked ' || latest_clicks.campaign_id || ' on ' || cast(latest_clicks.click_date as {{ dbt.type_string() }})
            || ', no order in {{ var("attribution_window_days") }} days' as fired_reason
    from latest_clicks
    cross join as_of
    where latest_clicks.click_date
        = {{ marts_add_days(-var('attribution_window_days'), 'as_of.as_of_date') }}
        and not exists (
            select 1
            from purchases
            where purchases.customer_id = latest_clicks.customer_id
                and purchases.ordered_at >= latest_clicks.clicked_at
                and purchases.purchase_date <= as_of.as_of_date
        )

),

fired as (

    select * from repurchase_reminder
    union all
    select * from first_repurchase_nudge
    union all
    select * from stage_crossings
    union all
    select * from tier_upgrade
    union all
    select * from birthday
    union all
    select * from clicked_not_ordered

),

final as (

    select
        cast(fired.customer_id as {{ dbt.type_string() }}) as customer_id,
        cast(as_of.as_of_date as date) as as_of_date,
        cast(fired.trigger_code as {{ dbt.type_string() }}) as trigger_code,
        cast(fired.fired_reason as {{ dbt.type_string() }}) as fired_reason
    from fired
    cross join as_of

)

select * from final
