{#- Strength of an identifier type for identity resolution: 1 = strongest. -#}
{% macro identifier_strength_rank(identifier_type) -%}
    case {{ identifier_type }}
        when 'phone' then 1
        when 'unionid' then 2
        when 'member_card' then 3
        when 'tmall_oaid' then 4
        when 'tmall_nick' then 4
        when 'jd_account' then 4
        when 'email' then 5
        when 'openid' then 6
        else 9
    end
{%- endmacro %}
