{#- The reference date of every repurchase mart: the `as_of` var when set, else the date of the latest
    purchase in fct_orders. One row. An as_of before the first purchase or more than
    `as_of_max_days_after_data` days after the newest one stops the build with a message (the marts
    would be empty or absurd, and nothing downstream is published). -#}
{%- set as_of_var = marts_as_of_var() -%}

with

orders as (

    select * from {{ ref('fct_orders') }}

),

latest as (

    select
        cast(min(cast(ordered_at as date)) as date) as first_purchase_date,
        cast(max(cast(ordered_at as date)) as date) as latest_purchase_date
    from orders
    where is_purchase

),

final as (

    select
        {% if as_of_var is none -%}
        latest_purchase_date as as_of_date,
        cast('latest_purchase' as {{ dbt.type_string() }}) as as_of_source,
        {%- else -%}
        case
            when cast('{{ as_of_var }}' as date) < first_purchase_date
                then {{ raise_data_error("'as_of " ~ as_of_var ~ " is before the first purchase (' || cast(first_purchase_date as " ~ dbt.type_string() ~ ") || '): choose a later day'") }}
            when cast('{{ as_of_var }}' as date)
                > {{ marts_add_days(var('as_of_max_days_after_data'), 'latest_purchase_date') }}
                then {{ raise_data_error("'as_of " ~ as_of_var ~ " is more than " ~ var('as_of_max_days_after_data') ~ " days after the newest purchase (' || cast(latest_purchase_date as " ~ dbt.type_string() ~ ") || '): choose an earlier day or load newer exports'") }}
            else cast('{{ as_of_var }}' as date)
        end as as_of_date,
        cast('var' as {{ dbt.type_string() }}) as as_of_source,
        {%- endif %}
        latest_purchase_date
    from latest

)

select * from final
