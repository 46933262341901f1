{#- The channel-switch matrix by month: every repurchase (a customer's 2nd or later purchase up to as_of)
    counted by the customer's first purchase channel (from_channel) and the repurchase's channel
    (to_channel); from_channel = to_channel is staying. -#}

with

purchases as {{ cte_not_materialized() }} (

    select * from {{ ref('repurchase_purchases') }}

),

first_channel as (

    select customer_id, min_by(channel, customer_purchase_seq) as first_channel
    from purchases
    group by customer_id

),

final as (

    select
        cast({{ marts_period_start('month', 'purchases.purchase_date') }} as date) as period_start,
        cast(first_channel.first_channel as {{ dbt.type_string() }}) as from_channel,
        cast(purchases.channel as {{ dbt.type_string() }}) as to_channel,
        cast(count(*) as integer) as repurchases,
        cast(count(distinct purchases.customer_id) as integer) as customers
    from purchases
    inner join first_channel
        on first_channel.customer_id = purchases.customer_id
    where purchases.customer_purchase_seq >= 2
    group by 1, 2, 3

)

select * from final
