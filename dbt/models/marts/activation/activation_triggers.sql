{#- The automated touch's daily list (自动化触达): one row per customer x trigger fired on as_of
    (int_activation_triggers_fired), with the playbook's recommended action for the customer's segment,
    personalisation fields (no name or phone: those are joined only by the restricted exports), the one
    channel it goes to, or why it is not sent (suppressed_reason, in this precedence):

    1.-3. control_group, unreachable, unsubscribed / complained / bounced / failed: the customer's
       pre_cap_suppressed_reason of int_touch_eligibility, where these rules are written (and read by
       churn_risk too);
    4. frequency_cap: the trigger's rank among the customer's sendable triggers of today (by
       trigger_priority) is above the customer's cap_touches_left (int_touch_eligibility: touch_cap_touches
       less earlier days' exported trigger touches and campaign sends in the touch_cap_days window), i.e.
       the cap is used up by those or by this day's higher-priority triggers;
    5. daily_limit: the customer already gets touch_max_per_day higher-priority triggers today.
    A sent row has channel set (int_touch_eligibility's channel) and suppressed_reason null; a suppressed
    row has channel null. -#}

{%- set priority = var('trigger_priority') -%}

with

as_of as (

    select as_of_date from {{ ref('repurchase_as_of') }}

),

fired as (

    select * from {{ ref('int_activation_triggers_fired') }}

),

-- the customers with a trigger today (a day's few thousand at 1M people): their rows of the customer
-- tables are picked by a join first. Joined in the final select alone, DuckDB hashed every customer of
-- each table (830-878k) for them: in process 0.39 -> 0.25 s, the same rows.
fired_customers as (

    select distinct customer_id from fired

),

{%- for name, relation in [('rfm', 'customer_rfm'), ('customers', 'dim_customers'), ('tiers', 'member_tiers')] %}

{{ name }} as (

    select customer_rows.*
    from fired_customers
    inner join {{ ref(relation) }} as customer_rows
        on customer_rows.customer_id = fired_customers.customer_id

),
{%- endfor %}

purchases as (

    select * from {{ ref('repurchase_purchases') }}

),

order_lines as (

    select * from {{ ref('fct_order_lines') }}

),

eligibility as (

    select * from {{ ref('int_touch_eligibility') }}

),

chosen as (

    select
        fired.customer_id,
        fired.trigger_code,
        eligibility.channel,
        eligibility.pre_cap_suppressed_reason as pre_cap_reason,
        eligibility.prior_touches_in_cap_window as prior_touches,
        eligibility.cap_touches_left,
        case fired.trigger_code
            {% for code in priority %}when '{{ code }}' then {{ loop.index }} {% endfor %}
            else {{ priority | length + 1 }}
        end as trigger_priority
    from fired
    -- every fired customer has a row (int_touch_eligibility's population includes them)
    inner join eligibility
        on eligibility.customer_id = fired.customer_id

),

ranked as (

    select
        chosen.*,
        case when chosen.pre_cap_reason is null then
            row_number() over (
                partition by chosen.customer_id, chosen.pre_cap_reason is null
                order by chosen.trigger_priority, chosen.trigger_code
            )
        end as send_rank
    from chosen

),

decided as (

    select
        *,
        case
            when pre_cap_reason is not null then pre_cap_reason
            when send_rank > cap_touches_left then 'frequency_cap'
            when send_rank > {{ var('touch_max_per_day') }} then 'daily_limit'
        end as suppressed_reason
    from ranked

),

-- the last purchase of each customer with a trigger today (the day's few thousand, not every buyer)
last_purchase as (

    select
        purchases.customer_id,
        max_by(purchases.order_key, purchases.ordered_at) as order_key,
        max_by(purchases.channel, purchases.ordered_at) as last_channel,
        max_by(purchases.channel || ':' || purchases.shop_id, purchases.ordered_at) as last_store
    from purchases
    cross join as_of
    inner join fired_customers
        on fired_customers.customer_id = purchases.customer_id
    where purchases.purchase_date <= as_of.as_of_date
    group by purchases.customer_id

),

last_product as (

    select
        order_lines.order_key,
        max_by(order_lines.sku_name, order_lines.line_amount) as last_product
    from order_lines
    inner join last_purchase
        on last_purchase.order_key = order_lines.order_key
    where not order_lines.is_return
    group by order_lines.order_key

),

final as (

    select
        cast(decided.customer_id as {{ dbt.type_string() }}) as customer_id,
        cast(as_of.as_of_date as date) as as_of_date,
        cast(decided.trigger_code as {{ dbt.type_string() }}) as trigger_code,
        cast(decided.trigger_priority as integer) as trigger_priority,
        cast(fired.fired_reason as {{ dbt.type_string() }}) as fired_reason,
        cast(rfm.segment as {{ dbt.type_string() }}) as segment,
        cast(rfm.segment_code as {{ dbt.type_string() }}) as segment_code,
        cast(rfm.lifecycle_stage as {{ dbt.type_string() }}) as lifecycle_stage,
        cast(rfm.recommended_action as {{ dbt.type_string() }}) as recommended_action,
        cast(tiers.tier as {{ dbt.type_string() }}) as member_tier,
        cast(customers.points as integer) as points,
        cast(last_purchase.last_channel as {{ dbt.type_string() }}) as last_channel,
        cast(last_purchase.last_store as {{ dbt.type_string() }}) as last_store,
        cast(last_product.last_product as {{ dbt.type_string() }}) as last_product,
        cast(customers.phone_hash as {{ dbt.type_string() }}) as phone_hash,
        cast(decided.prior_touches as integer) as prior_touches_in_cap_window,
        cast(case when decided.suppressed_reason is null then decided.channel end as {{ dbt.type_string() }}) as channel,
        cast(decided.suppressed_reason is null as boolean) as is_sent,
        cast(decided.suppressed_reason as {{ dbt.type_string() }}) as suppressed_reason
    from decided
    cross join as_of
    inner join fired
        on fired.customer_id = decided.customer_id
        and fired.trigger_code = decided.trigger_code
    left join rfm
        on rfm.customer_id = decided.customer_id
    left join tiers
        on tiers.customer_id = decided.customer_id
    left join customers
        on customers.customer_id = decided.customer_id
    left join last_purchase
        on last_purchase.customer_id = decided.customer_id
    left join last_product
        on last_product.order_key = last_purchase.order_key

)

select * from final
