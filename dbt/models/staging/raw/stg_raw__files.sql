{#- One row per landed file the loader saw (loaded or rejected), from the load manifest. -#}
with source as (
    select * from {{ source('raw', '_files') }}
),

renamed as (
    select
        {{ surrogate_key(['source', 'file_name', 'sha256', 'loaded_at']) }} as file_load_key,
        source,
        file_name,
        sha256 as file_sha256,
        cast(size_bytes as bigint) as size_bytes,
        cast(rows_in as integer) as rows_in,
        cast(rows_loaded as integer) as rows_loaded,
        cast(rows_quarantined as integer) as rows_quarantined,
        status,
        message,
        cast(loaded_at as timestamp) as loaded_at
    from source
)

select * from renamed
