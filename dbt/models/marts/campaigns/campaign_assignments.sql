{#-
    One row per campaign x resolved customer: the group the customer was assigned to, the funnel steps
    they reached and whether they converted. Conversion = a purchase (fct_orders.is_purchase) by the
    same customer after the first touch and at most attribution_window_days days later:
    first_touch_at < ordered_at <= first_touch_at + window.
    - Assignment: the variant of the customer's earliest event in the campaign; a variant = 'control'
      row is a holdout assignment (never a send) whatever its event type. variant_count > 1 flags a
      customer seen in several variants (two recipients merged into one customer, or an export error);
      A/B results leave such customers out.
    - first_touch_at: treated customers, their first non-control event (normally the first send);
      control customers, their first control row (the moment of assignment, the holdout's counterfactual
      first touch).
    - channel: the channel of the first touch.
    - is_window_complete: the attribution window ended on or before as_of (else conversions may still come).
    - as_of: only touches and purchases on or before as_of count (a snapshot for a past day never sees a
      later campaign or conversion); window_end_at may lie after as_of (the window is still open).
-#}
{%- set window_days = var('attribution_window_days') -%}

with

events as (

    select * from {{ ref('fct_touch_events') }}
    where customer_id is not null
        and {{ campaigns_on_or_before_as_of('event_time') }}

),

purchases as (

    select order_key, customer_id, ordered_at, net_amount
    from {{ ref('fct_orders') }}
    where is_purchase
        and customer_id is not null
        and {{ campaigns_on_or_before_as_of('ordered_at') }}

),

segments as (

    select * from {{ ref('campaign_customer_rfm') }}

),

per_customer as (

    select
        campaign_id,
        customer_id,
        {{ first_row_by(
            ['campaign_name', 'channel', 'variant', 'is_control'],
            ['event_time', 'is_control', 'event_key']
        ) }} as first_event,
        count(distinct coalesce(variant, '')) as variant_count,
        min(case when not is_control then event_time end) as first_treated_event_at,
        min(case when is_control then event_time end) as first_control_event_at,
        max(case when not is_control and event_type = 'sent' then 1 else 0 end) as is_sent,
        max(case when not is_control and event_type = 'delivered' then 1 else 0 end) as is_delivered,
        max(case when not is_control and event_type = 'opened' then 1 else 0 end) as is_opened,
        max(case when not is_control and event_type = 'clicked' then 1 else 0 end) as is_clicked,
        max(case when not is_control and event_type = 'add_to_cart' then 1 else 0 end) as is_added_to_cart
    from events
    group by campaign_id, customer_id

),

-- the assignment is the customer's earliest event in the campaign (at the same moment a treated event before
-- a control row, then the smaller event_key: every tie broken, as the model's description says)
assigned as (

    select
        campaign_id,
        customer_id,
        first_event.campaign_name,
        first_event.channel,
        first_event.variant,
        first_event.is_control,
        variant_count,
        case
            when first_event.is_control then first_control_event_at
            else first_treated_event_at
        end as first_touch_at,
        is_sent,
        is_delivered,
        is_opened,
        is_clicked,
        is_added_to_cart
    from per_customer

),

windowed as (

    select
        assigned.*,
        {{ marts_add_days_to_timestamp(window_days, 'assigned.first_touch_at') }} as window_end_at
    from assigned

),

conversions as (

    select
        windowed.campaign_id,
        windowed.customer_id,
        min(purchases.ordered_at) as first_conversion_at,
        count(*) as conversion_orders,
        sum(purchases.net_amount) as conversion_revenue
    from windowed
    inner join purchases
        on purchases.customer_id = windowed.customer_id
        and purchases.ordered_at > windowed.first_touch_at
        and purchases.ordered_at <= windowed.window_end_at
    group by windowed.campaign_id, windowed.customer_id

),

final as (

    select
        cast(windowed.campaign_id as {{ dbt.type_string() }}) as campaign_id,
        cast(windowed.customer_id as {{ dbt.type_string() }}) as customer_id,
        cast(windowed.campaign_name as {{ dbt.type_string() }}) as campaign_name,
        cast(windowed.channel as {{ dbt.type_string() }}) as channel,
        cast(windowed.variant as {{ dbt.type_string() }}) as variant,
        cast(windowed.is_control as boolean) as is_control,
        cast(windowed.variant_count as integer) as variant_count,
        cast(windowed.first_touch_at as timestamp) as first_touch_at,
        cast(windowed.window_end_at as timestamp) as window_end_at,
        cast(cast(windowed.window_end_at as date) <= {{ marts_as_of() }} as boolean) as is_window_complete,
        cast(windowed.is_sent = 1 as boolean) as is_sent,
        cast(windowed.is_delivered = 1 as boolean) as is_delivered,
        cast(windowed.is_opened = 1 as boolean) as is_opened,
        cast(windowed.is_clicked = 1 as boolean) as is_clicked,
        cast(windowed.is_added_to_cart = 1 as boolean) as is_added_to_cart,
        cast(segments.rfm_as_of_date as date) as rfm_as_of_date,
        cast(segments.rfm_segment as {{ dbt.type_string() }}) as rfm_segment,
        cast(segments.rfm_segment_code as {{ dbt.type_string() }}) as rfm_segment_code,
        cast(conversions.customer_id is not null as boolean) as is_converted,
        cast(conversions.first_conversion_at as timestamp) as first_conversion_at,
        cast(coalesce(conversions.conversion_orders, 0) as integer) as conversion_orders,
        cast(coalesce(conversions.conversion_revenue, 0) as decimal(18, 2)) as conversion_revenue
    from windowed
    left join segments
        on segments.campaign_id = windowed.campaign_id
        and segments.customer_id = windowed.customer_id
    left join conversions
        on conversions.campaign_id = windowed.campaign_id
        and conversions.customer_id = windowed.customer_id

)

select * from final
