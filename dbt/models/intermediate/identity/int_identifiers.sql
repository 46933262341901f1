{#- Usable identifier observations: one row per (record, identifier), typed and ranked by strength. -#}

with

candidates as (

    select * from {{ ref('int_identifier_candidates') }}

),

final as (

    select distinct
        identifier_type,
        identifier_value,
        identifier_key,
        strength_rank,
        source,
        record_key,
        seen_at
    from candidates
    where rejection_reason is null

)

select * from final
