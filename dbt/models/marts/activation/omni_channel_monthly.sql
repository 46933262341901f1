{#- The omni-channel view (线上线下联动) by month, purchases up to as_of (repurchase_purchases): for each
    month with purchases, among the customers who purchased in it:
    - multi_channel_share: share who have bought, up to the month's end (or as_of), in 2 or more channels;
    - online_offline_share: share who have bought both offline (pos) and online (any other channel);
    - cross_channel_repurchase_rate: among the month's repurchases (a customer's 2nd or later purchase),
      the share made in a channel other than the customer's first purchase's channel. -#}

with

purchases as (

    select * from {{ ref('repurchase_purchases') }}

),

first_channel as (

    select customer_id, min_by(channel, customer_purchase_seq) as first_channel
    from purchases
    group by customer_id

),

month_buyers as (

    select distinct {{ marts_period_start('month', 'purchase_date') }} as period_start, customer_id
    from purchases
    where customer_id is not null

),

-- the day each customer first bought in each channel: a channel counts from then on
customer_channels as (

    select customer_id, channel, min(purchase_date) as first_purchase_date
    from purchases
    where customer_id is not null
    group by customer_id, channel

),

-- every month's buyers' channels up to the month's end (one row per buyer and channel bought in by then,
-- not one per purchase and later month: the cost stays linear in the history)
history as (

    select
        month_buyers.period_start,
        month_buyers.customer_id,
        count(distinct customer_channels.channel) as channels,
        max(case when customer_channels.channel = 'pos' then 1 else 0 end) as bought_offline,
        max(case when customer_channels.channel <> 'pos' then 1 else 0 end) as bought_online
    from month_buyers
    inner join customer_channels
        on customer_channels.customer_id = month_buyers.customer_id
        and customer_channels.first_purchase_date
            <= {{ marts_period_end('month', 'month_buyers.period_start') }}
    group by month_buyers.period_start, month_buyers.customer_id

),

buyers as (

    select
        month_buyers.period_start,
        count(*) as customers,
        sum(case when history.channels >= 2 then 1 else 0 end) as multi_channel_customers,
        sum(history.bought_offline * history.bought_online) as online_offline_customers
    from month_buyers
    inner join history
        on history.period_start = month_buyers.period_start
        and history.customer_id = month_buyers.customer_id
    group by month_buyers.period_start

),

repurchases as (

    select
        {{ marts_period_start('month', 'purchases.purchase_date') }} as period_start,
        count(*) as repurchases,
        sum(case when purchases.channel <> first_channel.first_channel then 1 else 0 end) as cross_channel_repurchases
    from purchases
    inner join first_channel
        on first_channel.customer_id = purchases.customer_id
    where purchases.customer_purchase_seq >= 2
    group by 1

),

final as (

    select
        cast(buyers.period_start as date) as period_start,
        cast(buyers.customers as integer) as customers,
        cast(buyers.multi_channel_customers as integer) as multi_channel_customers,
        cast(buyers.multi_channel_customers * 1.0 / buyers.customers as double) as multi_channel_share,
        cast(buyers.online_offline_customers as integer) as online_offline_customers,
        cast(buyers.online_offline_customers * 1.0 / buyers.customers as double) as online_offline_share,
        cast(coalesce(repurchases.repurchases, 0) as integer) as repurchases,
        cast(coalesce(repurchases.cross_channel_repurchases, 0) as integer) as cross_channel_repurchases,
        cast(case when repurchases.repurchases > 0
            then repurchases.cross_channel_repurchases * 1.0 / repurchases.repurchases end as double)
            as cross_channel_repurchase_rate
    from buyers
    left join repurchases
        on repurchases.period_start = buyers.period_start

)

select * from final
