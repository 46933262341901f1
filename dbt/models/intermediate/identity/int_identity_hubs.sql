{#-
    Hub identifiers: a value seen on the same records as more than var('identity_hub_threshold') distinct
    values of one other identifier type (a cashier's placeholder phone typed for many walk-ins, a store
    phone, a shared card). Degree = the largest such count over neighbour types. Hubs never link.
-#}

with

identifiers as (

    select distinct identifier_key, identifier_type, record_key from {{ ref('int_identifiers') }}

),

co_occurrences as (

    select
        a.identifier_key,
        a.identifier_type,
        b.identifier_type as neighbour_type,
        count(distinct b.identifier_key) as neighbour_count
    from identifiers as a
    inner join identifiers as b
        on a.record_key = b.record_key
        and a.identifier_type <> b.identifier_type
    group by a.identifier_key, a.identifier_type, b.identifier_type

),

degrees as (

    select
        identifier_key,
        identifier_type,
        max(neighbour_count) as degree,
        arg_max(neighbour_type, neighbour_count) as degree_neighbour_type
    from co_occurrences
    group by identifier_key, identifier_type

),

final as (

    select
        identifier_key,
        identifier_type,
        degree,
        degree_neighbour_type
    from degrees
    where degree > {{ var('identity_hub_threshold') }}

)

select * from final
