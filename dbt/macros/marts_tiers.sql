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
