{#- Member tier of every customer with a purchase on or before as_of, from spend and purchases in the last
    tier_window_months months up to as_of (purchase day > as_of minus the window). rolling_spend follows
    the one net-spend rule (macros/marts_net_spend.sql: returns in the window lower it, floored at 0);
    rolling_orders counts purchases; a net spend of 0 earns no tier. Member card, level and points come
    from dim_customers (the member export) where present; member_level_tier is that level as a tier code
    (var member_level_tiers) and tier_differs_from_member_level flags a computed tier that disagrees with
    it (null where the customer has no level, or one the var does not list). -#}
{%- set window_months = var('tier_window_months') -%}

with

purchases as (

    select * from {{ ref('repurchase_purchases') }}
    where customer_id is not null

),

spend_orders as (

    {{ marts_spend_orders() }}

),

customers as (

    select * from {{ ref('dim_customers') }}

),

as_of as (

    select as_of_date from {{ ref('repurchase_as_of') }}

),

rolling as (

    select
        purchases.customer_id,
        as_of.as_of_date,
        sum(case
            when purchases.purchase_date > {{ marts_add_months(-window_months, 'as_of.as_of_date') }}
                then 1 else 0
        end) as rolling_orders
    from purchases
    cross join as_of
    group by purchases.customer_id, as_of.as_of_date

),

rolling_spend as (

    select
        spend_orders.customer_id,
        {{ marts_net_spend(
            "case when spend_orders.order_date > " ~ marts_add_months(-window_months, 'as_of.as_of_date')
            ~ " then spend_orders.net_amount end"
        ) }} as rolling_spend
    from spend_orders
    cross join as_of
    where spend_orders.customer_id is not null
    group by spend_orders.customer_id

),

final as (

    select
        cast(rolling.customer_id as {{ dbt.type_string() }}) as customer_id,
        cast(rolling.as_of_date as date) as as_of_date,
        cast(coalesce(rolling_spend.rolling_spend, 0) as decimal(18, 2)) as rolling_spend,
        cast(rolling.rolling_orders as integer) as rolling_orders,
        cast({{ marts_member_tier('coalesce(rolling_spend.rolling_spend, 0)', 'rolling.rolling_orders') }} as {{ dbt.type_string() }})
            as tier,
        cast({{ marts_tier_label(marts_member_tier('coalesce(rolling_spend.rolling_spend, 0)', 'rolling.rolling_orders')) }}
            as {{ dbt.type_string() }}) as tier_label,
        cast(customers.member_card_masked as {{ dbt.type_string() }}) as member_card_masked,
        cast(customers.member_level as {{ dbt.type_string() }}) as member_level,
        cast({{ marts_member_level_tier('customers.member_level') }} as {{ dbt.type_string() }}) as member_level_tier,
        cast(
            {{ marts_member_level_tier('customers.member_level') }}
            <> {{ marts_member_tier('coalesce(rolling_spend.rolling_spend, 0)', 'rolling.rolling_orders') }}
            as boolean
        ) as tier_differs_from_member_level,
        cast(customers.points as integer) as points
    from rolling
    left join rolling_spend
        on rolling_spend.customer_id = rolling.customer_id
    left join customers
        on rolling.customer_id = customers.customer_id

)

select * from final
