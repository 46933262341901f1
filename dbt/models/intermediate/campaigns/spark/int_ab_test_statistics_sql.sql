{{ config(materialized='table') }}
{#-
    A/B test statistics per campaign x variant in SQL, for engines without the scipy Python model (Spark;
    on DuckDB int_ab_test_statistics.py builds the same table, and its docstring defines every column:
    dbt_project.yml enables one or the other by target type, ab_test_results reads ref(engine_model(...))). The same rules, restated:
    - uplift and its unpooled normal interval, the pooled two-proportion z statistic;
    - p_value: 2 * (1 - Phi(|z|)) when every expected cell of the 2x2 table is at least 5, else Fisher's
      exact test, two-sided as scipy computes it (the sum of the probabilities of every table with the
      same margins that is at most as likely as the observed one, within a relative 1e-14), from
      hypergeometric probabilities in logs (macros/portable_stats.sql log_factorial);
    - the normal tail by Numerical Recipes' erfc (fractional error < 1.2e-7), the normal quantiles of
      alpha and power by Acklam's approximation (< 1.15e-9), the SRM chi-square tail in closed form for
      integer degrees of freedom (macros/portable_stats.sql). Equal to the scipy model to 6 significant
      digits (tests/dbt/test_spark_equals_duckdb.py).
-#}
{%- set alpha = var('campaigns_ab_alpha') | float -%}
{%- set power = var('campaigns_ab_power') | float -%}
{%- set srm_alpha = var('campaigns_srm_alpha') | float -%}

with

groups as (

    select * from {{ ref('int_ab_test_groups') }}

),

with_reference as (

    select
        groups.*,
        cast(groups.recipients as double) as n,
        cast(groups.converters as double) as x,
        cast(reference.recipients as double) as n0,
        cast(reference.converters as double) as x0,
        reference.variant as reference_variant,
        case when groups.recipients > 0 then cast(groups.conversion_revenue as double) / groups.recipients end
            as revenue_per_recipient,
        case when reference.recipients > 0 then cast(reference.conversion_revenue as double) / reference.recipients end
            as reference_revenue_per_recipient,
        sum(groups.recipients) over (partition by groups.campaign_id) as campaign_recipients,
        count(*) over (partition by groups.campaign_id) as campaign_groups
    from groups
    left join groups as reference
        on reference.campaign_id = groups.campaign_id
        and reference.is_reference

),

rates as (

    select
        *,
        x / n as p1,
        x0 / n0 as p0,
        (x + x0) / (n + n0) as pooled,
        least(n, n0) * least(x + x0, n + n0 - (x + x0)) / (n + n0) as min_expected_cell
    from with_reference

),

moments as (

    select
        *,
        p1 - p0 as d,
        sqrt(p1 * (1 - p1) / n + p0 * (1 - p0) / n0) as se_unpooled,
        sqrt(pooled * (1 - pooled) * (1 / n + 1 / n0)) as se_pooled
    from rates

),

tested as (

    select
        *,
        case when se_pooled > 0 then d / se_pooled end as z,
        se_pooled > 0 and min_expected_cell < 5 as uses_fisher
    from moments

),

-- Fisher's exact test: every table with the observed margins (k converters among the n variant
-- recipients, k from max(0, converted - n0) to min(n, converted)) and its hypergeometric log-probability
integers as (

    {{ marts_integers(5) }}

),

fisher_tables as (

    select
        tested.campaign_id,
        tested.variant,
        integers.n = cast(tested.x as bigint) as is_observed,
        {{ log_factorial('tested.n') }} + {{ log_factorial('tested.n0') }}
            + {{ log_factorial('tested.x + tested.x0') }} + {{ log_factorial('tested.n + tested.n0 - tested.x - tested.x0') }}
            - {{ log_factorial('tested.n + tested.n0') }}
            - {{ log_factorial('integers.n') }} - {{ log_factorial('tested.n - integers.n') }}
            - {{ log_factorial('tested.x + tested.x0 - integers.n') }}
            - {{ log_factorial('tested.n0 - tested.x - tested.x0 + integers.n') }} as log_probability
    from tested
    inner join integers
        on integers.n >= greatest(0, tested.x + tested.x0 - tested.n0)
        and integers.n <= least(tested.n, tested.x + tested.x0)
    where tested.uses_fisher and not tested.is_reference

),

fisher as (

    select
        fisher_tables.campaign_id,
        fisher_tables.variant,
        least(1.0, sum(
            case when fisher_tables.log_probability <= observed.log_probability + ln(1 + 1e-14)
                then exp(fisher_tables.log_probability) else 0 end
        )) as p_value
    from fisher_tables
    inner join fisher_tables as observed
        on observed.campaign_id = fisher_tables.campaign_id
        and observed.variant = fisher_tables.variant
        and observed.is_observed
    group by fisher_tables.campaign_id, fisher_tables.variant

),

