{#-
    Usable identifier observations: one row per (record, identifier) sighting, typed and ranked by
    strength. identifier_id / record_id are 64-bit hashes of the keys so the graph steps join and group
    on integers; a data test proves the hash is injective on the data (a collision fails the build, it
    never merges two identifiers silently). Ids are recomputed every run and never stored as state.
-#}

with

candidates as (

    select * from {{ ref('int_identifier_candidates') }}

),

final as (

    select
        {{ identity_key_id('identifier_key') }} as identifier_id,
        {{ identity_key_id('record_key') }} as record_id,
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
