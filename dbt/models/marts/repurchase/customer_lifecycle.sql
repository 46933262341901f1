{#- Lifecycle stage history as spells (customer_id, stage, valid_from, valid_to), from each customer's
    first purchase to as_of. Stage on a day d (days counted as d minus a purchase date):
      new      d - first purchase <= lifecycle_new_days
      loyal    d - first purchase >= lifecycle_loyal_min_tenure_days, active, and purchases up to d
               >= lifecycle_loyal_min_purchases
      active   d - last purchase <= lifecycle_active_days
      silent   d - last purchase <= lifecycle_silent_days
      churned  otherwise
    (precedence top to bottom). Computed arithmetically: between two purchase days the stage can only
    change on the day a threshold is crossed, so each purchase interval yields at most five candidate
    days (the purchase day, first+new+1, first+loyal tenure, purchase+active+1, purchase+silent+1); the
    stage is evaluated on those and equal neighbours are merged. No per-day expansion.
    valid_to is inclusive; null for the spell in force on as_of (is_current). -#}
{%- set new_days = var('lifecycle_new_days') -%}
{%- set active_days = var('lifecycle_active_days') -%}
{%- set silent_days = var('lifecycle_silent_days') -%}
{%- set loyal_tenure = var('lifecycle_loyal_min_tenure_days') -%}
{%- set loyal_purchases = var('lifecycle_loyal_min_purchases') -%}

with

purchases as (

    select * from {{ ref('repurchase_purchases') }}
    where customer_id is not null

),

as_of as (

    select as_of_date from {{ ref('repurchase_as_of') }}

),

purchase_days as (

    select
        customer_id,
        purchase_date,
        count(*) as orders_on_day
    from purchases
    group by customer_id, purchase_date

),

intervals as (

    select
        purchase_days.customer_id,
        purchase_days.purchase_date as interval_start,
        coalesce(
            lead(purchase_days.purchase_date) over (
                partition by purchase_days.customer_id order by purchase_days.purchase_date
            ),
            {{ marts_add_days(1, 'as_of.as_of_date') }}
        ) as interval_end,
        min(purchase_days.purchase_date) over (
            partition by purchase_days.customer_id
        ) as first_purchase_date,
        sum(purchase_days.orders_on_day) over (
            partition by purchase_days.customer_id order by purchase_days.purchase_date
            rows between unbounded preceding and current row
        ) as purchases_to_date
    from purchase_days
    cross join as_of

),

candidate_days as (

    select intervals.*, interval_start as day from intervals
    union all
    select intervals.*, {{ marts_add_days(new_days + 1, 'first_purchase_date') }} from intervals
    union all
    select intervals.*, {{ marts_add_days(loyal_tenure, 'first_purchase_date') }} from intervals
    union all
    select intervals.*, {{ marts_add_days(active_days + 1, 'interval_start') }} from intervals
    union all
    select intervals.*, {{ marts_add_days(silent_days + 1, 'interval_start') }} from intervals

),

in_interval as (

    select distinct
        customer_id,
        day,
        first_purchase_date,
        interval_start,
        purchases_to_date
    from candidate_days
    where day >= interval_start
        and day < interval_end

),

staged as (

    select
        customer_id,
        day,
        case
            when {{ marts_days_between('first_purchase_date', 'day') }} <= {{ new_days }} then 'new'
            when {{ marts_days_between('first_purchase_date', 'day') }} >= {{ loyal_tenure }}
                and {{ marts_days_between('interval_start', 'day') }} <= {{ active_days }}
                and purchases_to_date >= {{ loyal_purchases }} then 'loyal'
            when {{ marts_days_between('interval_start', 'day') }} <= {{ active_days }} then 'active'
            when {{ marts_days_between('interval_start', 'day') }} <= {{ silent_days }} then 'silent'
            else 'churned'
        end as stage
    from in_interval

),

changes as (

    select
        staged.*,
        case
            when lag(stage) over (partition by customer_id order by day) = stage then 0
            else 1
        end as is_change
    from staged

),

islands as (

    select
        changes.*,
        sum(is_change) over (
            partition by customer_id order by day rows between unbounded preceding and current row
        ) as spell_number
    from changes

),

spells as (

    select
        customer_id,
        spell_number,
        stage,
        min(day) as valid_from
    from islands
    group by customer_id, spell_number, stage

),

bounded as (

    select
        spells.*,
        lead(valid_from) over (partition by customer_id order by valid_from) as next_valid_from
    from spells

),

final as (

    select
        cast({{ dbt.concat(['customer_id', "'#'", dbt.cast('spell_number', dbt.type_string())]) }}
            as varchar) as spell_id,
        cast(customer_id as varchar) as customer_id,
        cast(spell_number as integer) as spell_number,
        cast(stage as varchar) as stage,
        cast(valid_from as date) as valid_from,
        cast({{ marts_add_days(-1, 'next_valid_from') }} as date) as valid_to,
        cast(next_valid_from is null as boolean) as is_current
    from bounded

)

select * from final
