{#- Month-end snapshots of member tiers: for every month end before as_of and for as_of itself, each
    customer with at least one purchase in the tier_window_months months up to that day (day > snapshot
    minus the window), with the rolling spend (the one net-spend rule, macros/marts_net_spend.sql: returns
    in the window lower it, floored at 0), purchases and tier (as member_tiers computes it). A customer
    absent from a snapshot had no purchase in its window (tier 'none'). Built without a range join: a purchase counts towards the
    snapshots at the ends of its own month and the next window-1 months, and towards as_of.

    Incremental: past snapshots of a customer whose purchases did not change stay as they are. A build
    deletes (pre-hook) and recomputes the snapshots of customers whose purchases changed, plus every
    snapshot dated on or after the last build's as_of (the new day's as_of snapshot and any month end
    passed since); everything when the tier vars changed or as_of moved back. Equals a full rebuild; see
    macros/marts_customer_state.sql. -#}
{{
    config(
        materialized=incremental_materialization(),
        incremental_strategy='append',
        on_schema_change='fail',
        pre_hook=["{{ customer_state_write_next(with_amounts=true) }}", "{{ tier_history_delete_stale() }}"],
        post_hook="{{ customer_state_save(tier_settings()) }}",
    )
}}
{%- set window_months = var('tier_window_months') -%}
{%- set use_state = is_incremental() and customer_state_exists() -%}
{%- if use_state -%}
{%- set recompute_customer -%}
    ({{ customer_state_full_rebuild(tier_settings()) }} or {{ customer_state_purchases_changed('customer_id') }})
{%- endset -%}
{%- endif %}

with

purchases as (

    -- every order that moves money (the one net-spend rule, macros/marts_net_spend.sql); purchase_date is
    -- the order's day, is_purchase says whether it counts as a purchase
    select customer_id, order_date as purchase_date, net_amount, is_purchase
    from ({{ marts_spend_orders() }}) as spend_orders
    where customer_id is not null
    {% if use_state %}
        -- unchanged customers only need the purchases that reach a snapshot on or after the last as_of
        and (
            {{ recompute_customer }}
            or purchase_date > {{ marts_add_months(-window_months, customer_state_saved_as_of()) }}
        )
    {% endif %}

),

as_of as (

    select as_of_date from {{ ref('repurchase_as_of') }}

),

integers as (

    {{ marts_integers(2) }}

),

month_end_candidates as (

    select
        purchases.customer_id,
        purchases.purchase_date,
        purchases.net_amount,
        purchases.is_purchase,
        {{ marts_period_end('month', marts_add_months('integers.n', 'purchases.purchase_date')) }}
            as snapshot_date
    from purchases
    cross join integers
    where integers.n < {{ window_months }}

),

as_of_candidates as (

    select
        purchases.customer_id,
        purchases.purchase_date,
        purchases.net_amount,
        purchases.is_purchase,
        as_of.as_of_date as snapshot_date
    from purchases
    cross join as_of

),

contributions as (

    select month_end_candidates.*
    from month_end_candidates
    cross join as_of
    where month_end_candidates.snapshot_date < as_of.as_of_date
    union all
    select * from as_of_candidates

),

in_window as (

    select *
    from contributions
    where purchase_date <= snapshot_date
        and purchase_date > {{ marts_add_months(-window_months, 'snapshot_date') }}

),

snapshots as (

    select
        customer_id,
        snapshot_date,
        {{ marts_net_spend('net_amount') }} as rolling_spend,
        sum(case when is_purchase then 1 else 0 end) as rolling_orders
    from in_window
    group by customer_id, snapshot_date
    having sum(case when is_purchase then 1 else 0 end) > 0

),

final as (

    select
        cast(customer_id as {{ dbt.type_string() }}) as customer_id,
        cast(snapshot_date as date) as snapshot_date,
        cast(rolling_spend as decimal(18, 2)) as rolling_spend,
        cast(rolling_orders as integer) as rolling_orders,
        cast({{ marts_member_tier('rolling_spend', 'rolling_orders') }} as {{ dbt.type_string() }}) as tier
    from snapshots

)

select * from final
{% if use_state %}
where {{ recompute_customer }}
    or snapshot_date >= {{ customer_state_saved_as_of() }}
{% endif %}
