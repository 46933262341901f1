{#-
    Touch conversion per month on kpi_monthly's keys (period_start, dimension, dimension_value), for its
    join. overall/all: touched customers = distinct resolved customers first touched by any campaign's
    treated group in the month; converted = those with a purchase within the attribution window after
    one of those touches. channel/<sales channel>: same touched customers; converted = those whose
    converting purchase (within a window) was made in that sales channel (a customer may convert in
    several channels, so channel rows do not add up to the overall row). Touch channels (sms, wecom, …)
    are in touch_conversion_monthly.
-#}

with

assignments as (

    select * from {{ ref('campaign_assignments') }}
    where not is_control

),

purchases as (

    select customer_id, channel, ordered_at
    from {{ ref('fct_orders') }}
    where is_purchase
        and customer_id is not null
        and {{ campaigns_on_or_before_as_of('ordered_at') }}

),

touches as (

    select
        {{ marts_period_start('month', 'first_touch_at') }} as period_start,
        customer_id,
        first_touch_at,
        window_end_at,
        is_converted
    from assignments

),

touched as (

    select period_start, count(distinct customer_id) as touched_customers
    from touches
    group by period_start

),

overall as (

    select
        period_start,
        count(distinct case when is_converted then customer_id end) as converted_customers
    from touches
    group by period_start

),

channel_conversions as (

    select
        touches.period_start,
        coalesce(purchases.channel, 'unknown') as channel,
        count(distinct touches.customer_id) as converted_customers
    from touches
    inner join purchases
        on purchases.customer_id = touches.customer_id
        and purchases.ordered_at > touches.first_touch_at
        and purchases.ordered_at <= touches.window_end_at
    group by touches.period_start, coalesce(purchases.channel, 'unknown')

),

sales_channels as (

    select distinct coalesce(channel, 'unknown') as channel from purchases

),

cells as (

    select
        touched.period_start,
        'overall' as dimension,
        'all' as dimension_value,
        touched.touched_customers,
        coalesce(overall.converted_customers, 0) as converted_customers
    from touched
    left join overall
        on overall.period_start = touched.period_start
    union all
    select
        touched.period_start,
        'channel',
        sales_channels.channel,
        touched.touched_customers,
        coalesce(channel_conversions.converted_customers, 0)
    from touched
    cross join sales_channels
    left join channel_conversions
        on channel_conversions.period_start = touched.period_start
        and channel_conversions.channel = sales_channels.channel

),

final as (

    select
        cast(period_start as date) as period_start,
        cast(dimension as {{ dbt.type_string() }}) as dimension,
        cast(dimension_value as {{ dbt.type_string() }}) as dimension_value,
        cast(touched_customers as integer) as touched_customers,
        cast(converted_customers as integer) as touch_converted_customers,
        cast({{ campaigns_ratio('converted_customers', 'touched_customers') }} as decimal(10, 4)) as touch_conversion_rate
    from cells

)

select * from final