srm as (

    select
        campaign_id,
        sum(
            case
                when intended_share * campaign_recipients > 0
                    then power(recipients - intended_share * campaign_recipients, 2) / (intended_share * campaign_recipients)
                when recipients > 0 then cast('Infinity' as double)
                else 0.0
            end
        ) as srm_chi_square,
        count(*) - 1 as srm_degrees_of_freedom
    from with_reference
    group by campaign_id

),

power_check as (

    select
        tested.*,
        case
            when d <> 0 then ceil(power(
                {{ normal_quantile(1 - alpha / 2) }} * sqrt(2 * ((p1 + p0) / 2) * (1 - (p1 + p0) / 2))
                + {{ normal_quantile(power) }} * sqrt(p1 * (1 - p1) + p0 * (1 - p0)),
                2
            ) / (d * d))
        end as required_n,
        2 * n * n0 / (n + n0) as effective_n
    from tested

),

final as (

    select
        power_check.campaign_id,
        power_check.campaign_name,
        power_check.channel,
        power_check.variant,
        power_check.is_control,
        power_check.is_reference,
        power_check.reference_variant,
        power_check.recipients,
        power_check.converters,
        case when power_check.n > 0 then power_check.x / power_check.n end as conversion_rate,
        power_check.conversion_revenue,
        power_check.revenue_per_recipient,
        power_check.p0 as reference_conversion_rate,
        case when not power_check.is_reference then power_check.d end as uplift_abs,
        case when not power_check.is_reference and power_check.p0 > 0 then power_check.d / power_check.p0 end
            as uplift_rel,
        case when not power_check.is_reference
            then power_check.d - {{ normal_quantile(1 - alpha / 2) }} * power_check.se_unpooled end as uplift_ci_low,
        case when not power_check.is_reference
            then power_check.d + {{ normal_quantile(1 - alpha / 2) }} * power_check.se_unpooled end as uplift_ci_high,
        case when not power_check.is_reference
            then power_check.revenue_per_recipient - power_check.reference_revenue_per_recipient end
            as revenue_per_recipient_uplift,
        case when not power_check.is_reference then power_check.z end as z_score,
        case
            when power_check.is_reference or power_check.z is null then null
            when power_check.uses_fisher then fisher.p_value
            else {{ normal_two_sided_p('power_check.z') }}
        end as p_value,
        case
            when power_check.is_reference or power_check.z is null then null
            when power_check.uses_fisher then 'fisher_exact'
            else 'two_proportion_z'
        end as p_value_test,
        power_check.intended_share,
        case when power_check.campaign_recipients > 0
            then cast(power_check.recipients as double) / power_check.campaign_recipients end as observed_share,
        srm.srm_chi_square,
        srm.srm_degrees_of_freedom,
        {{ chi_square_sf('srm.srm_chi_square', 'srm.srm_degrees_of_freedom') }} as srm_p_value,
        case when not power_check.is_reference then power_check.required_n end as required_recipients_per_group,
        case when not power_check.is_reference then power_check.effective_n end as effective_recipients_per_group,
        case
            when power_check.is_reference or power_check.d is null then null
            when power_check.d = 0 then true
            else power_check.required_n > power_check.effective_n
        end as is_underpowered,
        power_check.excluded_multi_variant_customers,
        power_check.is_window_complete
    from power_check
    inner join srm
        on srm.campaign_id = power_check.campaign_id
    left join fisher
        on fisher.campaign_id = power_check.campaign_id
        and fisher.variant = power_check.variant

)

select
    campaign_id, campaign_name, channel, variant, is_control, is_reference, reference_variant,
    recipients, converters, conversion_rate, conversion_revenue, revenue_per_recipient,
    reference_conversion_rate, uplift_abs, uplift_rel, uplift_ci_low, uplift_ci_high,
    revenue_per_recipient_uplift, z_score, p_value, p_value_test,
    case when p_value is not null then p_value < {{ alpha }} end as is_significant,
    intended_share, observed_share, srm_chi_square, srm_degrees_of_freedom, srm_p_value,
    coalesce(srm_p_value < {{ srm_alpha }}, false) as is_srm,
    required_recipients_per_group, effective_recipients_per_group, is_underpowered,
    excluded_multi_variant_customers, is_window_complete,
    {{ alpha }} as alpha,
    {{ power }} as power
from final
order by campaign_id, variant
