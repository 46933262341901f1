{#-
    Incremental facts by change detection (fct_orders, fct_order_lines).

    A later export can change an old order (a refund, a return netted against its receipt, a status), an
    identity merge can change the customer_id of old orders, and an order can vanish (a stand-alone refund
    row that now nets against its payment). A watermark on load time alone misses the last two, so the
    incremental run keeps, of the model's full select, only the rows that are new or differ in any column
    from the row already in the table (`incremental_changed_rows`), replaces those keys (delete+insert on
    the unique key), and deletes keys that are no longer produced upstream (`delete_vanished_keys`, a
    post-hook). The result equals a full rebuild; the rows written are the new day's orders plus the old
    ones that really changed. Portable SQL (`is not distinct from`, `not exists`).
-#}

{% macro incremental_changed_rows(alias, key) -%}
    {%- set columns = adapter.get_columns_in_relation(this) -%}
    not exists (
        select 1
        from {{ this }} as existing
        where existing.{{ key }} = {{ alias }}.{{ key }}
        {%- for column in columns if column.name | lower != key | lower %}
            and existing.{{ adapter.quote(column.name) }} is not distinct from {{ alias }}.{{ adapter.quote(column.name) }}
        {%- endfor %}
    )
{%- endmacro %}

{#- Post-hook: delete the rows whose key the upstream model no longer produces (no-op on a full build). -#}
{% macro delete_vanished_keys(key, upstream) -%}
    {%- if is_incremental() -%}
        delete from {{ this }}
        where {{ key }} not in (select {{ key }} from {{ upstream }} where {{ key }} is not null)
    {%- else -%}
        select 1
    {%- endif -%}
{%- endmacro %}
