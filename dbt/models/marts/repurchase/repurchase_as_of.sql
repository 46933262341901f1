{#- The reference date of every repurchase mart: the `as_of` var when set, else the date of the latest
    purchase in fct_orders. One row. -#}
{%- set as_of_var = marts_as_of_var() -%}

with

orders as (

    select * from {{ ref('fct_orders') }}

),

latest as (

    select cast(max(cast(ordered_at as date)) as date) as latest_purchase_date
    from orders
    where is_purchase

),

final as (

    select
        {% if as_of_var is none -%}
        latest_purchase_date as as_of_date,
        cast('latest_purchase' as varchar) as as_of_source,
        {%- else -%}
        cast('{{ as_of_var }}' as date) as as_of_date,
        cast('var' as varchar) as as_of_source,
        {%- endif %}
        latest_purchase_date
    from latest

)

select * from final
