{#- First-purchase-month cohorts x months since the first purchase (0 = the cohort month), up to the month
    of as_of (that month is partial: is_complete_month false). Overall (overall/all) and by the channel of
    the first purchase (first_channel/<channel>). customers_purchasing = cohort members with a purchase in
    that month (any channel); revenue = their net spend in that month; share = purchasing / cohort size.
    is_history_complete: the cohort month starts at least kpi_history_months after the first purchase in
    the data (all purchases, unresolved included); earlier cohorts mix new customers with returning ones
    whose previous purchases predate the data. -#}

with

purchases as {{ cte_not_materialized() }} (

    select * from {{ ref('repurchase_purchases') }}
    where customer_id is not null

),

as_of as (

    select as_of_date from {{ ref('repurchase_as_of') }}

),

data_bounds as (

    select min(purchase_date) as data_start from {{ ref('repurchase_purchases') }}

),

customers as (

    select
        customer_id,
        {{ marts_period_start('month', 'purchase_date') }} as cohort_month,
        coalesce(channel, 'unknown') as first_channel
    from purchases
    where customer_purchase_seq = 1

),

members as (

    select 'overall' as dimension, 'all' as dimension_value, customer_id, cohort_month from customers
    union all
    select 'first_channel', first_channel, customer_id, cohort_month from customers

),

cohort_sizes as (

    select dimension, dimension_value, cohort_month, count(*) as cohort_size
    from members
    group by dimension, dimension_value, cohort_month

),

-- one row per customer and month with a purchase, so the customers purchasing in a cell are counted,
-- not made distinct; the overall rows add up the first channels' (each customer has one)
customer_months as (

    select
        customer_id,
        {{ marts_period_start('month', 'purchase_date') }} as activity_month,
        sum(net_amount) as revenue
    from purchases
    group by customer_id, {{ marts_period_start('month', 'purchase_date') }}

),

channel_activity as (

    select
        customers.cohort_month,
        customers.first_channel,
        {{ marts_months_between('customers.cohort_month', 'customer_months.activity_month') }}
            as months_since_first,
        count(*) as customers_purchasing,
        sum(customer_months.revenue) as revenue
    from customer_months
    inner join customers
        on customers.customer_id = customer_months.customer_id
    group by 1, 2, 3

),

activity as (

    select 'overall' as dimension, 'all' as dimension_value, cohort_month, months_since_first,
        sum(customers_purchasing) as customers_purchasing,
        sum(revenue) as revenue
    from channel_activity
    group by cohort_month, months_since_first
    union all
    select 'first_channel', first_channel, cohort_month, months_since_first, customers_purchasing, revenue
    from channel_activity

),

integers as (

    {{ marts_integers(4) }}

),

grid as (

    select
        cohort_sizes.*,
        integers.n as months_since_first
    from cohort_sizes
    cross join integers
    cross join as_of
    where integers.n <= {{ marts_months_between('cohort_sizes.cohort_month', 'as_of.as_of_date') }}

),

final as (

    select
        cast(grid.cohort_month as date) as cohort_month,
        cast(grid.dimension as {{ dbt.type_string() }}) as dimension,
        cast(grid.dimension_value as {{ dbt.type_string() }}) as dimension_value,
        cast(grid.months_since_first as integer) as months_since_first,
        cast({{ marts_add_months('grid.months_since_first', 'grid.cohort_month') }} as date) as activity_month,
        cast({{ marts_period_end('month', marts_add_months('grid.months_since_first', 'grid.cohort_month')) }}
            <= as_of.as_of_date as boolean) as is_complete_month,
        cast(grid.cohort_month >= {{ marts_add_months(var('kpi_history_months'), 'data_bounds.data_start') }}
            as boolean) as is_history_complete,
        cast(grid.cohort_size as integer) as cohort_size,
        cast(coalesce(activity.customers_purchasing, 0) as integer) as customers_purchasing,
        {{ decimal_from_double('coalesce(activity.customers_purchasing, 0) / cast(grid.cohort_size as double)', 10, 4) }}
            as share_purchasing,
        cast(coalesce(activity.revenue, 0) as decimal(18, 2)) as revenue
    from grid
    cross join as_of
    cross join data_bounds
    left join activity
        on grid.dimension = activity.dimension
        and grid.dimension_value = activity.dimension_value
        and grid.cohort_month = activity.cohort_month
        and grid.months_since_first = activity.months_since_first

)

select * from final
