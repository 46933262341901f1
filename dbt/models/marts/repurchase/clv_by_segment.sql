{#- Customer lifetime value per RFM segment (as of as_of) and overall (segment_code 'all'), with the one
    CLV definition of the KPI marts (macro marts_clv_window in macros/marts_kpi.sql): identified purchases
    in the trailing 12 months ending at as_of, valued by the one net-spend rule (returns included, floored
    at 0 per customer); aov = revenue / orders in the window, purchase frequency per
    year = orders in the window / customers of the segment with a purchase in the window (window_customers),
    clv = aov x frequency x clv_expected_lifespan_years. The overall row equals the clv of the as_of period
    in kpi_monthly and kpi_quarterly (dimension overall). customers = all customers of the segment. -#}
{%- set lifespan = var('clv_expected_lifespan_years') -%}

with

rfm as (

    select * from {{ ref('customer_rfm') }}

),

purchases as (

    select * from {{ ref('repurchase_purchases') }}

),

as_of as (

    select as_of_date from {{ ref('repurchase_as_of') }}

),

segments as (

    select
        segment,
        segment_code,
        'rfm_segment' as dimension,
        segment as dimension_value,
        count(*) as customers
    from rfm
    group by segment, segment_code
    union all
    select '全部客户', 'all', 'overall', 'all', count(*)
    from rfm

),

scoped_purchases as (

    select 'overall' as dimension, 'all' as dimension_value, purchases.* from purchases
    union all
    select 'rfm_segment', rfm.segment, purchases.*
    from purchases
    inner join rfm
        on purchases.customer_id = rfm.customer_id

),

money_back as (

    select customer_id, order_date as purchase_date, net_amount
    from ({{ marts_spend_orders() }}) as spend_orders
    where not is_purchase
        and net_amount <> 0
        and customer_id is not null

),

scoped_money_back as (

    select 'overall' as dimension, 'all' as dimension_value, money_back.* from money_back
    union all
    select 'rfm_segment', rfm.segment, money_back.*
    from money_back
    inner join rfm
        on money_back.customer_id = rfm.customer_id

),

windows as (

    select segments.dimension, segments.dimension_value, as_of.as_of_date as period_start,
        as_of.as_of_date as window_end
    from segments
    cross join as_of

),

clv as (

    {{ marts_clv_window('scoped_purchases', 'windows', 'scoped_money_back') }}

),

measured as (

    select
        segments.segment,
        segments.segment_code,
        as_of.as_of_date,
        segments.customers,
        coalesce(clv.window_customers, 0) as window_customers,
        coalesce(clv.window_orders, 0) as orders_in_window,
        coalesce(clv.window_revenue, 0) as revenue_in_window
    from segments
    cross join as_of
    left join clv
        on segments.dimension = clv.dimension
        and segments.dimension_value = clv.dimension_value

),

final as (

    select
        cast(segment as {{ dbt.type_string() }}) as segment,
        cast(segment_code as {{ dbt.type_string() }}) as segment_code,
        cast(as_of_date as date) as as_of_date,
        cast(customers as integer) as customers,
        cast(window_customers as integer) as window_customers,
        cast(orders_in_window as integer) as orders_in_window,
        cast(revenue_in_window as decimal(18, 2)) as revenue_in_window,
        {{ decimal_from_double('case when orders_in_window > 0 then revenue_in_window / cast(orders_in_window as double) end', 18, 2) }}
            as aov,
        {{ decimal_from_double(marts_clv_frequency('orders_in_window', 'window_customers'), 10, 4) }}
            as purchase_frequency_per_year,
        cast({{ lifespan }} as decimal(10, 2)) as expected_lifespan_years,
        {{ decimal_from_double(marts_clv_value('revenue_in_window', 'orders_in_window', 'window_customers'), 18, 2) }}
            as clv
    from measured

)

select * from final
