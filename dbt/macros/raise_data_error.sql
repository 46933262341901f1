{#- Stop the query with `message_expr` (a SQL string expression) as its error: for data that must not
    be turned into marts. DuckDB's error(); Spark's raise_error(); the default is DuckDB's. -#}
{% macro raise_data_error(message_expr) -%}
    {{ return(adapter.dispatch('raise_data_error')(message_expr)) }}
{%- endmacro %}

{% macro default__raise_data_error(message_expr) -%}
    cast(error({{ message_expr }}) as date)
{%- endmacro %}

{% macro spark__raise_data_error(message_expr) -%}
    cast(raise_error({{ message_expr }}) as date)
{%- endmacro %}
