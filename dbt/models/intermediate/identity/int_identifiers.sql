{{ config(materialized='view') }}
{#-
    Usable identifier observations: one row per (record, identifier) sighting, typed and ranked by
    strength. identifier_id / record_id are the 64-bit ids of the keys, computed once in
    int_identifier_candidates (incremental) so the graph steps join and group on integers; a data test
    proves the ids injective on the data (a collision fails the build, it never merges two identifiers
    silently). A view: the graph steps read a few integer columns of the candidates, no copy is written;
    identifier_key (the node name) is derived here, the candidates store only the value. _built_at: the
    build that wrote the observation; the data tests check the last build's rows (a full build's are all).
-#}

with

candidates as (

    select * from {{ ref('int_identifier_candidates') }}

),

final as (

    select
        identifier_id,
        record_id,
        identifier_type,
        identifier_value,
        identifier_type || ':' || identifier_value as identifier_key,
        strength_rank,
        source,
        record_key,
        seen_at,
        _built_at
    from candidates
    -- = rejection_reason is null (only a usable observation has an id): the graph steps that read this
    -- view scan an integer column's validity instead of a text column
    where identifier_id is not null
        and retracted_at is null

)

select * from final
