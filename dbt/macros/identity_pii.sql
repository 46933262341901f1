{#- Keyed hash of a personal value: HMAC-SHA256 (RFC 2104) with this deployment's secret key, as 64 hex
    characters. Joinable across marts and exports, not reversible by enumerating phone numbers. The key's
    padded forms are read from restricted.hash_key, which the pipeline writes before dbt runs
    (core/secrets.py), so the key never appears in compiled SQL or logs. -#}
{% macro pii_hash(expr) -%}
    {{ return(adapter.dispatch('pii_hash')(expr)) }}
{%- endmacro %}

{% macro default__pii_hash(expr) -%}
    sha256(
        (select outer_pad from restricted.hash_key)
        || unhex(sha256((select inner_pad from restricted.hash_key) || encode(cast({{ expr }} as {{ dbt.type_string() }}))))
    )
{%- endmacro %}

{% macro spark__pii_hash(expr) -%}
    sha2(
        concat(
            (select outer_pad from restricted.hash_key),
            unhex(sha2(concat((select inner_pad from restricted.hash_key), encode(cast({{ expr }} as string), 'UTF-8')), 256))
        ),
        256
    )
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

{#- Display form of a member card number for BI and lists: its last 4 characters behind ****, enough for
    a store clerk to recognise it, not to use it. -#}
{% macro mask_member_card(expr) -%}
    case
        when {{ expr }} is null then null
        when length({{ expr }}) <= 4 then '****'
        else '****' || right({{ expr }}, 4)
    end
{%- endmacro %}

{#- The record key of a member-export row (one per app and openid), shared by identity and marts. -#}
{% macro member_record_key(app_id, openid) -%}
    'wechat_members:' || coalesce({{ app_id }}, '') || ':' || {{ openid }}
{%- endmacro %}

{#- The identifier value inside an identifier key ('<type>:<value>'). -#}
{% macro identifier_value_of(key_expr) -%}
    substr({{ key_expr }}, instr({{ key_expr }}, ':') + 1)
{%- endmacro %}
