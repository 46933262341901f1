{#- Every change of lifecycle stage: (customer_id, day, from_stage, to_stage). A customer's first row is
    the entry into the lifecycle at the first purchase (from_stage null, to_stage new). -#}

with

spells as (

    select * from {{ ref('customer_lifecycle') }}

),

transitions as (

    select
        customer_id,
        valid_from as day,
        lag(stage) over (partition by customer_id order by valid_from) as from_stage,
        stage as to_stage
    from spells

),

final as (

    select
        cast(customer_id as {{ dbt.type_string() }}) as customer_id,
        cast(day as date) as day,
        cast(from_stage as {{ dbt.type_string() }}) as from_stage,
        cast(to_stage as {{ dbt.type_string() }}) as to_stage
    from transitions

)

select * from final
