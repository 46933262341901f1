{{ config(materialized='view') }}
{#- Identifier observations dropped from linking, with the reason (never guessed or repaired). -#}

with

candidates as (

    select * from {{ ref('int_identifier_candidates') }}

),

final as (

    select
        identifier_type,
        source,
        record_key,
        seen_at,
        rejection_reason
    from candidates
    where rejection_reason is not null
        and retracted_at is null

)

select * from final
