{#-
    Hub identifiers: a value seen on the same records as more than var('identity_hub_threshold') distinct
    values of one other identifier type (a cashier's placeholder phone typed for many walk-ins, a store
    phone, a shared card). Degree = the largest such count over neighbour types. Hubs never link.

    Two passes: a member's card typed on several receipts together with store phones is seen with many
    phones only because those phones are hubs. The second pass ignores a neighbour that is a bigger hub
    (first-pass degree above the threshold and above this value's own), so the store phones stay hubs
    and the card does not. Equal degrees exclude neither (both stay hubs: fewer links, never a wrong one).
-#}

with

identifiers as (

    select distinct identifier_key, identifier_type, record_key from {{ ref('int_identifiers') }}

),

neighbours as (

    select distinct
        a.identifier_key,
        a.identifier_type,
        b.identifier_key as neighbour_key,
        b.identifier_type as neighbour_type
    from identifiers as a
    inner join identifiers as b
        on a.record_key = b.record_key
        and a.identifier_type <> b.identifier_type

),

first_pass as (

    select identifier_key, max(neighbour_count) as first_degree
    from (
        select identifier_key, neighbour_type, count(*) as neighbour_count
        from neighbours
        group by identifier_key, neighbour_type
    ) as counted
    group by identifier_key

),

-- a neighbour that is itself a bigger hub does not count: it explains the co-occurrence
second_pass_counts as (

    select
        neighbours.identifier_key,
        neighbours.identifier_type,
        neighbours.neighbour_type,
        count(*) as neighbour_count
    from neighbours
    inner join first_pass as own
        on own.identifier_key = neighbours.identifier_key
    inner join first_pass as other
        on other.identifier_key = neighbours.neighbour_key
    where not (
        other.first_degree > {{ var('identity_hub_threshold') }}
        and other.first_degree > own.first_degree
    )
    group by neighbours.identifier_key, neighbours.identifier_type, neighbours.neighbour_type

),

degrees as (

    select
        identifier_key,
        identifier_type,
        max(neighbour_count) as degree,
        arg_max(neighbour_type, neighbour_count) as degree_neighbour_type
    from second_pass_counts
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
