{#- RFM as of as_of. Scope: every identified customer with at least one purchase on or before as_of.
    recency_days = days from the last purchase to as_of; frequency / monetary = purchases / net spend in
    the last rfm_window_days days (as_of included), 0 when none.
    Scores 1..rfm_score_bins: score = 1 + floor(bins * (rank - 1) / n), rank = SQL rank() (ties share the
    lowest rank) in the order worst -> best (recency: most days first). Equal values therefore always
    share one score; a tie straddling a quintile edge takes the lower score.
    Segments: recent = recency_days < recency cut, high F = frequency > frequency cut, high M = monetary >
    monetary cut (strictly better than the cut; a value equal to the cut is distant / low). Cut = the
    rfm_cut_quantile of the in-scope customers (median by default) unless an absolute cut var is set. -#}
{%- set bins = var('rfm_score_bins') -%}
{%- set window_days = var('rfm_window_days') -%}
{%- set q = var('rfm_cut_quantile') -%}

with

purchases as (

    select * from {{ ref('repurchase_purchases') }}
    where customer_id is not null

),

as_of as (

    select as_of_date from {{ ref('repurchase_as_of') }}

),

customers as (

    select
        purchases.customer_id,
        as_of.as_of_date,
        min(purchases.purchase_date) as first_purchase_date,
        max(purchases.purchase_date) as last_purchase_date,
        sum(case
            when purchases.purchase_date > {{ marts_add_days(-window_days, 'as_of.as_of_date') }} then 1
            else 0
        end) as frequency,
        coalesce(sum(case
            when purchases.purchase_date > {{ marts_add_days(-window_days, 'as_of.as_of_date') }}
                then purchases.net_amount
        end), 0) as monetary
    from purchases
    cross join as_of
    group by purchases.customer_id, as_of.as_of_date

),

with_recency as (

    select
        customers.*,
        {{ marts_days_between('last_purchase_date', 'as_of_date') }} as recency_days
    from customers

),

scored as (

    select
        with_recency.*,
        1 + floor({{ bins }} * (rank() over (order by recency_days desc) - 1)
            / cast(count(*) over () as double)) as r_score,
        1 + floor({{ bins }} * (rank() over (order by frequency asc) - 1)
            / cast(count(*) over () as double)) as f_score,
        1 + floor({{ bins }} * (rank() over (order by monetary asc) - 1)
            / cast(count(*) over () as double)) as m_score
    from with_recency

),

quantiles as (

    select
        {{ marts_percentile('recency_days', q) }} as recency_quantile,
        {{ marts_percentile('frequency', q) }} as frequency_quantile,
        {{ marts_percentile('monetary', q) }} as monetary_quantile
    from with_recency

),

cuts as (

    select
        {{ marts_rfm_cut_columns() }}
    from quantiles

),

flagged as (

    select
        scored.*,
        cuts.recency_cut,
        cuts.frequency_cut,
        cuts.monetary_cut,
        scored.recency_days < cuts.recency_cut as is_recent,
        scored.frequency > cuts.frequency_cut as is_high_frequency,
        scored.monetary > cuts.monetary_cut as is_high_monetary
    from scored
    cross join cuts

),

segments as (

    {{ marts_rfm_segments() }}

),

final as (

    select
        cast(flagged.customer_id as varchar) as customer_id,
        cast(flagged.as_of_date as date) as as_of_date,
        cast(flagged.first_purchase_date as date) as first_purchase_date,
        cast(flagged.last_purchase_date as date) as last_purchase_date,
        cast(flagged.recency_days as integer) as recency_days,
        cast(flagged.frequency as integer) as frequency,
        cast(flagged.monetary as decimal(18, 2)) as monetary,
        cast(flagged.r_score as integer) as r_score,
        cast(flagged.f_score as integer) as f_score,
        cast(flagged.m_score as integer) as m_score,
        cast(flagged.r_score * 100 + flagged.f_score * 10 + flagged.m_score as integer) as rfm_score,
        cast(flagged.recency_cut as double) as recency_cut,
        cast(flagged.frequency_cut as double) as frequency_cut,
        cast(flagged.monetary_cut as double) as monetary_cut,
        cast(flagged.is_recent as boolean) as is_recent,
        cast(flagged.is_high_frequency as boolean) as is_high_frequency,
        cast(flagged.is_high_monetary as boolean) as is_high_monetary,
        cast(segments.segment as varchar) as segment,
        cast(segments.segment_code as varchar) as segment_code,
        cast(segments.recommended_action as varchar) as recommended_action
    from flagged
    inner join segments
        on flagged.is_recent = segments.is_recent
        and flagged.is_high_frequency = segments.is_high_frequency
        and flagged.is_high_monetary = segments.is_high_monetary

)

select * from final
