{#- Every change of lifecycle stage: (customer_id, day, from_stage, to_stage). A customer's first row is
    the entry into the lifecycle at the first purchase (from_stage null, to_stage new).

    Incremental (DECISIONLOG "Customer state is a model"): a customer's transitions are a function of
    their spells only, so a build recomputes the customers whose spells customer_lifecycle wrote after
    this table's newest `_built_at` (delete+insert on customer_id), and deletes the customers the
    lifecycle no longer has (post-hook). Equals a full rebuild, bookkeeping aside. -#}
{{
    config(
        materialized=incremental_materialization(),
        unique_key='customer_id',
        incremental_strategy='delete+insert',
        on_schema_change='fail',
        post_hook="{{ delete_vanished_keys('customer_id', ref('customer_lifecycle')) }}",
    )
}}

with

spells as (

    select * from {{ ref('customer_lifecycle') }}
    {% if is_incremental() %}
    where customer_id in (
        select customer_id
        from {{ ref('customer_lifecycle') }}
        where _built_at > coalesce({{ last_build_stamp() }}, cast('1900-01-01' as timestamp))
    )
    {% endif %}

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
        cast(to_stage as {{ dbt.type_string() }}) as to_stage,
        {{ built_at() }} as _built_at
    from transitions

)

select * from final
