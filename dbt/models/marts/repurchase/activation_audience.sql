{#- Who to contact as of as_of and how: every customer in RFM scope with their segment (the audience:
    audience = segment_code), recommended action, lifecycle stage, member tier and reachability.
    sms_reachable = a known phone (phone_hash) with SMS marketing consent; wecom_reachable = a WeCom friend;
    follows_official_account = subscribed to the official account. preferred_contact_channel picks the
    first of wecom, sms, official_account that reaches the customer (null = unreachable). No raw phone:
    the SMS export joins restricted.customer_pii outside the BI marts. -#}

with

rfm as (

    select * from {{ ref('customer_rfm') }}

),

stages as (

    select * from {{ ref('customer_current_stage') }}

),

tiers as (

    select * from {{ ref('member_tiers') }}

),

customers as (

    select * from {{ ref('dim_customers') }}

),

reach as (

    select
        rfm.customer_id,
        rfm.as_of_date,
        rfm.segment,
        rfm.segment_code,
        rfm.recommended_action,
        stages.stage as lifecycle_stage,
        tiers.tier as member_tier,
        customers.phone_hash,
        {{ touch_reaches_sms('customers') }} as sms_reachable,
        {{ touch_reaches_wecom('customers') }} as wecom_reachable,
        coalesce(customers.wechat_follow_status = 'subscribed', false) as follows_official_account
    from rfm
    left join stages
        on rfm.customer_id = stages.customer_id
    left join tiers
        on rfm.customer_id = tiers.customer_id
    left join customers
        on rfm.customer_id = customers.customer_id

),

final as (

    select
        cast(customer_id as {{ dbt.type_string() }}) as customer_id,
        cast(as_of_date as date) as as_of_date,
        cast(segment_code as {{ dbt.type_string() }}) as audience,
        cast(segment as {{ dbt.type_string() }}) as segment,
        cast(segment_code as {{ dbt.type_string() }}) as segment_code,
        cast(recommended_action as {{ dbt.type_string() }}) as recommended_action,
        cast(lifecycle_stage as {{ dbt.type_string() }}) as lifecycle_stage,
        cast(member_tier as {{ dbt.type_string() }}) as member_tier,
        cast(phone_hash as {{ dbt.type_string() }}) as phone_hash,
        cast(sms_reachable as boolean) as sms_reachable,
        cast(wecom_reachable as boolean) as wecom_reachable,
        cast(follows_official_account as boolean) as follows_official_account,
        cast(sms_reachable or wecom_reachable or follows_official_account as boolean) as is_reachable,
        cast(case
            when wecom_reachable then 'wecom'
            when sms_reachable then 'sms'
            when follows_official_account then 'official_account'
        end as {{ dbt.type_string() }}) as preferred_contact_channel
    from reach

)

select * from final
