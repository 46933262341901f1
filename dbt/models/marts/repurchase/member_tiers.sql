{#- Member tier of every customer with a purchase on or before as_of, from spend and purchases in the last
    tier_window_months months up to as_of (purchase day > as_of minus the window). rolling_spend follows
    the one net-spend rule (macros/marts_net_spend.sql: returns in the window lower it, floored at 0);
    rolling_orders counts purchases; a net spend of 0 earns no tier. Member card, level and points come
    from dim_customers (the member export) where present; member_level_tier is that level as a tier code
    (var member_level_tiers) and tier_differs_from_member_level flags a computed tier that disagrees with
    it (null where the customer has no level, or one the var does not list).
    The window's values are computed here from the orders in it. member_tier_history keeps the month
    ends by the same rule; a snapshot of as_of there was re-dated every day (about 550k rows deleted and
    appended at 1M people). The scope is int_customer_order_state's customers with a purchase (one row per
    customer, kept for this as_of); a customer without a purchase in the window: 0, 0, tier none. -#}

with

as_of as (

    select as_of_date from {{ ref('repurchase_as_of') }}

),

-- every customer with a purchase on or before as_of
scope as (

    select state.customer_id
    from {{ ref('int_customer_order_state') }} as state
    cross join ({{ customer_state_as_of_check() }}) as state_check
    where state_check.state_as_of is not null
        and state.purchase_count > 0

),

-- the orders that move money in the window (the one net-spend rule, macros/marts_net_spend.sql): spend
-- and purchases of each customer with a purchase in it
window_totals as (

    select
        spend_orders.customer_id,
        {{ marts_tier_window_totals('spend_orders.') }}
    from ({{ marts_spend_orders() }}) as spend_orders
    cross join as_of
    where spend_orders.customer_id is not null
        and {{ marts_tier_window('spend_orders.order_date', 'as_of.as_of_date') }}
    group by spend_orders.customer_id
    having {{ marts_tier_window_has_purchase('spend_orders.') }}

),

customers as (

    select * from {{ ref('dim_customers') }}

),

rolling as (

    select
        scope.customer_id,
        as_of.as_of_date,
        coalesce(window_totals.rolling_spend, 0) as rolling_spend,
        coalesce(window_totals.rolling_orders, 0) as rolling_orders
    from scope
    cross join as_of
    left join window_totals
        on window_totals.customer_id = scope.customer_id

),

final as (

    select
        cast(rolling.customer_id as {{ dbt.type_string() }}) as customer_id,
        cast(rolling.as_of_date as date) as as_of_date,
        cast(rolling.rolling_spend as decimal(18, 2)) as rolling_spend,
        cast(rolling.rolling_orders as integer) as rolling_orders,
        cast({{ marts_member_tier('rolling.rolling_spend', 'rolling.rolling_orders') }} as {{ dbt.type_string() }})
            as tier,
        cast({{ marts_tier_label(marts_member_tier('rolling.rolling_spend', 'rolling.rolling_orders')) }}
            as {{ dbt.type_string() }}) as tier_label,
        cast(customers.member_card_masked as {{ dbt.type_string() }}) as member_card_masked,
        cast(customers.member_level as {{ dbt.type_string() }}) as member_level,
        cast({{ marts_member_level_tier('customers.member_level') }} as {{ dbt.type_string() }}) as member_level_tier,
        cast(
            {{ marts_member_level_tier('customers.member_level') }}
            <> {{ marts_member_tier('rolling.rolling_spend', 'rolling.rolling_orders') }}
            as boolean
        ) as tier_differs_from_member_level,
        cast(customers.points as integer) as points
    from rolling
    left join customers
        on rolling.customer_id = customers.customer_id

)

select * from final
