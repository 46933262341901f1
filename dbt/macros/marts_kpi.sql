{#- Body of kpi_monthly / kpi_quarterly: one row per period x (dimension, dimension_value), from the
    first period a dimension value has purchases to the period containing as_of (the last period is
    partial: is_complete false). Dimensions: overall/all, channel/<channel>, store/<shop_id>,
    rfm_segment/<segment as of as_of>. Definitions:
      customers                 identified customers with a purchase in the cell
      new_customers             ... whose first purchase ever (any channel) is in the period
      repurchasing_customers    ... with a purchase in the cell that is not their first purchase ever
      repurchase_rate           repurchasing_customers / customers
      multi_purchase_customers  ... with >= 2 purchases in the cell
      repurchase_rate_within_period  multi_purchase_customers / customers
      active_at_start / retained_customers / retention_rate: active = a purchase in the cell's scope in
                                the lifecycle_active_days days up to and including the reference day;
                                start = the day before the period, end = the period's last day (as_of
                                for the partial period); retention = active at both / active at start
      repurchases               purchases in the cell that are not the customer's first ever
      avg_repurchase_frequency  repurchases / repurchasing_customers
      orders, net_revenue       all purchases in the cell (unresolved customers included)
      aov                       net_revenue / orders
      clv (rfm_segment rows)    aov x (orders / customers x periods per year) x clv_expected_lifespan_years
-#}
{% macro marts_kpi_model(period) -%}
{%- set active_days = var('lifecycle_active_days') -%}
{%- set periods_per_year = {'month': 12, 'quarter': 4}[period] -%}
{%- set months_per_period = {'month': 1, 'quarter': 3}[period] -%}

with

purchases as (

    select * from {{ ref('repurchase_purchases') }}

),

segments as (

    select customer_id, segment from {{ ref('customer_rfm') }}

),

as_of as (

    select as_of_date from {{ ref('repurchase_as_of') }}

),

dimensioned as (

    select 'overall' as dimension, 'all' as dimension_value, purchases.* from purchases
    union all
    select 'channel', coalesce(channel, 'unknown'), purchases.* from purchases
    union all
    select 'store', coalesce(shop_id, 'unknown'), purchases.* from purchases
    union all
    select 'rfm_segment', segments.segment, purchases.*
    from purchases
    inner join segments
        on purchases.customer_id = segments.customer_id

),

integers as (

    {{ marts_integers(4) }}

),

periods as (

    select
        period_start,
        {{ marts_period_end(period, 'period_start') }} as period_end,
        {{ marts_add_days(-1, 'period_start') }} as start_ref,
        case
            when {{ marts_period_end(period, 'period_start') }} <= as_of_date
                then {{ marts_period_end(period, 'period_start') }}
            else as_of_date
        end as end_ref,
        {{ marts_period_end(period, 'period_start') }} <= as_of_date as is_complete
    from (
        select
            {{ marts_add_months(months_per_period ~ ' * integers.n', 'bounds.first_period') }} as period_start,
            as_of.as_of_date
        from integers
        cross join (
            select {{ marts_period_start(period, 'min(purchase_date)') }} as first_period from purchases
        ) as bounds
        cross join as_of
    ) as candidate_periods
    where period_start <= as_of_date

),

cells as (

    select
        dimension,
        dimension_value,
        {{ marts_period_start(period, 'purchase_date') }} as period_start,
        customer_id,
        purchase_date,
        customer_purchase_seq,
        first_purchase_date,
        net_amount
    from dimensioned

),

cell_orders as (

    select
        dimension,
        dimension_value,
        period_start,
        count(*) as orders,
        sum(net_amount) as net_revenue
    from cells
    group by dimension, dimension_value, period_start

),

cell_customers as (

    select
        dimension,
        dimension_value,
        period_start,
        customer_id,
        count(*) as purchases_in_cell,
        sum(case when customer_purchase_seq > 1 then 1 else 0 end) as repurchases,
        max(case
            when {{ marts_period_start(period, 'first_purchase_date') }} = period_start then 1 else 0
        end) as is_new
    from cells
    where customer_id is not null
    group by dimension, dimension_value, period_start, customer_id

),

customer_metrics as (

    select
        dimension,
        dimension_value,
        period_start,
        count(*) as customers,
        sum(is_new) as new_customers,
        sum(case when repurchases > 0 then 1 else 0 end) as repurchasing_customers,
        sum(case when purchases_in_cell >= 2 then 1 else 0 end) as multi_purchase_customers,
        sum(repurchases) as repurchases
    from cell_customers
    group by dimension, dimension_value, period_start

),

