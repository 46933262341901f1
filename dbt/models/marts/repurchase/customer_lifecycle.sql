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
    valid_to is inclusive; null for the spell in force on as_of (is_current).

    Incremental (the lifecycle snapshot): a build recomputes only the customers whose spells can have
    changed since the last build — purchases changed since (int_customer_order_state), a threshold
    crossed between the last as_of and this one — and replaces their rows (delete+insert on customer_id);
    everyone when the vars changed or as_of moved back; customers without a purchase any more lose their
    rows (post-hook). See macros/marts_customer_state.sql. It equals a full rebuild, bookkeeping aside. -#}
{{
    config(
        materialized=incremental_materialization(),
        unique_key='customer_id',
        incremental_strategy='delete+insert',
        on_schema_change='fail',
        post_hook="{{ delete_vanished_keys('customer_id', ref('int_customer_order_state'), 'purchase_count > 0') }}",
    )
}}
{%- set new_days = var('lifecycle_new_days') -%}
{%- set active_days = var('lifecycle_active_days') -%}
{%- set silent_days = var('lifecycle_silent_days') -%}
{%- set loyal_tenure = var('lifecycle_loyal_min_tenure_days') -%}
{%- set loyal_purchases = var('lifecycle_loyal_min_purchases') -%}

-- depends_on: {{ ref('int_customer_order_state') }}
-- depends_on: {{ ref('fct_orders') }}

with

as_of as (

    select as_of_date from {{ ref('repurchase_as_of') }}

),

{% if is_incremental() %}
previous_build as (

    {{ customer_state_previous_build(lifecycle_settings()) }}

),

-- Customers whose spells can differ from the stored ones (everyone when those cannot be reused): purchases
-- changed since the last build, or a stage threshold day after the last build's as_of and up to this one.
affected_customers as (

    select state.customer_id
    from {{ ref('int_customer_order_state') }} as state
    cross join previous_build
    cross join as_of
    cross join ({{ customer_state_as_of_check() }}) as state_check
    where state.purchase_count > 0
        and state_check.state_as_of is not null
        and (
            previous_build.recompute_all
            or state.purchases_changed_at > previous_build.built_at
            {% for threshold_day in [
                marts_add_days(new_days + 1, 'state.first_purchase_date'),
                marts_add_days(loyal_tenure, 'state.first_purchase_date'),
                marts_add_days(active_days + 1, 'state.last_purchase_date'),
                marts_add_days(silent_days + 1, 'state.last_purchase_date'),
            ] %}
            or ({{ threshold_day }} > previous_build.as_of_date and {{ threshold_day }} <= as_of.as_of_date)
            {%- endfor %}
        )

),

{% endif %}
purchases as (

    select * from {{ ref('repurchase_purchases') }}
    where customer_id is not null
    {% if is_incremental() %}
        and customer_id in (select customer_id from affected_customers)
    {% endif %}

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
            as {{ dbt.type_string() }}) as spell_id,
        cast(customer_id as {{ dbt.type_string() }}) as customer_id,
        cast(spell_number as integer) as spell_number,
        cast(stage as {{ dbt.type_string() }}) as stage,
        cast(valid_from as date) as valid_from,
        cast({{ marts_add_days(-1, 'next_valid_from') }} as date) as valid_to,
        cast(next_valid_from is null as boolean) as is_current,
        {{ customer_state_bookkeeping(lifecycle_settings()) }}
    from bounded

)

select * from final
