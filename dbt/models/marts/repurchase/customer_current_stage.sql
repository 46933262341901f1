{#- Each customer's lifecycle stage on as_of (the current spell of customer_lifecycle), with the
    purchase facts that decide it. -#}

with

spells as (

    select * from {{ ref('customer_lifecycle') }}
    where is_current

),

purchases as (

    select * from {{ ref('repurchase_purchases') }}
    where customer_id is not null

),

as_of as (

    select as_of_date from {{ ref('repurchase_as_of') }}

),

customers as (

    select
        customer_id,
        min(purchase_date) as first_purchase_date,
        max(purchase_date) as last_purchase_date,
        count(*) as purchase_count
    from purchases
    group by customer_id

),

final as (

    select
        cast(spells.customer_id as {{ dbt.type_string() }}) as customer_id,
        cast(as_of.as_of_date as date) as as_of_date,
        cast(spells.stage as {{ dbt.type_string() }}) as stage,
        cast(spells.valid_from as date) as stage_since,
        cast({{ marts_days_between('spells.valid_from', 'as_of.as_of_date') }} as integer) as days_in_stage,
        cast(customers.first_purchase_date as date) as first_purchase_date,
        cast(customers.last_purchase_date as date) as last_purchase_date,
        cast({{ marts_days_between('customers.last_purchase_date', 'as_of.as_of_date') }} as integer)
            as days_since_last_purchase,
        cast(customers.purchase_count as integer) as purchase_count
    from spells
    inner join customers
        on spells.customer_id = customers.customer_id
    cross join as_of

)

select * from final
