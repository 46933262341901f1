{#-
    One row per A/B-tested campaign x variant (campaigns with at least two groups, control included):
    the analysed recipients (resolved customers assigned to exactly one variant), their converters and
    conversion revenue, the intended share of the group (var campaigns_intended_split; a campaign not
    listed: equal shares over the groups seen; a group the split does not list: intended share 0) and the
    reference group uplifts compare with: control when present, else variant A, else the first variant.
-#}
{%- set split = var('campaigns_intended_split', {}) or {} -%}

with

assignments as (

    select * from {{ ref('campaign_assignments') }}
    where variant is not null

),

groups as (

    select
        campaign_id,
        min(campaign_name) as campaign_name,
        min(channel) as channel,
        variant,
        bool_or(is_control) as is_control,
        sum(case when variant_count = 1 then 1 else 0 end) as recipients,
        sum(case when variant_count = 1 and is_converted then 1 else 0 end) as converters,
        sum(case when variant_count = 1 then conversion_revenue else 0 end) as conversion_revenue,
        sum(case when variant_count > 1 then 1 else 0 end) as excluded_multi_variant_customers,
        min(first_touch_at) as first_touch_at,
        min(case when is_window_complete then 1 else 0 end) = 1 as is_window_complete
    from assignments
    group by campaign_id, variant

),

tested as (

    select
        groups.*,
        count(*) over (partition by campaign_id) as group_count,
        max(case when is_control then 1 else 0 end) over (partition by campaign_id) as has_control,
        max(case when variant = 'A' then 1 else 0 end) over (partition by campaign_id) as has_a,
        min(variant) over (partition by campaign_id) as first_variant
    from groups

),

intended as (

    {% if split -%}
    {% for campaign_id, shares in split.items() -%}
    {% for variant, share in shares.items() -%}
    select
        {{ dbt.string_literal(dbt.escape_single_quotes(campaign_id | string)) }} as campaign_id,
        {{ dbt.string_literal(dbt.escape_single_quotes(variant | string)) }} as variant,
        cast({{ share | float }} as double) as share
    {{ 'union all' if not loop.last }}
    {% endfor -%}
    {{ 'union all' if not loop.last }}
    {% endfor -%}
    {%- else -%}
    select cast(null as {{ dbt.type_string() }}) as campaign_id, cast(null as {{ dbt.type_string() }}) as variant, cast(null as double) as share
    where false
    {%- endif %}

),

intended_totals as (

    select campaign_id, sum(share) as total_share
    from intended
    group by campaign_id

),

final as (

    select
        tested.campaign_id,
        tested.campaign_name,
        tested.channel,
        tested.variant,
        tested.is_control,
        case
            when tested.has_control = 1 then tested.is_control
            when tested.has_a = 1 then tested.variant = 'A'
            else tested.variant = tested.first_variant
        end as is_reference,
        tested.recipients,
        tested.converters,
        tested.conversion_revenue,
        tested.excluded_multi_variant_customers,
        case
            when intended_totals.campaign_id is null then 1.0 / tested.group_count
            else coalesce(intended.share, 0) / intended_totals.total_share
        end as intended_share,
        tested.first_touch_at,
        tested.is_window_complete
    from tested
    left join intended_totals
        on intended_totals.campaign_id = tested.campaign_id
    left join intended
        on intended.campaign_id = tested.campaign_id
        and intended.variant = tested.variant
    where tested.group_count >= 2

)

select * from final
