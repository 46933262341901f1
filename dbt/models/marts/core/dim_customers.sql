{#-
    Customer 360: one row per resolved customer. The phone appears only as a salted hash and a masked
    display form; the member export gives card, tier, points, tags, follow status and consents.
    Orders, purchases and spend count orders dated on or before as_of; net_spend follows the one net-spend
    rule (macros/marts_net_spend.sql: every order's net_amount, returns included, floored at 0). A
    customer whose orders were all refunded keeps their row (net_spend 0, purchase_count 0).
-#}

with

customer_identifiers as (

    select * from {{ ref('int_customer_identifiers') }}

),

{#- The customer's order totals (net spend, channels, purchases, preferred channel and store) are kept
    per customer by int_customer_order_state, which recomputes only the customers whose orders changed; it
    must have been built for this as_of (customer_state_as_of_check: a selection that left it out stops the
    build instead of showing another day's totals). -#}
order_state as (

    select state.*
    from {{ ref('int_customer_order_state') }} as state
    cross join ({{ customer_state_as_of_check() }}) as state_check
    where state_check.state_as_of is not null

),

members as (

    select * from {{ ref('stg_wechat_members__members') }}

),

record_customers as (

    select * from {{ ref('int_record_customers') }}

),

customers as (

    select
        customer_id,
        count(*) as identifier_count,
        min(first_seen_at) as first_seen_at
    from customer_identifiers
    group by customer_id

),

primary_phone as (

    select * from {{ ref('int_customer_primary_phone') }}

),

member_rows as (

    select
        record_customers.customer_id,
        members.*
    from members
    inner join record_customers
        on record_customers.record_key = {{ member_record_key('members.app_id', 'members.openid') }}

),

-- the member row that carries the card (then the latest registered) speaks for card, tier, points, tags
member_profile as (

    select
        customer_id,
        member_card,
        member_level,
        points,
        tags
    from (
        select
            *,
            row_number() over (
                partition by customer_id
                order by member_card is null, registered_at desc nulls last, openid
            ) as profile_rank
        from member_rows
    ) as ranked
    where profile_rank = 1

),

member_flags as (

    select
        customer_id,
        case
            when bool_or(follow_status_en = 'subscribed') then 'subscribed'
            when bool_or(follow_status_en = 'unsubscribed') then 'unsubscribed'
        end as wechat_follow_status,
        bool_or(coalesce(sms_consent, false)) as sms_consent,
        bool_or(coalesce(wecom_friend, false)) as wecom_friend,
        -- the latest registered member row that states a birthday
        max_by(birth_month_day, registered_at) filter (where birth_month_day is not null) as birth_month_day,
        max_by(birth_year, registered_at) filter (where birth_month_day is not null) as birth_year
    from member_rows
    group by customer_id

),

-- a card seen only on orders (no member row) still identifies the member
any_card as (

    select customer_id, min({{ identifier_value_of('identifier_key') }}) as member_card
    from customer_identifiers
    where identifier_type = 'member_card'
    group by customer_id

),

final as (

    select
        customers.customer_id,
        case when primary_phone.phone is not null then {{ pii_hash('primary_phone.phone') }} end as phone_hash,
        {{ mask_identifier("'phone'", 'primary_phone.phone') }} as phone_masked,
        order_state.channels,
        cast(coalesce(order_state.channel_count, 0) as integer) as channel_count,
        cast(customers.identifier_count as integer) as identifier_count,
        customers.first_seen_at,
        order_state.first_purchase_at,
        order_state.last_purchase_at,
        cast(coalesce(order_state.purchase_count, 0) as integer) as purchase_count,
        cast(coalesce(order_state.net_spend, 0) as decimal(18, 2)) as net_spend,
        {{ decimal_from_double(
            'case when order_state.purchase_count > 0
                then order_state.net_spend / cast(order_state.purchase_count as double)
            end', 18, 2
        ) }} as average_order_value,
        order_state.first_channel,
        order_state.preferred_channel,
        order_state.preferred_store,
        member_flags.wechat_follow_status,
        coalesce(member_profile.member_card, any_card.member_card) as member_card,
        {{ mask_member_card('coalesce(member_profile.member_card, any_card.member_card)') }}
            as member_card_masked,
        member_profile.member_level,
        member_profile.points,
        member_profile.tags,
        coalesce(member_flags.sms_consent, false) as sms_consent,
        coalesce(member_flags.wecom_friend, false) as wecom_friend,
        member_flags.birth_month_day,
        member_flags.birth_year
    from customers
    left join primary_phone on primary_phone.customer_id = customers.customer_id
    left join order_state on order_state.customer_id = customers.customer_id
    left join member_profile on member_profile.customer_id = customers.customer_id
    left join member_flags on member_flags.customer_id = customers.customer_id
    left join any_card on any_card.customer_id = customers.customer_id

)

select * from final
