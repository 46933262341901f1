{#-
    Key lists of the file-keyed incremental models (orders_incremental.sql, identity_incremental.sql).

    A pre-hook binds the affected natural keys of one kind (a channel, members...) from the model's helper
    table into a DuckDB variable; the model filters its inputs with `key_list_contains`. A bare
    getvariable() is a constant when the query is planned, so DuckDB pushes the filter below the staging
    views' window functions into the raw scan; a semi-join on the helper table would not be pushed, and
    every run would rank all history again. (Wrapped in a volatile guard such as error(), the filter would
    not be pushed either.)
-#}

{#- Pre-hook statement: `variable` := the sorted natural keys of `helper` where `kind_column` = `kind`. -#}
{% macro bind_key_list(variable, helper, kind_column, kind) -%}
    set variable {{ variable }} = (
        select coalesce(list(natural_key order by natural_key), cast([] as varchar[]))
        from {{ helper }}
        where {{ kind_column }} = '{{ kind }}'
    );
{%- endmacro %}

{#- In the model, inside `{% if is_incremental() %}`: keep the rows whose key is in the bound list. -#}
{% macro key_list_contains(variable, key_column) -%}
    list_contains(getvariable('{{ variable }}'), {{ key_column }})
{%- endmacro %}
