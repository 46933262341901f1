{#-
    One row per customer with an order on or before as_of (fct_orders, every order that moves money:
    macros/marts_net_spend.sql): what the customer-keyed incremental marts (customer_lifecycle,
    member_tier_history) need to know to recompute only the customers whose orders changed. The state
    is this model's rows, in the dbt graph (DECISIONLOG "Customer state is a model"):

      purchase_fingerprint  the customer's purchase days (rows_fingerprint; null without a purchase)
      spend_fingerprint     day, net amount and purchase flag of every order (the tiers' spend rule)
      purchases_changed_at  when a build last saw purchase_fingerprint change (the build's stamp)
      spend_changed_at      the same for spend_fingerprint
      net_spend, channels, first_purchase_at, first_channel, preferred_channel, preferred_store...
                            the customer's order totals as dim_customers shows them (computed here, for
                            the recomputed customers only, instead of from every order every day)
      _built_at, _built_as_of  the build that wrote the row, and its as_of

    A consumer recomputes the customers whose *_changed_at is later than its own newest `_built_at`: the
    changes it has not seen, also when it failed or was not selected in between.

    Incremental (proportional to the day): a build recomputes the customers
      - of an order fct_orders wrote since this model's last build (fct_orders._built_at), or dated after
        the last build's as_of (a later as_of brings older-exported orders into scope);
      - whose number of orders changed (an order moved to another customer by an identity merge, or
        vanished): a count per customer, no fingerprint;
    and everyone when as_of moved back (a backfill of a past day); and always its first customer, so the
    newest `_built_as_of` says which as_of the state is for (a consumer stops on a state built for another
    as_of: a selection that left the state out). Customers without an order any more
    are deleted (post-hook). Equals a full rebuild, stamps aside (tests/dbt/marts/test_incremental_customer_marts.py).
-#}
{{
    config(
        materialized=incremental_materialization(),
        unique_key='customer_id',
        incremental_strategy='delete+insert',
        on_schema_change='fail',
        post_hook="{{ delete_vanished_keys(['customer_id'], ref('fct_orders'), 'cast(ordered_at as date) <= ' ~ marts_as_of(), counted=true) }}",
    )
}}

with

as_of as (

    select as_of_date from {{ ref('repurchase_as_of') }}

),

-- read again by each use (cte_not_materialized): materialized, every column of 3.2M orders was copied
-- at 1M people (CPU 1.24-1.48 -> 0.94 s on a day)
orders as {{ cte_not_materialized() }} (

    select
        orders.customer_id,
        orders.order_key,
        orders.channel,
        orders.shop_id,
        orders.shop_name,
        orders.ordered_at,
        cast(orders.ordered_at as date) as order_date,
        orders.net_amount,
        orders.is_purchase,
        orders._built_at
    from {{ ref('fct_orders') }} as orders
    cross join as_of
    where orders.customer_id is not null
        and cast(orders.ordered_at as date) <= as_of.as_of_date

),

{% if is_incremental() %}
previous as (

    select * from {{ this }}

),

previous_build as (

    select max(_built_at) as built_at, max(_built_as_of) as as_of_date from previous

),

order_counts as (

    select customer_id, count(*) as order_count
    from orders
    group by customer_id

),

affected_customers as (

    select orders.customer_id
    from orders
    cross join previous_build
    cross join as_of
    where previous_build.built_at is null
        or as_of.as_of_date < previous_build.as_of_date
        or orders._built_at > previous_build.built_at
        or orders.order_date > previous_build.as_of_date
    union
    select order_counts.customer_id
    from order_counts
    left join previous
        on previous.customer_id = order_counts.customer_id
    where previous.order_count is distinct from order_counts.order_count
    -- and always the first customer, so that the newest _built_as_of is the as_of of the last build,
    -- which the consumers check (customer_state_as_of_check)
    union
    select min(customer_id) from order_counts

),

{% endif %}
-- the orders of the customers recomputed (everyone's on a full build)
scoped_orders as (

    select *
    from orders
    {% if is_incremental() %}
    where orders.customer_id in (select customer_id from affected_customers)
    {% endif %}

),

spend_state as (

    select
        customer_id,
        count(*) as order_count,
        {{ rows_fingerprint(['order_date', 'net_amount', 'is_purchase']) }} as spend_fingerprint,
        {{ marts_net_spend('net_amount') }} as net_spend,
        {{ distinct_sorted_list('channel', ',') }} as channels,
        count(distinct channel) as channel_count
    from scoped_orders
    group by customer_id

),

purchase_state as (

    select
        customer_id,
        count(*) as purchase_count,
        {{ rows_fingerprint(['order_date']) }} as purchase_fingerprint,
        min(order_date) as first_purchase_date,
        max(order_date) as last_purchase_date,
        min(ordered_at) as first_purchase_at,
        max(ordered_at) as last_purchase_at,
        {{ min_by_row('channel', ['ordered_at', 'order_key']) }} as first_channel
    from scoped_orders
    where is_purchase
    group by customer_id

),

{#- The channel and the store (shop name, else shop id) with the most purchases, then the most net amount,
    then the first by name. -#}
preferred_channel as (

    select customer_id, channel as preferred_channel
    from (
        select
            *,
            row_number() over (
                partition by customer_id order by purchases desc, net_amount desc, channel
            ) as preference_rank
        from (
            select customer_id, channel, count(*) as purchases, sum(net_amount) as net_amount
            from scoped_orders
            where is_purchase
            group by customer_id, channel
        ) as channel_purchases
    ) as ranked
    where preference_rank = 1

),

preferred_store as (

    select customer_id, store as preferred_store
    from (
        select
            *,
            row_number() over (
                partition by customer_id order by purchases desc, net_amount desc, store
            ) as preference_rank
        from (
            select customer_id, coalesce(shop_name, shop_id) as store, count(*) as purchases,
                sum(net_amount) as net_amount
            from scoped_orders
            where is_purchase
                and coalesce(shop_name, shop_id) is not null
            group by customer_id, coalesce(shop_name, shop_id)
        ) as store_purchases
    ) as ranked
    where preference_rank = 1

),

state as (

    select
        spend_state.*,
        coalesce(purchase_state.purchase_count, 0) as purchase_count,
        purchase_state.purchase_fingerprint,
        purchase_state.first_purchase_date,
        purchase_state.last_purchase_date,
        purchase_state.first_purchase_at,
        purchase_state.last_purchase_at,
        purchase_state.first_channel,
        preferred_channel.preferred_channel,
        preferred_store.preferred_store
    from spend_state
    left join purchase_state
        on purchase_state.customer_id = spend_state.customer_id
    left join preferred_channel
        on preferred_channel.customer_id = spend_state.customer_id
    left join preferred_store
        on preferred_store.customer_id = spend_state.customer_id

),

final as (

    select
        cast(state.customer_id as {{ dbt.type_string() }}) as customer_id,
        cast(state.order_count as integer) as order_count,
        cast(state.purchase_count as integer) as purchase_count,
        cast(state.purchase_fingerprint as {{ dbt.type_string() }}) as purchase_fingerprint,
        cast(state.spend_fingerprint as {{ dbt.type_string() }}) as spend_fingerprint,
        cast(state.first_purchase_date as date) as first_purchase_date,
        cast(state.last_purchase_date as date) as last_purchase_date,
        cast(state.net_spend as decimal(18, 2)) as net_spend,
        cast(state.channels as {{ dbt.type_string() }}) as channels,
        cast(state.channel_count as integer) as channel_count,
        cast(state.first_purchase_at as timestamp) as first_purchase_at,
        cast(state.last_purchase_at as timestamp) as last_purchase_at,
        cast(state.first_channel as {{ dbt.type_string() }}) as first_channel,
        cast(state.preferred_channel as {{ dbt.type_string() }}) as preferred_channel,
        cast(state.preferred_store as {{ dbt.type_string() }}) as preferred_store,
        {% if is_incremental() %}
        cast(case
            when previous.customer_id is not null
                and previous.purchase_fingerprint is not distinct from state.purchase_fingerprint
                then previous.purchases_changed_at
            else {{ built_at() }}
        end as timestamp) as purchases_changed_at,
        cast(case
            when previous.spend_fingerprint = state.spend_fingerprint then previous.spend_changed_at
            else {{ built_at() }}
        end as timestamp) as spend_changed_at,
        {% else %}
        cast({{ built_at() }} as timestamp) as purchases_changed_at,
        cast({{ built_at() }} as timestamp) as spend_changed_at,
        {% endif %}
        cast({{ built_at() }} as timestamp) as _built_at,
        cast(as_of.as_of_date as date) as _built_as_of
    from state
    cross join as_of
    {% if is_incremental() %}
    left join previous
        on previous.customer_id = state.customer_id
    {% endif %}

)

select * from final
