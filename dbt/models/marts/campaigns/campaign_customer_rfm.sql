{{
    config(
        materialized=incremental_materialization(),
        unique_key='campaign_id',
        incremental_strategy='delete+insert',
        on_schema_change='append_new_columns',
        post_hook="{{ delete_vanished_keys('campaign_id', ref('int_campaign_rfm_cuts')) }}",
    )
}}
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
    The first send and the cuts come from int_campaign_rfm_cuts, which keeps them per campaign (their
    quantiles group every purchase before the send: a pass over the history per campaign, recomputed only
    when a purchase before that send changes); here only the audience's purchases are grouped.

    Incremental per campaign (delete+insert on campaign_id): a campaign's rows change only with its cuts
    (rewritten when a purchase before the send, the first send or an RFM var changed: their fingerprint
    covers every order before the send, with its customer), its touch events (the audience) and the as_of
    that admits them. So a build recomputes the campaigns whose cuts row or touch events were written
    since its last build, or with events dated between the last build's as_of and this one's; everyone
    when no row is stamped yet or the settings differ. A campaign the cuts no longer have is deleted
    (post-hook). Equals a full rebuild, bookkeeping aside
    (tests/dbt/campaigns/test_campaign_rfm_cuts_incremental.py).
-#}
{%- set window_days = var('rfm_window_days') -%}
{%- set settings = [window_days, var('rfm_cut_quantile'), var('rfm_recency_cut_days'), var('rfm_frequency_cut'),
                    var('rfm_monetary_cut'), marts_rfm_recency_rule(), var('lifecycle_silent_days'),
                    var('rfm_winback_min_lifetime_spend')] | join('|') -%}
{%- set scoped = is_incremental() and stored_rows_are_stamped() %}

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

{% if scoped %}
previous_build as (

    select
        max(_built_at) as built_at,
        max(_built_as_of) as as_of_date,
        max(_built_at) is null or bool_or(_built_settings <> '{{ settings }}') as recompute_all
    from {{ this }}

),

-- the campaigns whose rows can differ from the stored ones
build_campaigns as (

    -- cuts written since (a purchase before the send, the first send or an RFM var changed)
    select cuts.campaign_id
    from {{ ref('int_campaign_rfm_cuts') }} as cuts
    cross join previous_build
    where cuts._built_at > previous_build.built_at

    union

    -- touch events written since (a new log, a log exported again, a recipient whose identity changed)
    select touches.campaign_id
    from {{ ref('fct_touch_events') }} as touches
    cross join previous_build
    where touches._built_at > previous_build.built_at

    union

    -- events that as_of admits or drops since the last build (it moved either way)
    {{ campaigns_with_events_between_as_of('previous_build') }}

),

{% endif %}
{#- Each campaign's first send and cuts (int_campaign_rfm_cuts: the quantiles over every customer with a
    purchase before the send, kept per campaign), with the send day and the RFM window's start. -#}
campaigns as (

    select
        campaign_id,
        first_send_at,
        cast(first_send_at as date) as send_date,
        {{ marts_add_days(-window_days, 'cast(first_send_at as date)') }} as window_after,
        recency_cut,
        frequency_cut,
        monetary_cut
    from {{ ref('int_campaign_rfm_cuts') }}
    {%- if scoped %}
    where (select recompute_all from previous_build)
        or campaign_id in (select campaign_id from build_campaigns)
    {%- endif %}

),

audience as (

    select distinct campaign_id, customer_id
    from events
    where customer_id is not null
    {%- if scoped %}
        and campaign_id in (select campaign_id from campaigns)
    {%- endif %}

),

{#- The audience's purchases before the send (the cuts are the campaign's, over every customer). -#}
history as (

    select
        campaigns.campaign_id,
        campaigns.send_date,
        purchases.customer_id,
        {{ campaigns_rfm_history_columns('campaigns') }},
        {{ marts_net_spend('purchases.net_amount') }} as lifetime_spend
    from campaigns
    inner join audience
        on audience.campaign_id = campaigns.campaign_id
    inner join purchases
        on purchases.customer_id = audience.customer_id
        and purchases.ordered_at < campaigns.first_send_at
    group by campaigns.campaign_id, campaigns.send_date, purchases.customer_id
    having {{ campaigns_rfm_has_purchase() }}

),

with_recency as (

    select
        history.*,
        {{ marts_days_between('last_purchase_date', 'send_date') }} as recency_days
    from history

),

flagged as (

    select
        with_recency.*,
        with_recency.recency_days < campaigns.recency_cut as is_recent,
        with_recency.frequency > campaigns.frequency_cut as is_high_frequency,
        {{ marts_rfm_high_monetary('with_recency.monetary', 'campaigns.monetary_cut', 'with_recency.frequency',
                                   'with_recency.lifetime_spend') }} as is_high_monetary
    from with_recency
    inner join campaigns
        on campaigns.campaign_id = with_recency.campaign_id

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
        cast(coalesce(segments.segment_code, 'no_prior_purchase') as {{ dbt.type_string() }}) as rfm_segment_code,
        {{ built_at() }} as _built_at,
        cast({{ marts_as_of() }} as date) as _built_as_of,
        cast('{{ settings }}' as {{ dbt.type_string() }}) as _built_settings
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
