{#- Member tier from rolling spend and purchase count: the highest tier whose minimum spend AND minimum
    purchases both hold (vars tier_<tier>_min_spend / _min_orders); 'none' below silver, and 'none' for a
    net spend of 0 or less whatever the minimums (a zero-value purchase earns no tier; see
    macros/marts_net_spend.sql). -#}
{% macro marts_member_tier(spend_expr, orders_expr) -%}
    case
        when coalesce({{ spend_expr }}, 0) <= 0 then 'none'
        when {{ spend_expr }} >= {{ var('tier_diamond_min_spend') }}
            and {{ orders_expr }} >= {{ var('tier_diamond_min_orders') }} then 'diamond'
        when {{ spend_expr }} >= {{ var('tier_gold_min_spend') }}
            and {{ orders_expr }} >= {{ var('tier_gold_min_orders') }} then 'gold'
        when {{ spend_expr }} >= {{ var('tier_silver_min_spend') }}
            and {{ orders_expr }} >= {{ var('tier_silver_min_orders') }} then 'silver'
        else 'none'
    end
{%- endmacro %}

{#- The tier window ending on `day_expr`: an order day after day minus tier_window_months, up to and
    including the day. One rule for member_tiers (as_of), member_tier_history (month ends) and the
    tier-upgrade trigger (as_of and the day before). -#}
{% macro marts_tier_window(order_date_expr, day_expr) -%}
    {{ order_date_expr }} <= {{ day_expr }}
        and {{ order_date_expr }} > {{ marts_add_months(-var('tier_window_months'), day_expr) }}
{%- endmacro %}

{#- A customer's totals over their orders in a tier window (rows of marts_spend_orders; `prefix` qualifies
    the columns): rolling_spend by the one net-spend rule, rolling_orders the purchases. -#}
{% macro marts_tier_window_totals(prefix='') -%}
        {{ marts_net_spend(prefix ~ 'net_amount') }} as rolling_spend,
        sum(case when {{ prefix }}is_purchase then 1 else 0 end) as rolling_orders
{%- endmacro %}

{#- The having of those totals: a customer has a window's row only with a purchase in it. -#}
{% macro marts_tier_window_has_purchase(prefix='') -%}
    sum(case when {{ prefix }}is_purchase then 1 else 0 end) > 0
{%- endmacro %}

{#- The Chinese label of a tier code (the playbook's names). -#}
{% macro marts_tier_label(tier_expr) -%}
    case {{ tier_expr }}
        when 'diamond' then '钻石会员'
        when 'gold' then '金卡会员'
        when 'silver' then '银卡会员'
        when 'none' then '非会员等级'
    end
{%- endmacro %}

{#- The merchant's own member level (会员等级 of the member export, as written) as a tier code, by var
    member_level_tiers ({level as exported: tier code}); null for a level the var does not list (add it
    there: it is the merchant's naming, not ours). -#}
{% macro marts_member_level_tier(level_expr) -%}
    {%- set mapping = var('member_level_tiers') -%}
    case trim({{ level_expr }})
        {%- for level, tier in mapping.items() %}
        when '{{ level | replace("'", "''") }}' then '{{ tier }}'
        {%- endfor %}
    end
{%- endmacro %}
