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

{#- The columns compared are the model's contract columns (its YAML), so a column added to the model is
    compared too: with on_schema_change='append_new_columns' the existing rows get null there and every row
    whose new value is not null is rewritten, which again equals a full rebuild. The build's bookkeeping
    (`_built_*`: the stamp of the build that wrote the row, macros/last_build_rows.sql) is not compared:
    it differs on every build, and a row is rewritten only when its values changed. -#}
{% macro incremental_changed_rows(alias, key) -%}
    {%- if model.columns -%}
        {%- set names = model.columns.keys() | list -%}
    {%- else -%}
        {%- set names = adapter.get_columns_in_relation(this) | map(attribute='name') | list -%}
    {%- endif -%}
    not exists (
        select 1
        from (
            -- the stored rows of the select's keys: an inner join on the few keys a day selects lets the
            -- scan skip the row groups without one (a plain `not exists` hashed every stored row: fct_orders
            -- 1.14 -> 0.41 s on a 1M day)
            select stored.*
            from {{ this }} as stored
            inner join (select distinct {{ key }} from {{ alias }}) as selected
                on selected.{{ key }} = stored.{{ key }}
        ) as existing
        where existing.{{ key }} = {{ alias }}.{{ key }}
        {%- for name in names if name | lower != key | lower and not (name | lower).startswith('_built') %}
            and existing.{{ adapter.quote(name) }} is not distinct from {{ alias }}.{{ adapter.quote(name) }}
        {%- endfor %}
    )
{%- endmacro %}

{#- Post-hook: delete the rows whose key the upstream model no longer produces (no-op on a full build);
    `key`: a column, or a list of columns (the upstream's distinct values or combinations count: a key
    that repeats upstream, or a composite one);
    `where`: a condition on the upstream rows that still count (e.g. dated on or before as_of).
    `counted` (the key is unique in this table, and in the upstream's rows, or given as a list): after the
    build's insert this table holds every key the upstream produces, so it holds another key exactly when
    it has more rows. The hook counts both first (metadata and one scanned column) and runs the delete,
    an anti-join of every stored key against every upstream key, only when the counts differ: on most
    days nothing vanished, and the anti-join cost 0.56–0.83 s per model at 1M people for nothing. -#}
{% macro delete_vanished_keys(key, upstream, where=none, counted=false) -%}
    {%- if is_incremental() -%}
        {%- set keys = [key] if key is string else key -%}
        {%- set upstream_keys -%}
            select {{ 'distinct ' if key is not string }}{{ keys | join(', ') }} from {{ upstream }}
            where {% for name in keys %}{{ name }} is not null and {% endfor %}{{ '(' ~ where ~ ')' if where else 'true' }}
        {%- endset -%}
        {%- set vanished = true -%}
        {%- if counted and execute -%}
            {%- set counts = run_query(
                'select (select count(*) from ' ~ this ~ ') as stored_rows, '
                ~ '(select count(*) from (' ~ upstream_keys ~ ') as produced) as produced_rows'
            ) -%}
            {%- set vanished = counts.rows[0][0] != counts.rows[0][1] -%}
        {%- endif -%}
        {%- if vanished and keys | length == 1 -%}
        delete from {{ this }}
        where {{ keys[0] }} not in (
            {{ upstream_keys }}
        )
        {%- elif vanished -%}
        delete from {{ this }}
        where not exists (
            select 1
            from ({{ upstream_keys }}) as produced
            where {% for name in keys %}produced.{{ name }} = {{ this }}.{{ name }}{{ ' and ' if not loop.last }}{% endfor %}
        )
        {%- else -%}
        select 1
        {%- endif -%}
    {%- else -%}
        select 1
    {%- endif -%}
{%- endmacro %}
