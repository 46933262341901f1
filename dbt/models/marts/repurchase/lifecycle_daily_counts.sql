{#- Customers in each lifecycle stage on each day from the first purchase in the data to as_of; every
    stage appears every day (0 when empty). Computed from spell boundaries (+1 on valid_from, -1 the day
    after valid_to) and a running sum, so the cost is spells + days x stages, never customers x days. -#}

with

spells as {{ cte_not_materialized() }} (

    select * from {{ ref('customer_lifecycle') }}

),

as_of as (

    select as_of_date from {{ ref('repurchase_as_of') }}

),

stages as (

    select 'new' as stage union all select 'loyal' union all select 'active'
    union all select 'silent' union all select 'churned'

),

bounds as (

    select min(valid_from) as first_day from spells

),

integers as (

    {{ marts_integers(5) }}

),

days as (

    select {{ marts_add_days('integers.n', 'bounds.first_day') }} as day
    from integers
    cross join bounds
    cross join as_of
    where integers.n <= {{ marts_days_between('bounds.first_day', 'as_of.as_of_date') }}

),

deltas as (

    select valid_from as day, stage, 1 as delta from spells
    union all
    select {{ marts_add_days(1, 'valid_to') }} as day, stage, -1 as delta from spells
    where valid_to is not null

),

daily_deltas as (

    select day, stage, sum(delta) as delta
    from deltas
    group by day, stage

),

grid as (

    select
        days.day,
        stages.stage,
        coalesce(daily_deltas.delta, 0) as delta
    from days
    cross join stages
    left join daily_deltas
        on days.day = daily_deltas.day
        and stages.stage = daily_deltas.stage

),

final as (

    select
        cast(day as date) as day,
        cast(stage as {{ dbt.type_string() }}) as stage,
        cast(sum(delta) over (
            partition by stage order by day rows between unbounded preceding and current row
        ) as integer) as customers
    from grid

)

select * from final
