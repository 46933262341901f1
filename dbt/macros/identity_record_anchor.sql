{#- An aggregate: the anchor of a record's star of links, the identifier with the lowest strength rank,
    then the lowest id (an arg-min over the pair). Portable default: min_by over a struct (Spark);
    DuckDB: arg_min over a row value, no 128-bit arithmetic. -#}
{% macro identity_record_anchor(id_column, rank_column) -%}
    {{- return(adapter.dispatch('identity_record_anchor')(id_column, rank_column)) -}}
{%- endmacro %}

{% macro default__identity_record_anchor(id_column, rank_column) -%}
    min_by({{ id_column }}, struct({{ rank_column }}, {{ id_column }}))
{%- endmacro %}

{% macro duckdb__identity_record_anchor(id_column, rank_column) -%}
    arg_min({{ id_column }}, row({{ rank_column }}, {{ id_column }}))
{%- endmacro %}
