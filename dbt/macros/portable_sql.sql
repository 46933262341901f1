{#-
    Engine differences behind adapter.dispatch (DECISIONLOG "The same project on Spark"): each macro has a
    `default__` implementation, which is DuckDB's (dbt-duckdb falls back to default__), and a `spark__` one.
    Everything else in the project is SQL both engines read the same way; tests/dbt/test_portable_sql.py
    compiles every model for Spark and fails on DuckDB-only functions and types outside these macros.
    Functions both engines have under one name are used directly: max_by / min_by (not arg_max / arg_min),
    instr (not strpos), lpad, right, extract, bool_or, any_value, median, sha2-free md5.
-#}

{#- `expr` matches the whole of the regular expression `pattern` (a SQL string literal's content, RE2 /
    POSIX classes such as [:space:]). Spark's rlike is a Java regex search: anchored here, and POSIX's
    [:space:] (space, \t, \n, \v, \f, \r) is Java's \s (the same six characters). -#}
{% macro regex_full_match(expr, pattern) -%}
    {{ return(adapter.dispatch('regex_full_match')(expr, pattern)) }}
{%- endmacro %}

{% macro default__regex_full_match(expr, pattern) -%}
    regexp_full_match({{ expr }}, '{{ pattern }}')
{%- endmacro %}

{% macro spark__regex_full_match(expr, pattern) -%}
    ({{ expr }} rlike '^(?:{{ spark_regex_literal(pattern) }})$')
{%- endmacro %}

{#- Written between a CTE's `as` and its body: a CTE whose uses each read a few of its rows or columns is
    computed in each use rather than materialized whole (DuckDB materializes a CTE read more than once,
    with every column of a `select *`; Spark and the default leave it to the engine). A table read again
    costs a scan of the columns each use needs: omni_channel_monthly's query at 1M people 2.0 -> 1.36 s of
    CPU. Not for a CTE over a view that ranks rows (a staging view): each use would rank them again. -#}
{% macro cte_not_materialized() -%}
    {{ return(adapter.dispatch('cte_not_materialized')()) }}
{%- endmacro %}

{% macro default__cte_not_materialized() -%}
{%- endmacro %}

{% macro duckdb__cte_not_materialized() -%}
    not materialized
{%- endmacro %}

{#- `expr` contains a match of `pattern` somewhere. -#}
{% macro regex_contains(expr, pattern) -%}
    {{ return(adapter.dispatch('regex_contains')(expr, pattern)) }}
{%- endmacro %}

{% macro default__regex_contains(expr, pattern) -%}
    regexp_matches({{ expr }}, '{{ pattern }}')
{%- endmacro %}

{% macro spark__regex_contains(expr, pattern) -%}
    ({{ expr }} rlike '{{ spark_regex_literal(pattern) }}')
{%- endmacro %}

{#- A DuckDB (RE2) pattern as the content of a Spark string literal: Spark's parser reads backslash escapes
    in literals (DuckDB's does not), so each backslash is doubled; POSIX [:space:] becomes \s. -#}
{% macro spark_regex_literal(pattern) -%}
    {{ pattern | replace('\\', '\\\\') | replace('[:space:]', '\\\\s') }}
{%- endmacro %}

{#- Aggregate: the distinct non-null values of `expr`, sorted, joined by `separator` (a literal). -#}
{% macro distinct_sorted_list(expr, separator) -%}
    {{ return(adapter.dispatch('distinct_sorted_list')(expr, separator)) }}
{%- endmacro %}

{% macro default__distinct_sorted_list(expr, separator) -%}
    string_agg(distinct {{ expr }}, '{{ separator }}' order by {{ expr }})
{%- endmacro %}

{% macro spark__distinct_sorted_list(expr, separator) -%}
    nullif(array_join(array_sort(collect_set({{ expr }})), '{{ separator }}'), '')
{%- endmacro %}

{#- Aggregate: every value of `expr` (text; duplicates kept, nulls dropped), sorted, joined by
    `separator` (a literal); null when there is none. dbt.listagg's order by is ignored on Spark. -#}
{% macro sorted_list(expr, separator) -%}
    {{ return(adapter.dispatch('sorted_list')(expr, separator)) }}
{%- endmacro %}

{% macro default__sorted_list(expr, separator) -%}
    string_agg({{ expr }}, '{{ separator }}' order by {{ expr }})
{%- endmacro %}

{% macro spark__sorted_list(expr, separator) -%}
    nullif(array_join(array_sort(collect_list({{ expr }})), '{{ separator }}'), '')
{%- endmacro %}

{#- Whole calendar months from start_expr to end_expr (month boundaries crossed, like date_diff('month')). -#}
{% macro marts_months_between(start_expr, end_expr) -%}
    {{ return(adapter.dispatch('marts_months_between')(start_expr, end_expr)) }}
{%- endmacro %}

{% macro default__marts_months_between(start_expr, end_expr) -%}
    {{ dbt.datediff(start_expr, end_expr, 'month') }}
{%- endmacro %}

{% macro spark__marts_months_between(start_expr, end_expr) -%}
    (
        (year({{ end_expr }}) - year({{ start_expr }})) * 12
        + month({{ end_expr }}) - month({{ start_expr }})
    )
{%- endmacro %}

{#- The materialization of the incremental models (DECISIONLOG "The same project on Spark"). DuckDB:
    incremental, with delete+insert and the hooks' state (macros/*_incremental.sql,
    marts_customer_state.sql). Spark: a table rebuilt in full on every run: dbt-spark has no delete+insert
    (its merge needs Delta, Iceberg or Hudi), and the hooks use DuckDB session variables. Equal results
    either way: every incremental model already equals a full rebuild (tests/dbt/incremental/). -#}
{% macro incremental_materialization() -%}
    {{ return(adapter.dispatch('incremental_materialization')()) }}
{%- endmacro %}

{% macro default__incremental_materialization() -%}
    {{ return('incremental') }}
{%- endmacro %}

{% macro spark__incremental_materialization() -%}
    {{ return('table') }}
{%- endmacro %}

{#- The model that builds `name` on this engine: the Python model itself on DuckDB, its SQL twin
    `<name>_sql` (models/intermediate/*/spark/) elsewhere. Use as ref(engine_model('<name>')). -#}
{% macro engine_model(name) -%}
    {{ return(adapter.dispatch('engine_model')(name)) }}
{%- endmacro %}

{% macro default__engine_model(name) -%}
    {{ return(name) }}
{%- endmacro %}

{% macro spark__engine_model(name) -%}
    {{ return(name ~ '_sql') }}
{%- endmacro %}

{#- A double (a ratio, an average of money) as decimal(precision, scale), rounded as DuckDB casts it: the
    double times 10^scale, rounded half away from zero. Spark's own cast rounds the double's shortest
    decimal text instead, so an average such as 131.575 (binary 131.57499…) became 131.58 there and
    131.57 in DuckDB. Not for exact decimals (sums of money): cast those directly. -#}
{% macro decimal_from_double(expr, precision, scale) -%}
    {{ return(adapter.dispatch('decimal_from_double')(expr, precision, scale)) }}
{%- endmacro %}

{% macro default__decimal_from_double(expr, precision, scale) -%}
    cast({{ expr }} as decimal({{ precision }}, {{ scale }}))
{%- endmacro %}

{% macro spark__decimal_from_double(expr, precision, scale) -%}
    cast(round(cast({{ expr }} as double) * {{ 10 ** scale }}) / {{ 10 ** scale }} as decimal({{ precision }}, {{ scale }}))
{%- endmacro %}

{#- Aggregate: `value` on the group's row with the smallest (`order_columns`...) tuple, compared column by
    column (an arg-min over a row value: no key built by concatenating text or by 128-bit arithmetic).
    The order columns must not be null (no engine agrees on where a null field sorts in a row value) and
    must break every tie. DuckDB compares row values, Spark structs. A text key such as
    `cast(ts as text) || key` would order wrongly within a second: DuckDB and Spark write `10:00:00.5` for
    a time with a fraction, which sorts below `10:00:00` followed by a letter. -#}
{% macro min_by_row(value, order_columns) -%}
    {{- return(adapter.dispatch('aggregate_by_row')('min_by', value, order_columns)) -}}
{%- endmacro %}

{#- Aggregate: the smallest identity id (`id_column`, identity_key_id's 64-bit id) of the group's rows with
    the lowest `rank_column` (a small non-negative integer), i.e. min_by_row(id, [rank, id]) (the identity
    edges' anchor). DuckDB packs each row into one 128-bit integer, rank in the high 64 bits and the id in
    the low, and takes a plain min: at 1M people the edges model went from 2.2-2.6 to 1.8-1.9 s (5.1M
    records, 9.2M observations; same rows), the row value's comparison being the cost. Elsewhere (Spark's
    ids are decimal(20, 0)) it is min_by_row. -#}
{% macro min_id_by_rank(id_column, rank_column) -%}
    {{- return(adapter.dispatch('min_id_by_rank')(id_column, rank_column)) -}}
{%- endmacro %}

{% macro default__min_id_by_rank(id_column, rank_column) -%}
    {{ min_by_row(id_column, [rank_column, id_column]) }}
{%- endmacro %}

{% macro duckdb__min_id_by_rank(id_column, rank_column) -%}
    cast(
        min((cast({{ rank_column }} as uhugeint) << 64) | {{ id_column }})
        & cast(18446744073709551615 as uhugeint) as ubigint
    )
{%- endmacro %}

{#- Aggregate: `value` on the group's row with the largest (`order_columns`...) tuple (as min_by_row). -#}
{% macro max_by_row(value, order_columns) -%}
    {{- return(adapter.dispatch('aggregate_by_row')('max_by', value, order_columns)) -}}
{%- endmacro %}

{% macro default__aggregate_by_row(aggregate, value, order_columns) -%}
    {{ aggregate }}({{ value }}, row({{ order_columns | join(', ') }}))
{%- endmacro %}

{% macro spark__aggregate_by_row(aggregate, value, order_columns) -%}
    {{ aggregate }}({{ value }}, struct({{ order_columns | join(', ') }}))
{%- endmacro %}

{#- A struct of `columns` (column names), its fields named by them (`.column` reads one). -#}
{% macro struct_of(columns) -%}
    {{- return(adapter.dispatch('struct_of')(columns)) -}}
{%- endmacro %}

{% macro default__struct_of(columns) -%}
    struct_pack({{ columns | join(', ') }})
{%- endmacro %}

{% macro spark__struct_of(columns) -%}
    struct({{ columns | join(', ') }})
{%- endmacro %}

{#- Aggregate: the values of `value_columns` on the group's first row by `order_columns` (min_by_row), as
    one struct. One aggregate instead of a row_number window, its filter and a join back to the group-by:
    campaign_assignments' first event of each campaign and customer, 2.0 -> 1.4 s over 1.9M touch events
    at 1M people. -#}
{% macro first_row_by(value_columns, order_columns) -%}
    {{- min_by_row(struct_of(value_columns), order_columns) -}}
{%- endmacro %}
