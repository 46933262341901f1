{#-
    One net-spend rule for every mart that values a customer (dim_customers, customer_rfm, member_tiers)
    or a period (the KPI marts' revenue):

    - the orders that move money are every order of fct_orders dated on or before as_of, purchases and
      non-purchases alike (marts_spend_orders): net_amount = gross_amount - refund_amount, so a return
      larger than its sale and a return or refund whose sale is not in the data lower the spend by the
      money given back, and a fully refunded order adds 0;
    - a customer's net spend over a period is the sum of those net_amounts, floored at 0 (marts_net_spend:
      a customer is never worth less than nothing; the money given back beyond their purchases still
      lowers a period's revenue, which is summed without a floor);
    - purchases (fct_orders.is_purchase) are what counts as an order for frequency and tier minimums; a
      tier also needs a net spend above 0 (marts_member_tier), so a zero-value purchase earns none;
    - a customer with only refunded orders keeps their row where the mart lists customers
      (dim_customers: net spend 0, purchase count 0).
-#}

{#- Every order (resolved or not) dated on or before as_of, with the columns the spend rule needs. -#}
{% macro marts_spend_orders() -%}
    select
        orders.order_key,
        orders.customer_id,
        orders.channel,
        orders.shop_id,
        orders.shop_name,
        orders.ordered_at,
        cast(orders.ordered_at as date) as order_date,
        orders.is_purchase,
        orders.net_amount
    from {{ ref('fct_orders') }} as orders
    where cast(orders.ordered_at as date) <= {{ marts_as_of() }}
{%- endmacro %}

{#- A customer's net spend: the aggregate of amount_expr (net_amount, or a case picking a window of it)
    over their rows of marts_spend_orders, floored at 0. -#}
{% macro marts_net_spend(amount_expr='net_amount') -%}
    {{ marts_net_spend_floor('sum(' ~ amount_expr ~ ')') }}
{%- endmacro %}

{#- The floor of the rule on an already summed spend (null counts as 0). -#}
{% macro marts_net_spend_floor(spend_expr) -%}
    greatest(coalesce({{ spend_expr }}, 0), 0)
{%- endmacro %}
