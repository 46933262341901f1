{#- The eight RFM segments by (recent, high frequency, high monetary), as customer_rfm labels them.
    campaign_customer_rfm applies them at send time; the test campaigns_segments_match_customer_rfm
    fails when customer_rfm's labels drift from this list. -#}
{% macro campaigns_rfm_segments() -%}
    select true as is_recent, true as is_high_frequency, true as is_high_monetary,
        '重要价值客户' as segment, 'important_value' as segment_code
    union all
    select true, false, true, '重要发展客户', 'important_develop'
    union all
    select false, true, true, '重要保持客户', 'important_retain'
    union all
    select false, false, true, '重要挽留客户', 'important_winback'
    union all
    select true, true, false, '一般价值客户', 'general_value'
    union all
    select true, false, false, '一般发展客户', 'general_develop'
    union all
    select false, true, false, '一般保持客户', 'general_retain'
    union all
    select false, false, false, '一般挽留客户', 'general_winback'
{%- endmacro %}

{#- Fails for every (recent, high F, high M) combination whose segment in customer_rfm differs from
    campaigns_rfm_segments(). -#}
{% test campaigns_segments_match_customer_rfm(model) %}
    with expected as (
        {{ campaigns_rfm_segments() }}
    ),
    actual as (
        select distinct is_recent, is_high_frequency, is_high_monetary, segment, segment_code
        from {{ ref('customer_rfm') }}
    )
    select actual.*
    from actual
    left join expected
        on expected.is_recent = actual.is_recent
        and expected.is_high_frequency = actual.is_high_frequency
        and expected.is_high_monetary = actual.is_high_monetary
        and expected.segment = actual.segment
        and expected.segment_code = actual.segment_code
    where expected.segment is null
{% endtest %}
