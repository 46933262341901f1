{#-
    Touch conversion rate (触达转化率) per month x campaign x channel: touched customers = resolved
    customers of the campaign's treated groups (control / holdout customers are never touched) whose
    first touch falls in the month; converted = those with a purchase within attribution_window_days
    days after that first touch (campaign_assignments); rate = converted / touched. A window that runs
    past the month end still counts for the month of the touch; is_window_complete is false while a
    window has not ended by as_of.
-#}

with

assignments as (

    select * from {{ ref('campaign_assignments') }}
    where not is_control

),

final as (

    select
        {{ marts_period_start('month', 'first_touch_at') }} as period_start,
        cast(campaign_id as {{ dbt.type_string() }}) as campaign_id,
        cast(min(campaign_name) as {{ dbt.type_string() }}) as campaign_name,
        cast(channel as {{ dbt.type_string() }}) as channel,
        cast(count(*) as integer) as touched_customers,
        cast(sum(case when is_converted then 1 else 0 end) as integer) as touch_converted_customers,
        cast({{ campaigns_ratio('sum(case when is_converted then 1 else 0 end)', 'count(*)') }} as double) as touch_conversion_rate,
        cast(sum(conversion_revenue) as decimal(18, 2)) as conversion_revenue,
        cast(min(case when is_window_complete then 1 else 0 end) = 1 as boolean) as is_window_complete
    from assignments
    group by {{ marts_period_start('month', 'first_touch_at') }}, campaign_id, channel

)

select * from final
