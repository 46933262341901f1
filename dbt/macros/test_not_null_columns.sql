{#- Generic test (on a model): the not-null checks of several columns in one scan. It returns one row per
    listed column that holds nulls (column_name, null_rows), so a failure names the columns and how many
    rows each; it passes when none does. A model's columns that must never be null are listed here
    instead of one `not_null` test per column: each dbt test is a node, and dbt's own work per node
    (compiling it, its context, its events) cost more than the scan on most tables (DECISIONLOG "A
    model's not-null columns are one test"). A column whose check differs (another `where`, a name the
    gates look for, a severity) keeps its own `not_null`. -#}
{% test not_null_columns(model, columns) %}
{%- if not columns %}
    {{ exceptions.raise_compiler_error("not_null_columns on " ~ model ~ ": list the columns to check") }}
{%- endif %}
with

null_counts as (

    select
        {%- for column in columns %}
        count(*) - count({{ column }}) as nulls_{{ loop.index }}{{ ',' if not loop.last }}
        {%- endfor %}
    from {{ model }}

)

{% for column in columns -%}
select {{ dbt.string_literal(column) }} as column_name, nulls_{{ loop.index }} as null_rows
from null_counts
where nulls_{{ loop.index }} > 0
{% if not loop.last %}union all
{% endif -%}
{%- endfor %}
{% endtest %}
