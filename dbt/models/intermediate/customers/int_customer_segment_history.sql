{{
    config(
        materialized=incremental_materialization(),
        incremental_strategy='delete+insert',
        unique_key=['customer_id', 'valid_from'],
        on_schema_change='fail',
    )
}}
{#-
    The RFM segment every build gave each customer (customer_rfm), kept as a history: one row per customer
    and stretch of builds with the same segment. valid_from = the build that gave it (its stamp, as
    `_built_at`), valid_to = the build that replaced it (null while it is the customer's segment),
    as_of_date = the as_of of the build that gave it. A customer who leaves customer_rfm (merged into
    another id, or no purchase on or before an earlier as_of) has their row closed and none open.

    Why it exists: the rfm_segment rows of kpi_monthly / kpi_quarterly group every period by today's
    segments. int_kpi_monthly_segments / int_kpi_quarterly_segments keep those rows' additive parts and,
    on a day whose purchases did not change a period, move only the customers whose segment changed since
    their own last build: the segment they had then is read here (DECISIONLOG "Segment rows move with
    the customers who changed segment").

    Incremental: a build compares customer_rfm with the open rows and writes only the customers whose
    segment changed (the open row closed, a new one opened) or who left. A full rebuild holds each
    customer's current segment only, from that build; its readers then recompute every period.
-#}

with

current_segments as (

    select
        rfm.customer_id,
        rfm.segment,
        as_of.as_of_date
    from {{ ref('customer_rfm') }} as rfm
    cross join {{ ref('repurchase_as_of') }} as as_of

),

{%- if is_incremental() %}

open_rows as (

    select customer_id, segment, as_of_date, valid_from
    from {{ this }}
    where valid_to is null

),

-- the open rows that no longer hold (another segment, or the customer left customer_rfm): closed
closed as (

    select
        open_rows.customer_id,
        open_rows.segment,
        open_rows.as_of_date,
        open_rows.valid_from,
        {{ built_at() }} as valid_to
    from open_rows
    left join current_segments
        on current_segments.customer_id = open_rows.customer_id
    where current_segments.customer_id is null
        or current_segments.segment is distinct from open_rows.segment

),

-- a customer without an open row, or whose open row closes: a new open row
opened as (

    select
        current_segments.customer_id,
        current_segments.segment,
        current_segments.as_of_date,
        {{ built_at() }} as valid_from,
        cast(null as timestamp) as valid_to
    from current_segments
    left join open_rows
        on open_rows.customer_id = current_segments.customer_id
    where open_rows.customer_id is null
        or open_rows.segment is distinct from current_segments.segment

),

changed as (

    select * from closed
    union all
    select * from opened

),
{%- else %}

changed as (

    select
        customer_id,
        segment,
        as_of_date,
        {{ built_at() }} as valid_from,
        cast(null as timestamp) as valid_to
    from current_segments

),
{%- endif %}

final as (

    select
        cast(customer_id as {{ dbt.type_string() }}) as customer_id,
        cast(segment as {{ dbt.type_string() }}) as segment,
        cast(as_of_date as date) as as_of_date,
        cast(valid_from as timestamp) as valid_from,
        cast(valid_to as timestamp) as valid_to,
        {{ built_at() }} as _built_at
    from changed

)

select * from final
