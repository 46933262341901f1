{{
    config(
        materialized=incremental_materialization(),
        unique_key='campaign_id',
        incremental_strategy='delete+insert',
        on_schema_change='fail',
        post_hook="{{ delete_vanished_keys('campaign_id', ref('fct_touch_events'), campaigns_on_or_before_as_of('event_time')) }}",
    )
}}

{#-
    Each campaign's first send and its RFM cuts (campaign_customer_rfm's rules): the quantiles of recency,
    frequency and monetary over every customer with a purchase strictly before the first send, or the
    absolute cut vars. One row per campaign with an event on or before as_of; the cuts are null when no
    customer bought before the send (everyone in it is then no_prior_purchase).
    The quantiles group every purchase before the send by customer: a campaign costs a pass over the
    history, and each new campaign one more. They change only when a purchase before the send does, so an
    incremental build recomputes only the campaigns whose inputs_fingerprint changed (the first send, the
    vars, and the fingerprints of the orders before the send: the purchases' stored row fingerprints,
    repurchase_purchases._row_fingerprint, summed per day, and the few money-back orders hashed here), as
    the KPI cells do per period (DECISIONLOG "Campaign cuts are kept per campaign"). delete+insert on
    campaign_id; a campaign with no event left on or before as_of is deleted (post-hook). Equals a full
    rebuild, bookkeeping aside.
-#}
{%- set window_days = var('rfm_window_days') -%}
{%- set q = var('rfm_cut_quantile') -%}
{%- set settings = [window_days, q, var('rfm_recency_cut_days'), var('rfm_frequency_cut'), var('rfm_monetary_cut'),
                    marts_rfm_recency_rule(), var('lifecycle_silent_days')] | join('|') -%}

with

events as (

    select campaign_id, event_time, is_control
    from {{ ref('fct_touch_events') }}
    where {{ campaigns_on_or_before_as_of('event_time') }}

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

{#- Orders that move money but are not purchases (returns, refunds), with a customer: few. -#}
money_back as (

    select order_key, customer_id, ordered_at, net_amount
    from {{ ref('fct_orders') }}
    where customer_id is not null
        and not is_purchase
        and net_amount <> 0
        and {{ campaigns_on_or_before_as_of('ordered_at') }}

),

{#- What a campaign's cuts depend on. Purchases before the send day by their stored fingerprints summed
    per day; the send day's purchases one by one (only those before the send time count). -#}
day_inputs as (

    select purchase_date, sum(cast(_row_fingerprint as decimal(38, 0))) as fingerprint
    from {{ ref('repurchase_purchases') }}
    where customer_id is not null
    group by purchase_date

),

campaign_inputs as (

    select
        campaigns.campaign_id,
        {{ dbt.hash(dbt.concat([
            dbt.cast('campaigns.first_send_at', dbt.type_string()), "'|'",
            "'" ~ settings ~ "'", "'|'",
            "coalesce(" ~ dbt.cast('before_send_day.fingerprint', dbt.type_string()) ~ ", '')", "'|'",
            "coalesce(" ~ dbt.cast('on_send_day.fingerprint', dbt.type_string()) ~ ", '')", "'|'",
            "coalesce(" ~ dbt.cast('money_back_before_send.fingerprint', dbt.type_string()) ~ ", '')",
        ])) }} as inputs_fingerprint
    from campaigns
    left join (
        select campaigns.campaign_id, sum(day_inputs.fingerprint) as fingerprint
        from campaigns
        inner join day_inputs
            on day_inputs.purchase_date < campaigns.send_date
        group by campaigns.campaign_id
    ) as before_send_day
        on before_send_day.campaign_id = campaigns.campaign_id
    left join (
        select campaigns.campaign_id, {{ fingerprint_sum('purchases._row_fingerprint') }} as fingerprint
        from campaigns
        inner join {{ ref('repurchase_purchases') }} as purchases
            on purchases.purchase_date = campaigns.send_date
            and purchases.ordered_at < campaigns.first_send_at
        where purchases.customer_id is not null
        group by campaigns.campaign_id
    ) as on_send_day
        on on_send_day.campaign_id = campaigns.campaign_id
    left join (
        select campaigns.campaign_id,
            {{ fingerprint_sum(row_fingerprint(['money_back.order_key', 'money_back.customer_id',
                                                'money_back.ordered_at', 'money_back.net_amount'])) }} as fingerprint
        from campaigns
        inner join money_back
            on money_back.ordered_at < campaigns.first_send_at
        group by campaigns.campaign_id
    ) as money_back_before_send
        on money_back_before_send.campaign_id = campaigns.campaign_id

),

{#- The campaigns to (re)compute: all of them on a full build, else those whose inputs changed. -#}
build_campaigns as (

    select campaigns.*, campaign_inputs.inputs_fingerprint
    from campaigns
    inner join campaign_inputs
        on campaign_inputs.campaign_id = campaigns.campaign_id
    {%- if is_incremental() %}
    left join {{ this }} as built
        on built.campaign_id = campaigns.campaign_id
    where built.inputs_fingerprint is null
        or built.inputs_fingerprint <> campaign_inputs.inputs_fingerprint
    {%- endif %}

),

purchases as (

    -- every order that moves money (the one net-spend rule, macros/marts_net_spend.sql): purchases make
    -- recency and frequency, all of them make monetary
    select customer_id, ordered_at, cast(ordered_at as date) as purchase_date, net_amount, is_purchase
    from {{ ref('fct_orders') }}
    where customer_id is not null
        and {{ campaigns_on_or_before_as_of('ordered_at') }}

),

history as (

    select
        build_campaigns.campaign_id,
        build_campaigns.send_date,
        purchases.customer_id,
        {{ campaigns_rfm_history_columns('build_campaigns') }}
    from build_campaigns
    inner join purchases
        on purchases.ordered_at < build_campaigns.first_send_at
    group by build_campaigns.campaign_id, build_campaigns.send_date, purchases.customer_id
    having {{ campaigns_rfm_has_purchase() }}

),

quantiles as (

    select
        campaign_id,
        {{ marts_percentile(marts_days_between('last_purchase_date', 'send_date'), q) }} as recency_quantile,
        {{ marts_percentile('frequency', q) }} as frequency_quantile,
        {{ marts_percentile('monetary', q) }} as monetary_quantile
    from history
    group by campaign_id

),

cuts as (

    select
        campaign_id,
        {{ marts_rfm_cut_columns() }}
    from quantiles

),

final as (

    select
        cast(build_campaigns.campaign_id as {{ dbt.type_string() }}) as campaign_id,
        cast(build_campaigns.first_send_at as timestamp) as first_send_at,
        cast(cuts.recency_cut as double) as recency_cut,
        cast(cuts.frequency_cut as double) as frequency_cut,
        cast(cuts.monetary_cut as double) as monetary_cut,
        cast(build_campaigns.inputs_fingerprint as {{ dbt.type_string() }}) as inputs_fingerprint,
        {{ built_at() }} as _built_at
    from build_campaigns
    left join cuts
        on cuts.campaign_id = build_campaigns.campaign_id

)

select * from final
