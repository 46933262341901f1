{#- Date helpers for the repurchase marts. Every time rule is relative to the as_of date. -#}

{#- The as_of date as a SQL expression, read from the one-row model repurchase_as_of
    (the `as_of` var when set, else the date of the latest purchase in fct_orders). -#}
{% macro marts_as_of() -%}
    (select as_of_date from {{ ref('repurchase_as_of') }})
{%- endmacro %}

{#- The as_of day validated: none, or an ISO date string YYYY-MM-DD. From the `as_of` var when set, else
    from env var REPURCHASE_AS_OF, which is how the pipeline passes it (transform/dbt.py split_as_of: a
    changed var makes dbt re-parse the whole project, a changed env var only the files that read it). -#}
{% macro marts_as_of_var() -%}
    {%- set value = var('as_of', none) -%}
    {%- if value is none or (value | string | trim) in ('', 'null', 'None') -%}
        {%- set value = env_var('REPURCHASE_AS_OF', '') -%}
    {%- endif -%}
    {%- if value is none or (value | string | trim) in ('', 'null', 'None') -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set text = value | string | trim -%}
    {%- if not modules.re.match('^[0-9]{4}-[0-9]{2}-[0-9]{2}$', text) -%}
        {{ exceptions.raise_compiler_error("var as_of must be null or a date YYYY-MM-DD, got '" ~ text ~ "'") }}
    {%- endif -%}
    {{ return(text) }}
{%- endmacro %}

{#- Date arithmetic, one dispatched macro each (portable_sql.sql says why): default__ is DuckDB's, through
    dbt's cross-database macros; spark__ uses Spark's own date functions (dbt-spark's dateadd / datediff
    expand to pages of SQL per call, which nested in the KPI macros made kpi_monthly 5.7 MB). -#}

{#- date + n days, as a date (dbt.dateadd returns a timestamp on some adapters). -#}
{% macro marts_add_days(n, date_expr) -%}
    {{ return(adapter.dispatch('marts_add_days')(n, date_expr)) }}
{%- endmacro %}

{% macro default__marts_add_days(n, date_expr) -%}
    cast({{ dbt.dateadd('day', n, date_expr) }} as date)
{%- endmacro %}

{% macro spark__marts_add_days(n, date_expr) -%}
    date_add({{ date_expr }}, {{ n }})
{%- endmacro %}

{#- timestamp + n days, as a timestamp (the time of day kept). -#}
{% macro marts_add_days_to_timestamp(n, timestamp_expr) -%}
    {{ return(adapter.dispatch('marts_add_days_to_timestamp')(n, timestamp_expr)) }}
{%- endmacro %}

{% macro default__marts_add_days_to_timestamp(n, timestamp_expr) -%}
    {{ dbt.dateadd('day', n, timestamp_expr) }}
{%- endmacro %}

{% macro spark__marts_add_days_to_timestamp(n, timestamp_expr) -%}
    ({{ timestamp_expr }} + make_interval(0, 0, 0, {{ n }}))
{%- endmacro %}

{#- date + n months, as a date (the 31st + 1 month is the month's last day in both engines). -#}
{% macro marts_add_months(n, date_expr) -%}
    {{ return(adapter.dispatch('marts_add_months')(n, date_expr)) }}
{%- endmacro %}

{% macro default__marts_add_months(n, date_expr) -%}
    cast({{ dbt.dateadd('month', n, date_expr) }} as date)
{%- endmacro %}

{% macro spark__marts_add_months(n, date_expr) -%}
    add_months({{ date_expr }}, {{ n }})
{%- endmacro %}

{#- Whole days from start_expr to end_expr (end - start). -#}
{% macro marts_days_between(start_expr, end_expr) -%}
    {{ return(adapter.dispatch('marts_days_between')(start_expr, end_expr)) }}
{%- endmacro %}

{% macro default__marts_days_between(start_expr, end_expr) -%}
    {{ dbt.datediff(start_expr, end_expr, 'day') }}
{%- endmacro %}

{% macro spark__marts_days_between(start_expr, end_expr) -%}
    datediff({{ end_expr }}, {{ start_expr }})
{%- endmacro %}

{#- First day of the month / quarter containing date_expr, as a date. -#}
{% macro marts_period_start(period, date_expr) -%}
    {{ return(adapter.dispatch('marts_period_start')(period, date_expr)) }}
{%- endmacro %}

{% macro default__marts_period_start(period, date_expr) -%}
    cast({{ dbt.date_trunc(period, date_expr) }} as date)
{%- endmacro %}

{% macro spark__marts_period_start(period, date_expr) -%}
    trunc({{ date_expr }}, '{{ period }}')
{%- endmacro %}

{#- Last day of the month / quarter containing date_expr, as a date. -#}
{% macro marts_period_end(period, date_expr) -%}
    {{ return(adapter.dispatch('marts_period_end')(period, date_expr)) }}
{%- endmacro %}

{% macro default__marts_period_end(period, date_expr) -%}
    cast({{ dbt.last_day(date_expr, period) }} as date)
{%- endmacro %}

{% macro spark__marts_period_end(period, date_expr) -%}
    date_add(add_months(trunc({{ date_expr }}, '{{ period }}'), {{ 3 if period == 'quarter' else 1 }}), -1)
{%- endmacro %}

{#- Integers 0 .. 10^digits - 1 as column `n`, from a cross join of digit lists (portable, no query at
    compile time, unlike dbt.date_spine). Filter the result to the range you need. -#}
{% macro marts_integers(digits=5) -%}
    select
        {% for i in range(digits) -%}
        d{{ i }}.digit * {{ 10 ** i }}{{ ' + ' if not loop.last }}
        {%- endfor %} as n
    from
        {% for i in range(digits) -%}
        (
            select 0 as digit union all select 1 union all select 2 union all select 3 union all select 4
            union all select 5 union all select 6 union all select 7 union all select 8 union all select 9
        ) as d{{ i }}{{ ',' if not loop.last }}
        {% endfor %}
{%- endmacro %}

{#- The q-quantile (continuous) of an expression within an aggregate. -#}
{% macro marts_percentile(expr, q) -%}
    {{ return(adapter.dispatch('marts_percentile')(expr, q)) }}
{%- endmacro %}

{% macro default__marts_percentile(expr, q) -%}
    percentile_cont({{ q }}) within group (order by {{ expr }})
{%- endmacro %}

{% macro spark__marts_percentile(expr, q) -%}
    percentile({{ expr }}, {{ q }})
{%- endmacro %}

{% macro trino__marts_percentile(expr, q) -%}
    approx_percentile({{ expr }}, {{ q }})
{%- endmacro %}
