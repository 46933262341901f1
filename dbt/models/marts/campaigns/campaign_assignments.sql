{{
    config(
        materialized=incremental_materialization(),
        unique_key='campaign_id',
        incremental_strategy='delete+insert',
        on_schema_change='append_new_columns',
        post_hook="{{ delete_vanished_keys('campaign_id', ref('fct_touch_events'),
                                           'customer_id is not null and ' ~ campaigns_on_or_before_as_of('event_time')) }}",
    )
}}
{#-
    One row per campaign x resolved customer: the group the customer was assigned to, the funnel steps
    they reached and whether they converted. Conversion = a purchase (fct_orders.is_purchase) by the
    same customer after the first touch and at most attribution_window_days days later:
    first_touch_at < ordered_at <= first_touch_at + window.
    - Assignment: the variant of the customer's earliest event in the campaign; a variant = 'control'
      row is a holdout assignment (never a send) whatever its event type. variant_count > 1 flags a
      customer seen in several variants (two recipients merged into one customer, or an export error);
      A/B results leave such customers out.
    - first_touch_at: treated customers, their first non-control event (normally the first send);
      control customers, their first control row (the moment of assignment, the holdout's counterfactual
      first touch).
    - channel: the channel of the first touch.
    - is_window_complete: the attribution window ended on or before as_of (else conversions may still come).
    - as_of: only touches and purchases on or before as_of count (a snapshot for a past day never sees a
      later campaign or conversion); window_end_at may lie after as_of (the window is still open).

    Incremental per campaign (delete+insert on campaign_id), like campaign_customer_rfm: a campaign's rows
    depend on its touch events, its audience's segments (campaign_customer_rfm), the purchases inside its
    attribution windows, as_of and attribution_window_days. A build recomputes the campaigns
      - with touch events or segment rows written since its last build (`_built_at`), or events dated
        between the last build's as_of and this one's (either way);
      - whose stored windows reach past the earlier of the two as_of (a window that was open, or that a
        backfill opens again: is_window_complete and the conversions in scope change);
      - whose purchases fingerprint differs: `_purchases_fingerprint` covers the purchases (order, customer,
        time, amount) from the campaign's first touch to its last window end, so an order added, changed,
        moved to another customer by an identity merge or deleted inside a window recomputes the campaign;
    and every campaign when no row is stamped yet or the attribution window changed. A campaign without a
    resolved event on or before as_of any more is deleted (post-hook). Equals a full rebuild, bookkeeping
    aside (tests/dbt/campaigns/test_campaign_rfm_cuts_incremental.py). A day's orders, dated after every
    closed window, recompute no campaign.
-#}
{%- set window_days = var('attribution_window_days') -%}
{%- set settings = window_days | string -%}
{%- set scoped = is_incremental() and stored_rows_are_stamped() %}

with

purchases as (

    select order_key, customer_id, ordered_at, net_amount
    from {{ ref('fct_orders') }}
    where is_purchase
        and customer_id is not null
        and {{ campaigns_on_or_before_as_of('ordered_at') }}

),

{% if scoped %}
{%- set since = last_build_stamp() %}
previous_build as (

    select
        max(_built_as_of) as as_of_date,
        max(_built_at) is null or bool_or(_built_settings <> '{{ settings }}') as recompute_all
    from {{ this }}

),

-- each stored campaign's purchase span (first touch to last window end) and the fingerprint it was built with
stored_campaigns as (

    select
        campaign_id,
        min(first_touch_at) as span_after,
        max(window_end_at) as span_end,
        max(_purchases_fingerprint) as purchases_fingerprint
    from {{ this }}
    group by campaign_id

),

-- the campaigns whose rows can differ from the stored ones
build_campaigns as (

    -- touch events written since (a new log, a log exported again, a recipient whose identity changed)
    select touches.campaign_id
    from {{ ref('fct_touch_events') }} as touches
    where {{ written_since_last_build('touches', since) }}

    union

    -- segments written since (campaign_customer_rfm rewrote the campaign)
    select segments.campaign_id
    from {{ ref('campaign_customer_rfm') }} as segments
    where {{ written_since_last_build('segments', since) }}

    union

    -- events that as_of admits or drops since the last build (it moved either way)
    {{ campaigns_with_events_between_as_of('previous_build') }}

    union

    -- windows that reach past the earlier as_of when it moved (their flag and purchases in scope change)
    select stored_campaigns.campaign_id
    from stored_campaigns
    cross join previous_build
    where previous_build.as_of_date <> {{ marts_as_of() }}
        and cast(stored_campaigns.span_end as date) > least(previous_build.as_of_date, {{ marts_as_of() }})

    union

    -- purchases inside the windows that differ from the ones the campaign was built with
    select stored_campaigns.campaign_id
    from stored_campaigns
    left join (
        {{ campaigns_purchases_fingerprints('stored_campaigns', 'purchases') }}
    ) as current_fingerprints
        on current_fingerprints.campaign_id = stored_campaigns.campaign_id
    where current_fingerprints.purchases_fingerprint is distinct from stored_campaigns.purchases_fingerprint

),

{% endif %}
events as (

    select * from {{ ref('fct_touch_events') }}
    where customer_id is not null
        and {{ campaigns_on_or_before_as_of('event_time') }}
    {%- if scoped %}
        and (
            (select recompute_all from previous_build)
            or campaign_id in (select campaign_id from build_campaigns)
        )
    {%- endif %}

),

segments as (

    select * from {{ ref('campaign_customer_rfm') }}

),

per_customer as (

    select
        campaign_id,
        customer_id,
        {{ first_row_by(
            ['campaign_name', 'channel', 'variant', 'is_control'],
            ['event_time', 'is_control', 'event_key']
        ) }} as first_event,
        count(distinct coalesce(variant, '')) as variant_count,
        min(case when not is_control then event_time end) as first_treated_event_at,
        min(case when is_control then event_time end) as first_control_event_at,
        max(case when not is_control and event_type = 'sent' then 1 else 0 end) as is_sent,
        max(case when not is_control and event_type = 'delivered' then 1 else 0 end) as is_delivered,
        max(case when not is_control and event_type = 'opened' then 1 else 0 end) as is_opened,
        max(case when not is_control and event_type = 'clicked' then 1 else 0 end) as is_clicked,
        max(case when not is_control and event_type = 'add_to_cart' then 1 else 0 end) as is_added_to_cart
    from events
    group by campaign_id, customer_id

),

-- the assignment is the customer's earliest event in the campaign (at the same moment a treated event before
-- a control row, then the smaller event_key: every tie broken, as the model's description says)
assigned as (

    select
        campaign_id,
        customer_id,
        first_event.campaign_name,
        first_event.channel,
        first_event.variant,
        first_event.is_control,
        variant_count,
        case
            when first_event.is_control then first_control_event_at
            else first_treated_event_at
        end as first_touch_at,
        is_sent,
        is_delivered,
        is_opened,
        is_clicked,
        is_added_to_cart
    from per_customer

),

windowed as (

    select
        assigned.*,
        {{ marts_add_days_to_timestamp(window_days, 'assigned.first_touch_at') }} as window_end_at
    from assigned

),

conversions as (

    select
        windowed.campaign_id,
        windowed.customer_id,
        min(purchases.ordered_at) as first_conversion_at,
        count(*) as conversion_orders,
        sum(purchases.net_amount) as conversion_revenue
    from windowed
    inner join purchases
        on purchases.customer_id = windowed.customer_id
        and purchases.ordered_at > windowed.first_touch_at
        and purchases.ordered_at <= windowed.window_end_at
    group by windowed.campaign_id, windowed.customer_id

),

spans as (

    select campaign_id, min(first_touch_at) as span_after, max(window_end_at) as span_end
    from windowed
    group by campaign_id

),

purchases_fingerprints as (

    {{ campaigns_purchases_fingerprints('spans', 'purchases') }}

),

final as (

    select
        cast(windowed.campaign_id as {{ dbt.type_string() }}) as campaign_id,
        cast(windowed.customer_id as {{ dbt.type_string() }}) as customer_id,
        cast(windowed.campaign_name as {{ dbt.type_string() }}) as campaign_name,
        cast(windowed.channel as {{ dbt.type_string() }}) as channel,
        cast(windowed.variant as {{ dbt.type_string() }}) as variant,
        cast(windowed.is_control as boolean) as is_control,
        cast(windowed.variant_count as integer) as variant_count,
        cast(windowed.first_touch_at as timestamp) as first_touch_at,
        cast(windowed.window_end_at as timestamp) as window_end_at,
        cast(cast(windowed.window_end_at as date) <= {{ marts_as_of() }} as boolean) as is_window_complete,
        cast(windowed.is_sent = 1 as boolean) as is_sent,
        cast(windowed.is_delivered = 1 as boolean) as is_delivered,
        cast(windowed.is_opened = 1 as boolean) as is_opened,
        cast(windowed.is_clicked = 1 as boolean) as is_clicked,
        cast(windowed.is_added_to_cart = 1 as boolean) as is_added_to_cart,
        cast(segments.rfm_as_of_date as date) as rfm_as_of_date,
        cast(segments.rfm_segment as {{ dbt.type_string() }}) as rfm_segment,
        cast(segments.rfm_segment_code as {{ dbt.type_string() }}) as rfm_segment_code,
        cast(conversions.customer_id is not null as boolean) as is_converted,
        cast(conversions.first_conversion_at as timestamp) as first_conversion_at,
        cast(coalesce(conversions.conversion_orders, 0) as integer) as conversion_orders,
        cast(coalesce(conversions.conversion_revenue, 0) as decimal(18, 2)) as conversion_revenue,
        {{ built_at() }} as _built_at,
        cast({{ marts_as_of() }} as date) as _built_as_of,
        cast('{{ settings }}' as {{ dbt.type_string() }}) as _built_settings,
        cast(purchases_fingerprints.purchases_fingerprint as {{ dbt.type_string() }}) as _purchases_fingerprint
    from windowed
    left join segments
        on segments.campaign_id = windowed.campaign_id
        and segments.customer_id = windowed.customer_id
    left join conversions
        on conversions.campaign_id = windowed.campaign_id
        and conversions.customer_id = windowed.customer_id
    left join purchases_fingerprints
        on purchases_fingerprints.campaign_id = windowed.campaign_id

)

select * from final
