{#- One row per source row the loader could not load, with the reason (raw_row keeps the cells). -#}
with source as (
    select * from {{ source('raw', '_quarantine') }}
),

renamed as (
    select
        {{ surrogate_key(['source', 'file_sha256', 'row_number', 'reason']) }} as quarantine_key,
        source,
        file_name,
        file_sha256,
        cast(row_number as integer) as row_number,
        raw_row,
        reason,
        cast(quarantined_at as timestamp) as quarantined_at
    from source
)

select * from renamed
