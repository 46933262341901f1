{#-
    Touch funnel per campaign x variant x channel x RFM segment at send time, in distinct customers:
    assigned -> sent -> delivered -> opened -> clicked -> added to cart, and ordered = converted within
    the attribution window after the first touch (campaign_assignments).
    - A step the channel cannot observe (var campaigns_observable_steps; SMS has no `opened`) is null,
      not 0, and so is its rate. The control (holdout) group is never sent: its send steps are null;
      its ordered count is the baseline the treated groups compare with.
    - Step rates divide by the previous observable step (clicked_rate over opened, or over delivered
      when opened is not observable). ordered_rate = ordered / assigned customers (comparable between
      treated and control groups; for treated groups the touch conversion rate); ordered_rate_of_sent
      divides by sent customers.
    - Only resolved customers are counted; unresolved recipients are in touch_recipient_resolution.
-#}
{%- set steps = campaigns_funnel_steps() -%}
{%- set counts = {'sent': 'is_sent', 'delivered': 'is_delivered', 'opened': 'is_opened',
                  'clicked': 'is_clicked', 'add_to_cart': 'is_added_to_cart'} -%}

with

assignments as (

    select * from {{ ref('campaign_assignments') }}

),

grouped as (

    select
        campaign_id,
        campaign_name,
        variant,
        is_control,
        channel,
        rfm_segment_code,
        rfm_segment,
        min(rfm_as_of_date) as rfm_as_of_date,
        count(*) as assigned_customers,
        {% for step in steps -%}
        sum(case when {{ counts[step] }} then 1 else 0 end) as {{ step }}_raw,
        {% endfor -%}
        sum(case when is_converted then 1 else 0 end) as ordered_customers,
        sum(conversion_revenue) as conversion_revenue,
        min(case when is_window_complete then 1 else 0 end) = 1 as is_window_complete
    from assignments
    group by campaign_id, campaign_name, variant, is_control, channel, rfm_segment_code, rfm_segment

),

observed as (

    select
        grouped.*,
        {% for step in steps -%}
        case
            when not is_control and {{ campaigns_step_observable('channel', step) }} then {{ step }}_raw
        end as {{ step }}_customers{{ ',' if not loop.last }}
        {% endfor %}
    from grouped

),

final as (

    select
        cast({{ surrogate_key(['campaign_id', 'variant', 'channel', 'rfm_segment_code']) }} as {{ dbt.type_string() }}) as funnel_key,
        cast(campaign_id as {{ dbt.type_string() }}) as campaign_id,
        cast(campaign_name as {{ dbt.type_string() }}) as campaign_name,
        cast(variant as {{ dbt.type_string() }}) as variant,
        cast(is_control as boolean) as is_control,
        cast(channel as {{ dbt.type_string() }}) as channel,
        cast(rfm_segment_code as {{ dbt.type_string() }}) as rfm_segment_code,
        cast(rfm_segment as {{ dbt.type_string() }}) as rfm_segment,
        cast(rfm_as_of_date as date) as rfm_as_of_date,
        cast(assigned_customers as integer) as assigned_customers,
        {% for step in steps -%}
        cast({{ step }}_customers as integer) as {{ step }}_customers,
        {% endfor -%}
        cast(ordered_customers as integer) as ordered_customers,
        cast({{ campaigns_ratio('delivered_customers', 'sent_customers') }} as double) as delivered_rate,
        cast({{ campaigns_ratio('opened_customers', 'delivered_customers') }} as double) as opened_rate,
        cast({{ campaigns_ratio('clicked_customers', 'coalesce(opened_customers, delivered_customers)') }} as double) as clicked_rate,
        cast({{ campaigns_ratio('add_to_cart_customers', 'clicked_customers') }} as double) as add_to_cart_rate,
        cast({{ campaigns_ratio('ordered_customers', 'assigned_customers') }} as double) as ordered_rate,
        cast({{ campaigns_ratio('ordered_customers', 'sent_customers') }} as double) as ordered_rate_of_sent,
        cast(conversion_revenue as decimal(18, 2)) as conversion_revenue,
        cast(is_window_complete as boolean) as is_window_complete
    from observed

)

select * from final
