{#-
    A/B test results per campaign x variant, against the campaign's reference group (control, else
    variant A): recipients (resolved customers assigned to exactly one group, control included),
    converters within the attribution window after the first touch (for control: after assignment),
    conversion rate, revenue per recipient, absolute and relative uplift, 95% interval of the absolute
    uplift (unpooled normal approximation), two-sided p-value (pooled two-proportion z-test, or Fisher's
    exact test when an expected cell is below 5; p_value_test names which), the
    sample-ratio-mismatch check against the intended split and the underpowered flag. Statistics come
    from int_ab_test_statistics (scipy); this model fixes the published types.
-#}

with

statistics as (

    select * from {{ ref(engine_model('int_ab_test_statistics')) }}

),

final as (

    select
        cast(campaign_id as {{ dbt.type_string() }}) as campaign_id,
        cast(campaign_name as {{ dbt.type_string() }}) as campaign_name,
        cast(channel as {{ dbt.type_string() }}) as channel,
        cast(variant as {{ dbt.type_string() }}) as variant,
        cast(is_control as boolean) as is_control,
        cast(is_reference as boolean) as is_reference,
        cast(reference_variant as {{ dbt.type_string() }}) as reference_variant,
        cast(recipients as integer) as recipients,
        cast(converters as integer) as converters,
        cast(conversion_rate as double) as conversion_rate,
        cast(conversion_revenue as decimal(18, 2)) as conversion_revenue,
        {{ decimal_from_double('revenue_per_recipient', 18, 2) }} as revenue_per_recipient,
        cast(reference_conversion_rate as double) as reference_conversion_rate,
        cast(uplift_abs as double) as uplift_abs,
        cast(uplift_rel as double) as uplift_rel,
        cast(uplift_ci_low as double) as uplift_ci_low,
        cast(uplift_ci_high as double) as uplift_ci_high,
        {{ decimal_from_double('revenue_per_recipient_uplift', 18, 2) }} as revenue_per_recipient_uplift,
        cast(z_score as double) as z_score,
        cast(p_value as double) as p_value,
        cast(p_value_test as {{ dbt.type_string() }}) as p_value_test,
        cast(is_significant as boolean) as is_significant,
        cast(intended_share as double) as intended_share,
        cast(observed_share as double) as observed_share,
        cast(srm_chi_square as double) as srm_chi_square,
        cast(srm_degrees_of_freedom as integer) as srm_degrees_of_freedom,
        cast(srm_p_value as double) as srm_p_value,
        cast(is_srm as boolean) as is_srm,
        cast(required_recipients_per_group as bigint) as required_recipients_per_group,
        cast(effective_recipients_per_group as double) as effective_recipients_per_group,
        cast(is_underpowered as boolean) as is_underpowered,
        cast(excluded_multi_variant_customers as integer) as excluded_multi_variant_customers,
        cast(is_window_complete as boolean) as is_window_complete,
        cast(alpha as double) as alpha,
        cast(power as double) as power
    from statistics

)

select * from final
