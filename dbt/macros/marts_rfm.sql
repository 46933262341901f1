{#- The RFM rules shared by customer_rfm (as of as_of) and campaign_customer_rfm (as of each send). -#}

{#- The eight segments by (recent, high frequency, high monetary), named and actioned as the merchants'
    playbook has them. -#}
{% macro marts_rfm_segments() -%}
    select true as is_recent, true as is_high_frequency, true as is_high_monetary,
        '重要价值客户' as segment, 'important_value' as segment_code,
        '专属会员权益、定制化产品、一对一服务' as recommended_action
    union all
    select true, false, true, '重要发展客户', 'important_develop', '交叉推荐、购买激励、会员等级升级引导'
    union all
    select false, true, true, '重要保持客户', 'important_retain', '主动唤醒活动、专属折扣、新品优先体验'
    union all
    select false, false, true, '重要挽留客户', 'important_winback', '流失原因调研、专属召回礼包、个性化沟通'
    union all
    select true, true, false, '一般价值客户', 'general_value', '满减优惠、拼团活动、客单价提升引导'
    union all
    select true, false, false, '一般发展客户', 'general_develop', '新人复购礼包、内容种草、品牌认知强化'
    union all
    select false, true, false, '一般保持客户', 'general_retain', '沉默客户召回、小额优惠券、场景化推荐'
    union all
    select false, false, false, '一般挽留客户', 'general_winback', '低价值客户，可减少触达或定向清理'
{%- endmacro %}

{#- The recency rule (var rfm_recency_rule): 'lifecycle' (default) = recent means not churned by the
    lifecycle's own thresholds (recency_days <= lifecycle_silent_days, so recency_cut = silent days + 1);
    'quantile' = recency below the rfm_cut_quantile of the customers in scope. -#}
{% macro marts_rfm_recency_rule() -%}
    {%- set rule = var('rfm_recency_rule', 'lifecycle') -%}
    {%- if rule not in ('lifecycle', 'quantile') -%}
        {{ exceptions.raise_compiler_error("var rfm_recency_rule must be 'lifecycle' or 'quantile', got '" ~ rule ~ "'") }}
    {%- endif -%}
    {{ return(rule) }}
{%- endmacro %}

{#- recency_cut, frequency_cut, monetary_cut: the absolute cut var when set, else (recency) the lifecycle's
    churn threshold under rfm_recency_rule 'lifecycle', else the quantile column (<dim>_quantile) of the
    relation being selected from. -#}
{% macro marts_rfm_cut_columns() -%}
    {% for dim, var_name in [('recency', 'rfm_recency_cut_days'), ('frequency', 'rfm_frequency_cut'),
                             ('monetary', 'rfm_monetary_cut')] -%}
    {%- if var(var_name) is none and dim == 'recency' and marts_rfm_recency_rule() == 'lifecycle' -%}
    cast({{ var('lifecycle_silent_days') }} + 1 as double)
    {%- elif var(var_name) is none -%}
    cast({{ dim }}_quantile as double)
    {%- else -%}
    cast({{ var(var_name) }} as double)
    {%- endif %} as {{ dim }}_cut{{ ',' if not loop.last }}
    {% endfor %}
{%- endmacro %}

{#- SQL boolean: high monetary. Window net spend above the cut, or a high-value lapsed customer: no purchase
    in the RFM window (frequency 0) but a lifetime net spend above rfm_winback_min_lifetime_spend. Such a
    customer is never recent (the window is longer than the churn threshold) nor frequent, so lands in
    重要挽留客户 (important_winback: win back) instead of 一般挽留客户 (clean out). -#}
{% macro marts_rfm_high_monetary(monetary, monetary_cut, frequency, lifetime_spend) -%}
    (
        {{ monetary }} > {{ monetary_cut }}
        or ({{ frequency }} = 0 and {{ lifetime_spend }} > {{ var('rfm_winback_min_lifetime_spend') }})
    )
{%- endmacro %}

{#- The Chinese label of a lifecycle stage code (customer_lifecycle.stage). -#}
{% macro marts_lifecycle_stage_label(stage_expr) -%}
    case {{ stage_expr }}
        when 'new' then '新客'
        when 'active' then '活跃'
        when 'loyal' then '忠诚'
        when 'silent' then '沉默'
        when 'churned' then '流失'
    end
{%- endmacro %}

{#- A campaign's RFM aggregates of one customer's orders before the send, grouped by campaign and customer
    (int_campaign_rfm_cuts over every customer, campaign_customer_rfm over the audience): the last purchase
    day, the purchases in the RFM window (after `campaigns`.window_after) and their net spend by the one
    net-spend rule. `purchases` holds the orders that move money (is_purchase, purchase_date, net_amount).
    Use with campaigns_rfm_has_purchase() as the group's having: a customer whose only orders before the
    send are not purchases has no prior purchase. -#}
{% macro campaigns_rfm_history_columns(campaigns, purchases='purchases') -%}
    max(case when {{ purchases }}.is_purchase then {{ purchases }}.purchase_date end) as last_purchase_date,
        sum(case
            when {{ purchases }}.is_purchase
                and {{ purchases }}.purchase_date > {{ campaigns }}.window_after
                then 1 else 0
        end) as frequency,
        {{ marts_net_spend('case when ' ~ purchases ~ '.purchase_date > ' ~ campaigns ~ '.window_after then ' ~ purchases ~ '.net_amount end') }}
            as monetary
{%- endmacro %}

{% macro campaigns_rfm_has_purchase(purchases='purchases') -%}
    sum(case when {{ purchases }}.is_purchase then 1 else 0 end) > 0
{%- endmacro %}
