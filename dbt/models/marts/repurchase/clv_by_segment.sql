{#- Customer lifetime value per RFM segment (as of as_of) and overall (segment_code 'all'), with the one
    CLV definition of the KPI marts (macro marts_clv_window in macros/marts_kpi.sql): identified purchases
    in the trailing 12 months ending at as_of, valued by the one net-spend rule (returns included, floored
    at 0 per customer); aov = revenue / orders in the window, purchase frequency per
    year = orders in the window / customers of the segment with a purchase in the window (window_customers),
    clv = aov x frequency x clv_expected_lifespan_years. The window's totals are those int_kpi_monthly_segments
    keeps for the month containing as_of (whose window ends at as_of): computed once for both; the overall
    row adds them up (every customer with a purchase has a segment), so it equals the clv of the as_of
    period in kpi_monthly and kpi_quarterly (dimension overall). customers = all customers of the segment. -#}
{%- set lifespan = var('clv_expected_lifespan_years') -%}

with

rfm as (

    select * from {{ ref('customer_rfm') }}

),

as_of as (

    select as_of_date from {{ ref('repurchase_as_of') }}

),

-- the CLV window's totals per segment: the rfm_segment row of the month containing as_of
window_parts as (

    select
        parts.dimension_value as segment,
        parts.clv_window_customers,
        parts.clv_window_orders,
        parts.clv_window_revenue
    from {{ ref('int_kpi_monthly_segments') }} as parts
    inner join as_of
        on parts.period_start = {{ marts_period_start('month', 'as_of.as_of_date') }}

),

segments as (

    select segment, segment_code, count(*) as customers
    from rfm
    group by segment, segment_code

),

measured as (

    select
        segments.segment,
        segments.segment_code,
        as_of.as_of_date,
        segments.customers,
        coalesce(window_parts.clv_window_customers, 0) as window_customers,
        coalesce(window_parts.clv_window_orders, 0) as orders_in_window,
        coalesce(window_parts.clv_window_revenue, 0) as revenue_in_window
    from segments
    cross join as_of
    left join window_parts
        on window_parts.segment = segments.segment
    union all
    select '全部客户', 'all', as_of.as_of_date, totals.customers, totals.window_customers,
        totals.orders_in_window, totals.revenue_in_window
    from as_of
    cross join (
        select
            (select count(*) from rfm) as customers,
            coalesce(sum(clv_window_customers), 0) as window_customers,
            coalesce(sum(clv_window_orders), 0) as orders_in_window,
            coalesce(sum(clv_window_revenue), 0) as revenue_in_window
        from window_parts
    ) as totals

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
