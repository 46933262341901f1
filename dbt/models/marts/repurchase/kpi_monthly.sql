{#- Monthly repurchase KPIs (marts_kpi_mart): the overall, channel and store rows kept incrementally by
    int_kpi_monthly_cells, the rfm_segment rows (today's segments) by int_kpi_monthly_segments, with the month's touch
    conversion (触达转化率) joined on the overall and sales-channel rows from kpi_touch_conversion_monthly
    (models/marts/campaigns): null on store / RFM rows and in months without touches. -#}

with

kpis as (

    {{ marts_kpi_mart('month', ref('int_kpi_monthly_cells'), ref('int_kpi_monthly_segments')) }}

),

touch_conversion as (

    select * from {{ ref('kpi_touch_conversion_monthly') }}

),

final as (

    select
        kpis.*,
        touch_conversion.touched_customers,
        touch_conversion.touch_converted_customers,
        touch_conversion.touch_conversion_rate
    from kpis
    left join touch_conversion
        on touch_conversion.period_start = kpis.period_start
        and touch_conversion.dimension = kpis.dimension
        and touch_conversion.dimension_value = kpis.dimension_value

)

select * from final
