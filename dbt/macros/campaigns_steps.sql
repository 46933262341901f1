{#- Campaign funnel helpers. The steps of a touch funnel, in order, and which of them a channel can
    observe (var campaigns_observable_steps: channel -> list of steps; `default` for unlisted channels).
    SMS, for instance, reports no `opened`: its opened count is null (not applicable), never 0. -#}

{% macro campaigns_funnel_steps() -%}
    {{ return(['sent', 'delivered', 'opened', 'clicked', 'add_to_cart']) }}
{%- endmacro %}

{#- The observable-steps mapping, validated: every listed step must be a funnel step. -#}
{% macro campaigns_observable_steps() -%}
    {%- set mapping = var('campaigns_observable_steps') -%}
    {%- if mapping is not mapping -%}
        {{ exceptions.raise_compiler_error("var campaigns_observable_steps must map channel -> list of steps, got " ~ mapping) }}
    {%- endif -%}
    {%- for channel, steps in mapping.items() -%}
        {%- for step in steps -%}
            {%- if step not in campaigns_funnel_steps() -%}
                {{ exceptions.raise_compiler_error("var campaigns_observable_steps: channel '" ~ channel ~ "' lists unknown step '" ~ step ~ "'; known: " ~ campaigns_funnel_steps() | join(', ')) }}
            {%- endif -%}
        {%- endfor -%}
    {%- endfor -%}
    {{ return(mapping) }}
{%- endmacro %}

{#- SQL boolean: whether the channel in channel_expr observes `step`. -#}
{% macro campaigns_step_observable(channel_expr, step) -%}
    {%- set mapping = campaigns_observable_steps() -%}
    {%- set listed = [] -%}
    {%- set observing = [] -%}
    {%- for channel, steps in mapping.items() if channel != 'default' -%}
        {%- do listed.append(channel) -%}
        {%- if step in steps -%}{%- do observing.append(channel) -%}{%- endif -%}
    {%- endfor -%}
    {%- set default_observes = step in mapping.get('default', campaigns_funnel_steps()) -%}
    (
        {%- if observing %}{{ channel_expr }} in ({% for c in observing %}'{{ c }}'{{ ', ' if not loop.last }}{% endfor %}){% else %}false{% endif %}
        {%- if default_observes %} or {% if listed %}{{ channel_expr }} not in ({% for c in listed %}'{{ c }}'{{ ', ' if not loop.last }}{% endfor %}){% else %}true{% endif %}{% endif -%}
    )
{%- endmacro %}

{#- numerator / denominator as a double; null when the denominator is 0 or null. -#}
{% macro campaigns_ratio(numerator, denominator) -%}
    case when {{ denominator }} > 0 then cast({{ numerator }} as double) / {{ denominator }} end
{%- endmacro %}

{#- SQL boolean: the event at time_expr happened on or before as_of (its Beijing date <= as_of_date). Every
    campaign mart reads touches and orders through this, so a snapshot for a past as_of never sees a
    later send, conversion or p-value. -#}
{% macro campaigns_on_or_before_as_of(time_expr) -%}
    cast({{ time_expr }} as date) <= {{ marts_as_of() }}
{%- endmacro %}

{#- Touch reachability, written once (int_touch_eligibility's channel choice and activation_audience's
    columns): a dim_customers row (alias) reaches SMS with a phone and SMS consent, WeCom as a WeCom
    friend; false when unknown. -#}
{% macro touch_reaches_sms(customers) -%}
    coalesce({{ customers }}.phone_hash is not null and {{ customers }}.sms_consent, false)
{%- endmacro %}

{% macro touch_reaches_wecom(customers) -%}
    coalesce({{ customers }}.wecom_friend, false)
{%- endmacro %}

{#- Per row of `assignments` (campaign_id, customer_id, first_touch_at, window_end_at), the customer's
    purchases in her attribution window (first_touch_at, window_end_at]: her conversions (first time,
    orders, revenue) and their order-free fingerprint (order, time, amount). campaign_assignments stores
    the fingerprint with each row and recomputes a row whose purchases no longer match. Rows without a
    purchase in the window are absent. by_campaign: the purchases carry the campaign_id whose span holds
    them (a purchase may be listed once per campaign), and meet that campaign's rows only. -#}
{% macro campaigns_window_purchases(assignments, purchases, by_campaign=false) -%}
    select
        {{ assignments }}.campaign_id,
        {{ assignments }}.customer_id,
        min(purchases.ordered_at) as first_conversion_at,
        count(*) as conversion_orders,
        sum(purchases.net_amount) as conversion_revenue,
        {{ rows_fingerprint(['purchases.order_key', 'purchases.ordered_at', 'purchases.net_amount']) }}
            as purchases_fingerprint
    from {{ assignments }}
    inner join {{ purchases }} as purchases
        on purchases.customer_id = {{ assignments }}.customer_id
        {%- if by_campaign %}
        and purchases.campaign_id = {{ assignments }}.campaign_id
        {%- endif %}
        and purchases.ordered_at > {{ assignments }}.first_touch_at
        and purchases.ordered_at <= {{ assignments }}.window_end_at
    group by {{ assignments }}.campaign_id, {{ assignments }}.customer_id
{%- endmacro %}

{#- The campaigns with touch events dated between the last build's as_of (previous_build.as_of_date) and
    this one's, either way: the events as_of admits or drops since that build. -#}
{% macro campaigns_with_events_between_as_of(previous_build) -%}
    select touches.campaign_id
    from {{ ref('fct_touch_events') }} as touches
    cross join {{ previous_build }}
    where cast(touches.event_time as date) > least({{ previous_build }}.as_of_date, {{ marts_as_of() }})
        and cast(touches.event_time as date) <= greatest({{ previous_build }}.as_of_date, {{ marts_as_of() }})
{%- endmacro %}

{#- campaign_assignments' conversion and bookkeeping columns, from a row of campaigns_window_purchases
    (relation, its columns named with prefix; null when the window holds no purchase). -#}
{% macro campaigns_conversion_columns(relation, prefix, settings) -%}
        cast({{ relation }}.{{ prefix }}conversion_orders is not null as boolean) as is_converted,
        cast({{ relation }}.{{ prefix }}first_conversion_at as timestamp) as first_conversion_at,
        cast(coalesce({{ relation }}.{{ prefix }}conversion_orders, 0) as integer) as conversion_orders,
        cast(coalesce({{ relation }}.{{ prefix }}conversion_revenue, 0) as decimal(18, 2)) as conversion_revenue,
        {{ built_at() }} as _built_at,
        cast({{ marts_as_of() }} as date) as _built_as_of,
        cast('{{ settings }}' as {{ dbt.type_string() }}) as _built_settings,
        cast({{ relation }}.{{ prefix }}purchases_fingerprint as {{ dbt.type_string() }}) as _purchases_fingerprint
{%- endmacro %}
