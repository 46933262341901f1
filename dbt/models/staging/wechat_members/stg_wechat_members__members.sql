{#-
    One row per WeChat member / follower (openid). A member exported in several files is taken from the
    most recently loaded file: follow status, level, points and consents are the latest known.
-#}
{#- Every follow status the source registry knows (core/sources.py FOLLOW_STATUSES; tests/core/test_sources.py
    keeps the two equal). -#}
{%- set follow_statuses = {
    '关注': 'subscribed',
    '已关注': 'subscribed',
    '取消关注': 'unsubscribed',
    '已取消关注': 'unsubscribed',
    '未关注': 'unsubscribed',
} -%}

with source as (
    select * from {{ source('raw', 'wechat_members') }}
),

ranked as (
    select
        *,
        row_number() over (
            partition by openid
            order by _loaded_at desc, _file_name desc, _file_sha256 desc, _row_number desc
        ) as file_rank
    from source
),

renamed as (
    select
        cast(openid as {{ dbt.type_string() }}) as openid,
        unionid,
        app_id,
        nickname,
        phone,
        coalesce(phone_masked, false) as phone_masked,
        phone_issue,
        email,
        gender,
        city,
        cast(registered_at as timestamp) as registered_at,
        follow_status,
        {{ map_native_value('follow_status', follow_statuses, null_as=none) }} as follow_status_en,
        cast(unfollowed_at as timestamp) as unfollowed_at,
        member_card,
        member_level,
        cast(points as integer) as points,
        tags,
        sms_consent,
        wecom_friend,
        cast(birth_month_day as {{ dbt.type_string() }}) as birth_month_day,
        cast(birth_year as integer) as birth_year,
        _file_name,
        _file_sha256,
        _row_number,
        _loaded_at
    from ranked
    where file_rank = 1
)

select * from renamed
