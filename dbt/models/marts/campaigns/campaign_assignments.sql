{{
    config(
        materialized=incremental_materialization(),
        unique_key=['campaign_id', 'customer_id'],
        incremental_strategy='delete+insert',
        on_schema_change='append_new_columns',
        post_hook="{{ delete_vanished_keys(['campaign_id', 'customer_id'], ref('fct_touch_events'),
                                           campaigns_on_or_before_as_of('event_time'), counted=true) }}",
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

    Incremental (delete+insert on campaign_id, customer_id). A row depends on the customer's touch events
    in the campaign, her segment (campaign_customer_rfm), her purchases inside her window, as_of and
    attribution_window_days. A build recomputes
      - every row of the campaigns with touch events or segment rows written since its last build
        (`_built_at`), or events dated between the last build's as_of and this one's (either way), or
        windows that reach past the earlier of the two as_of (a window that was open, or that a backfill
        opens again: is_window_complete and the conversions in scope change);
      - the rows whose `_purchases_fingerprint` differs: it covers the customer's purchases (order, time,
        amount) inside her window, so an order added, changed, moved to or from her by an identity merge,
        or deleted, recomputes her row (a return booked against an order in a window: a day's delivery at
        1M people rewrote 16 rows, where recomputing their campaign rewrote 330K);
    and everything when no row is stamped yet or the attribution window changed. A campaign x customer
    without a resolved event on or before as_of any more is deleted (post-hook). Equals a full rebuild,
    bookkeeping aside (tests/dbt/campaigns/test_campaign_rfm_cuts_incremental.py).
-#}
{%- set window_days = var('attribution_window_days') -%}
{%- set settings = window_days | string -%}
{%- set scoped = is_incremental() and stored_rows_are_stamped() %}

with

-- this and `stored` are read again by each use (cte_not_materialized): materialized, each was copied
-- whole with every column (1M people, a day's query CPU 1.35-1.55 -> 1.06-1.14 s)
purchases as {{ cte_not_materialized() }} (

    select order_key, customer_id, ordered_at, net_amount
    from {{ ref('fct_orders') }}
    where is_purchase
        and customer_id is not null
        and {{ campaigns_on_or_before_as_of('ordered_at') }}

),

{% if scoped %}
{%- set since = last_build_stamp() %}
stored as {{ cte_not_materialized() }} (

    select * from {{ this }}

),

previous_build as (

    select
        max(_built_as_of) as as_of_date,
        max(_built_at) is null or bool_or(_built_settings <> '{{ settings }}') as recompute_all
    from stored

),

-- the purchases inside each stored campaign's span (its first touch to its last window end), tagged with
-- the campaign: the rows' windows are checked against these only, not against every purchase
span_purchases as (

    select spans.campaign_id, purchases.*
    from (
        select campaign_id, min(first_touch_at) as span_after, max(window_end_at) as span_end
        from stored
        group by campaign_id
    ) as spans
    inner join purchases
        on purchases.ordered_at > spans.span_after
        and purchases.ordered_at <= spans.span_end

),

-- the stored rows whose purchases inside the window differ from the ones they were built with
build_pairs as (

    select
        stored.*,
        current_purchases.first_conversion_at as current_first_conversion_at,
        current_purchases.conversion_orders as current_conversion_orders,
        current_purchases.conversion_revenue as current_conversion_revenue,
        current_purchases.purchases_fingerprint as current_purchases_fingerprint
    from stored
    left join (
        {{ campaigns_window_purchases('stored', 'span_purchases', by_campaign=true) }}
    ) as current_purchases
        on current_purchases.campaign_id = stored.campaign_id
        and current_purchases.customer_id = stored.customer_id
    where current_purchases.purchases_fingerprint is distinct from stored._purchases_fingerprint

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
    select stored.campaign_id
    from stored
    cross join previous_build
    where previous_build.as_of_date <> {{ marts_as_of() }}
        and cast(stored.window_end_at as date) > least(previous_build.as_of_date, {{ marts_as_of() }})

),

{% endif %}
events as (

    select * from {{ ref('fct_touch_events') }}
    where customer_id is not null
        and {{ campaigns_on_or_before_as_of('event_time') }}
    {%- if scoped %}
        -- every campaign, or the campaigns to recompute (the other rows to recompute: build_pairs, below)
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

-- the purchases inside each customer's window: her conversions, and their fingerprint
conversions as (

    {{ campaigns_window_purchases('windowed', 'purchases') }}

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
        {{ campaigns_conversion_columns('conversions', '', settings) }}
    from windowed
    left join segments
        on segments.campaign_id = windowed.campaign_id
        and segments.customer_id = windowed.customer_id
    left join conversions
        on conversions.campaign_id = windowed.campaign_id
        and conversions.customer_id = windowed.customer_id
    {%- if scoped %}

    union all

    -- the rows whose window purchases changed, in the campaigns not recomputed: their events and segment
    -- are as stored (else their campaign is recomputed), their conversions new
    select
        {%- for column in ['campaign_id', 'customer_id', 'campaign_name', 'channel', 'variant', 'is_control',
                           'variant_count', 'first_touch_at', 'window_end_at', 'is_window_complete', 'is_sent',
                           'is_delivered', 'is_opened', 'is_clicked', 'is_added_to_cart', 'rfm_as_of_date',
                           'rfm_segment', 'rfm_segment_code'] %}
        build_pairs.{{ column }},
        {%- endfor %}
        {{ campaigns_conversion_columns('build_pairs', 'current_', settings) }}
    from build_pairs
    where not (select recompute_all from previous_build)
        and build_pairs.campaign_id not in (
            select campaign_id from build_campaigns where campaign_id is not null
        )
    {%- endif %}

)

select * from final
