{#- One row per trigger touch the daily exports wrote (reporting/trigger_exports.py appends them to
    raw._touch_send_log); activation_triggers reads the earlier days back for the frequency cap. -#}
with source as (
    select * from {{ source('raw', '_touch_send_log') }}
),

renamed as (
    select
        cast(as_of_date as date) as as_of_date,
        cast(customer_id as {{ dbt.type_string() }}) as customer_id,
        cast(trigger_code as {{ dbt.type_string() }}) as trigger_code,
        cast(channel as {{ dbt.type_string() }}) as channel,
        cast(exported_at as timestamp) as exported_at
    from source
)

select * from renamed
