{#- The omni-channel view (线上线下联动) by month, purchases up to as_of (repurchase_purchases): for each
    month with purchases, among the customers who purchased in it:
    - multi_channel_share: share who have bought, up to the month's end (or as_of), in 2 or more channels;
    - online_offline_share: share who have bought both offline (pos) and online (any other channel);
    - cross_channel_repurchase_rate: among the month's repurchases (a customer's 2nd or later purchase),
      the share made in a channel other than the customer's first purchase's channel. -#}

with

purchases as {{ cte_not_materialized() }} (

    select * from {{ ref('repurchase_purchases') }}

),

first_channel as (

    select customer_id, min_by(channel, customer_purchase_seq) as first_channel
    from purchases
    group by customer_id

),

-- the day each customer first bought in each channel: a channel counts from then on
customer_channels as (

    select customer_id, channel, min(purchase_date) as first_purchase_date
    from purchases
    where customer_id is not null
    group by customer_id, channel

),

-- per customer, the day from which they count as multi-channel (the first day of their second channel;
-- two channels first bought on one day: that day) and their first days offline (pos) and online (any
-- other channel). A month's buyer counts in a share when the day is on or before the month's end: one
-- row per customer, not one per buyer, month and channel.
customer_milestones as (

    select
        customer_id,
        max(case when channel_rank = 2 then first_purchase_date end) as multi_channel_from,
        min(case when channel = 'pos' then first_purchase_date end) as offline_from,
        min(case when channel <> 'pos' then first_purchase_date end) as online_from
    from (
        select
            customer_channels.*,
            row_number() over (
                partition by customer_id order by first_purchase_date, channel
            ) as channel_rank
        from customer_channels
    ) as ranked_channels
    group by customer_id

),

month_buyers as (

    select distinct {{ marts_period_start('month', 'purchase_date') }} as period_start, customer_id
    from purchases
    where customer_id is not null

),

buyers as (

    select
        month_buyers.period_start,
        count(*) as customers,
        sum(case
            when customer_milestones.multi_channel_from
                <= {{ marts_period_end('month', 'month_buyers.period_start') }} then 1
            else 0
        end) as multi_channel_customers,
        sum(case
            when customer_milestones.offline_from
                    <= {{ marts_period_end('month', 'month_buyers.period_start') }}
                and customer_milestones.online_from
                    <= {{ marts_period_end('month', 'month_buyers.period_start') }} then 1
            else 0
        end) as online_offline_customers
    from month_buyers
    inner join customer_milestones
        on customer_milestones.customer_id = month_buyers.customer_id
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