{#- Reference days are period ends (<= as_of) and as_of itself. A purchase on day p makes its customer
    active on every reference day in [p, p + active_days]: the period end of p's period, the one after
    it (a 30-day window can reach two month ends) and as_of. -#}
reference_candidates as (

    select dimension, dimension_value, customer_id, purchase_date,
        {{ marts_period_end(period, 'purchase_date') }} as ref_day
    from dimensioned
    where customer_id is not null
    union all
    select dimension, dimension_value, customer_id, purchase_date,
        {{ marts_period_end(period, marts_add_days(1, marts_period_end(period, 'purchase_date'))) }}
    from dimensioned
    where customer_id is not null
    union all
    select dimension, dimension_value, customer_id, purchase_date, as_of.as_of_date
    from dimensioned
    cross join as_of
    where customer_id is not null

),

active_on as (

    select distinct
        reference_candidates.dimension,
        reference_candidates.dimension_value,
        reference_candidates.customer_id,
        reference_candidates.ref_day
    from reference_candidates
    cross join as_of
    where reference_candidates.ref_day >= reference_candidates.purchase_date
        and reference_candidates.ref_day
            <= {{ marts_add_days(active_days, 'reference_candidates.purchase_date') }}
        and reference_candidates.ref_day <= as_of.as_of_date

),

retention as (

    select
        at_start.dimension,
        at_start.dimension_value,
        periods.period_start,
        count(*) as active_at_start,
        count(at_end.customer_id) as retained_customers
    from periods
    inner join active_on as at_start
        on at_start.ref_day = periods.start_ref
    left join active_on as at_end
        on at_end.ref_day = periods.end_ref
        and at_end.dimension = at_start.dimension
        and at_end.dimension_value = at_start.dimension_value
        and at_end.customer_id = at_start.customer_id
    group by at_start.dimension, at_start.dimension_value, periods.period_start

),

dimension_values as (

    select
        dimension,
        dimension_value,
        min(period_start) as first_period
    from cells
    group by dimension, dimension_value

),

grid as (

    select
        dimension_values.dimension,
        dimension_values.dimension_value,
        periods.period_start,
        periods.period_end,
        periods.is_complete
    from dimension_values
    inner join periods
        on periods.period_start >= dimension_values.first_period

),

joined as (

    select
        grid.*,
        coalesce(customer_metrics.customers, 0) as customers,
        coalesce(customer_metrics.new_customers, 0) as new_customers,
        coalesce(customer_metrics.repurchasing_customers, 0) as repurchasing_customers,
        coalesce(customer_metrics.multi_purchase_customers, 0) as multi_purchase_customers,
        coalesce(customer_metrics.repurchases, 0) as repurchases,
        coalesce(retention.active_at_start, 0) as active_at_start,
        coalesce(retention.retained_customers, 0) as retained_customers,
        coalesce(cell_orders.orders, 0) as orders,
        coalesce(cell_orders.net_revenue, 0) as net_revenue
    from grid
    left join customer_metrics
        on grid.dimension = customer_metrics.dimension
        and grid.dimension_value = customer_metrics.dimension_value
        and grid.period_start = customer_metrics.period_start
    left join retention
        on grid.dimension = retention.dimension
        and grid.dimension_value = retention.dimension_value
        and grid.period_start = retention.period_start
    left join cell_orders
        on grid.dimension = cell_orders.dimension
        and grid.dimension_value = cell_orders.dimension_value
        and grid.period_start = cell_orders.period_start

),

final as (

    select
        cast(period_start as date) as period_start,
        cast(period_end as date) as period_end,
        cast(is_complete as boolean) as is_complete,
        cast(dimension as varchar) as dimension,
        cast(dimension_value as varchar) as dimension_value,
        cast(customers as integer) as customers,
        cast(new_customers as integer) as new_customers,
        cast(repurchasing_customers as integer) as repurchasing_customers,
        cast(case when customers > 0 then repurchasing_customers / cast(customers as double) end
            as decimal(10, 4)) as repurchase_rate,
        cast(multi_purchase_customers as integer) as multi_purchase_customers,
        cast(case when customers > 0 then multi_purchase_customers / cast(customers as double) end
            as decimal(10, 4)) as repurchase_rate_within_period,
        cast(active_at_start as integer) as active_at_start,
        cast(retained_customers as integer) as retained_customers,
        cast(case when active_at_start > 0 then retained_customers / cast(active_at_start as double) end
            as decimal(10, 4)) as retention_rate,
        cast(repurchases as integer) as repurchases,
        cast(case when repurchasing_customers > 0 then repurchases / cast(repurchasing_customers as double) end
            as decimal(10, 4)) as avg_repurchase_frequency,
        cast(orders as integer) as orders,
        cast(net_revenue as decimal(18, 2)) as net_revenue,
        cast(case when orders > 0 then net_revenue / cast(orders as double) end as decimal(18, 2)) as aov,
        cast(case
            when dimension = 'rfm_segment' and orders > 0 and customers > 0
                then (net_revenue / cast(orders as double))
                    * (orders / cast(customers as double) * {{ periods_per_year }})
                    * {{ var('clv_expected_lifespan_years') }}
        end as decimal(18, 2)) as clv
    from joined

)

select * from final
{%- endmacro %}
