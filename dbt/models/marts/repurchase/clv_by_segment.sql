{#- Customer lifetime value per RFM segment (as of as_of) and overall (segment_code 'all'):
    clv = aov x purchase_frequency_per_year x clv_expected_lifespan_years, where aov = net spend / purchases
    in the RFM window and purchase_frequency_per_year = purchases in the window / customers in the
    segment x 365 / rfm_window_days. Lifespan is the var (years), not measured. -#}
{%- set window_days = var('rfm_window_days') -%}
{%- set lifespan = var('clv_expected_lifespan_years') -%}

with

rfm as (

    select * from {{ ref('customer_rfm') }}

),

by_segment as (

    select
        segment,
        segment_code,
        as_of_date,
        count(*) as customers,
        sum(frequency) as orders_in_window,
        sum(monetary) as revenue_in_window
    from rfm
    group by segment, segment_code, as_of_date
    union all
    select
        '全部客户' as segment,
        'all' as segment_code,
        as_of_date,
        count(*),
        sum(frequency),
        sum(monetary)
    from rfm
    group by as_of_date

),

measured as (

    select
        by_segment.*,
        case when orders_in_window > 0 then revenue_in_window / cast(orders_in_window as double) end as aov,
        orders_in_window / cast(customers as double) * 365.0 / {{ window_days }} as purchase_frequency_per_year
    from by_segment

),

final as (

    select
        cast(segment as varchar) as segment,
        cast(segment_code as varchar) as segment_code,
        cast(as_of_date as date) as as_of_date,
        cast(customers as integer) as customers,
        cast(orders_in_window as integer) as orders_in_window,
        cast(revenue_in_window as decimal(18, 2)) as revenue_in_window,
        cast(aov as decimal(18, 2)) as aov,
        cast(purchase_frequency_per_year as decimal(10, 4)) as purchase_frequency_per_year,
        cast({{ lifespan }} as decimal(10, 2)) as expected_lifespan_years,
        cast(aov * purchase_frequency_per_year * {{ lifespan }} as decimal(18, 2)) as clv
    from measured

)

select * from final
