{#-
    RFM segment of every touched or assigned customer at the campaign's send time: the rules of
    customer_rfm (same vars: rfm_window_days, rfm_cut_quantile and the absolute cuts), applied as of the
    campaign's first send instead of as_of. Only purchases strictly before the first send count (the
    campaign's own conversions never shape the segment); recency_days = days from the last purchase to
    the send date; cuts = quantiles over every customer with a purchase before the send (the same
    population customer_rfm uses), not only over the campaign's audience. A customer without any purchase
    before the send is segment_code 'no_prior_purchase'. Recent = not churned by the lifecycle at the send
    (rfm_recency_rule, as in customer_rfm); monetary and lifetime spend follow the one net-spend rule of
    customer_rfm (macros/marts_net_spend.sql: returns before the send included, floored at 0); a customer
    without a purchase in the window whose lifetime spend before the send exceeds
    rfm_winback_min_lifetime_spend is high M (important_winback).
-#}
{%- set window_days = var('rfm_window_days') -%}
{%- set q = var('rfm_cut_quantile') -%}

with

events as (

    select * from {{ ref('fct_touch_events') }}
    where {{ campaigns_on_or_before_as_of('event_time') }}

),

purchases as (

    -- every order that moves money (the one net-spend rule, macros/marts_net_spend.sql): purchases make
    -- recency and frequency, all of them make monetary and lifetime spend
    select customer_id, ordered_at, cast(ordered_at as date) as purchase_date, net_amount, is_purchase
    from {{ ref('fct_orders') }}
    where customer_id is not null
        and {{ campaigns_on_or_before_as_of('ordered_at') }}

),

first_sends as (

    select
        campaign_id,
        -- first send; a campaign with only holdout rows is dated by its first assignment
        coalesce(
            min(case when not is_control then event_time end),
            min(event_time)
        ) as first_send_at
    from events
    group by campaign_id

),

{#- The send day and the RFM window's start, computed once per campaign (not per order of the history). -#}
campaigns as (

    select
        campaign_id,
        first_send_at,
        cast(first_send_at as date) as send_date,
        {{ marts_add_days(-window_days, 'cast(first_send_at as date)') }} as window_after
    from first_sends

),

audience as (

    select distinct campaign_id, customer_id
    from events
    where customer_id is not null

),

history as (

    select
        campaigns.campaign_id,
        campaigns.send_date,
        purchases.customer_id,
        max(case when purchases.is_purchase then purchases.purchase_date end) as last_purchase_date,
        sum(case
            when purchases.is_purchase
                and purchases.purchase_date > campaigns.window_after
                then 1 else 0
        end) as frequency,
        {{ marts_net_spend('case when purchases.purchase_date > campaigns.window_after then purchases.net_amount end') }}
            as monetary,
        {{ marts_net_spend('purchases.net_amount') }} as lifetime_spend
    from campaigns
    inner join purchases
        on purchases.ordered_at < campaigns.first_send_at
    group by campaigns.campaign_id, campaigns.send_date, purchases.customer_id
    -- a customer whose only orders before the send are not purchases has no prior purchase
    having sum(case when purchases.is_purchase then 1 else 0 end) > 0

),

with_recency as (

    select
        history.*,
        {{ marts_days_between('last_purchase_date', 'send_date') }} as recency_days
    from history

),

quantiles as (

    select
        campaign_id,
        {{ marts_percentile('recency_days', q) }} as recency_quantile,
        {{ marts_percentile('frequency', q) }} as frequency_quantile,
        {{ marts_percentile('monetary', q) }} as monetary_quantile
    from with_recency
    group by campaign_id

),

cuts as (

    select
        campaign_id,
        {{ marts_rfm_cut_columns() }}
    from quantiles

),

flagged as (

    select
        with_recency.*,
        with_recency.recency_days < cuts.recency_cut as is_recent,
        with_recency.frequency > cuts.frequency_cut as is_high_frequency,
        {{ marts_rfm_high_monetary('with_recency.monetary', 'cuts.monetary_cut', 'with_recency.frequency',
                                   'with_recency.lifetime_spend') }} as is_high_monetary
    from with_recency
    inner join cuts
        on cuts.campaign_id = with_recency.campaign_id

),

segments as (

    {{ marts_rfm_segments() }}

),

final as (

    select
        cast(audience.campaign_id as {{ dbt.type_string() }}) as campaign_id,
        cast(audience.customer_id as {{ dbt.type_string() }}) as customer_id,
        cast(campaigns.first_send_at as date) as rfm_as_of_date,
        cast(flagged.last_purchase_date as date) as last_purchase_date,
        cast(flagged.recency_days as integer) as recency_days,
        cast(coalesce(flagged.frequency, 0) as integer) as frequency,
        cast(coalesce(flagged.monetary, 0) as decimal(18, 2)) as monetary,
        cast(flagged.is_recent as boolean) as is_recent,
        cast(flagged.is_high_frequency as boolean) as is_high_frequency,
        cast(flagged.is_high_monetary as boolean) as is_high_monetary,
        cast(coalesce(segments.segment, '无购买记录') as {{ dbt.type_string() }}) as rfm_segment,
        cast(coalesce(segments.segment_code, 'no_prior_purchase') as {{ dbt.type_string() }}) as rfm_segment_code
    from audience
    inner join campaigns
        on campaigns.campaign_id = audience.campaign_id
    left join flagged
        on flagged.campaign_id = audience.campaign_id
        and flagged.customer_id = audience.customer_id
    left join segments
        on segments.is_recent = flagged.is_recent
        and segments.is_high_frequency = flagged.is_high_frequency
        and segments.is_high_monetary = flagged.is_high_monetary

)

select * from final
