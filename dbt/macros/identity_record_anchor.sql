{#- An aggregate: the anchor of a record's star of links, the identifier with the lowest strength rank,
    then the lowest id (an arg-min over the pair, no 128-bit arithmetic). DuckDB compares row values,
    Spark structs. -#}
{% macro identity_record_anchor(id_column, rank_column) -%}
    {{- return(adapter.dispatch('identity_record_anchor')(id_column, rank_column)) -}}
{%- endmacro %}

{% macro default__identity_record_anchor(id_column, rank_column) -%}
    min_by({{ id_column }}, row({{ rank_column }}, {{ id_column }}))
{%- endmacro %}

{% macro spark__identity_record_anchor(id_column, rank_column) -%}
    min_by({{ id_column }}, struct({{ rank_column }}, {{ id_column }}))
{%- endmacro %}
