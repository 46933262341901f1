{#- Salted sha256 of a personal value (var identity_hash_salt): joinable, not reversible by lookup. -#}
{% macro pii_hash(expr) -%}
    sha256({{ dbt.string_literal(dbt.escape_single_quotes(var('identity_hash_salt'))) }} || {{ expr }})
{%- endmacro %}

{#- Display form of an identifier value: phones as 138****5678, anything else as its ends around ***. -#}
{% macro mask_identifier(type_expr, value_expr) -%}
    case
        when {{ value_expr }} is null then null
        when {{ type_expr }} = 'phone' and length({{ value_expr }}) = 11
            then substr({{ value_expr }}, 1, 3) || '****' || substr({{ value_expr }}, 8, 4)
        when length({{ value_expr }}) <= 4 then '***'
        else substr({{ value_expr }}, 1, 2) || '***' || substr({{ value_expr }}, length({{ value_expr }}) - 1, 2)
    end
{%- endmacro %}

{#- The record key of a member-export row (one per app and openid), shared by identity and marts. -#}
{% macro member_record_key(app_id, openid) -%}
    'wechat_members:' || coalesce({{ app_id }}, '') || ':' || {{ openid }}
{%- endmacro %}

{#- The identifier value inside an identifier key ('<type>:<value>'). -#}
{% macro identifier_value_of(key_expr) -%}
    substr({{ key_expr }}, strpos({{ key_expr }}, ':') + 1)
{%- endmacro %}
