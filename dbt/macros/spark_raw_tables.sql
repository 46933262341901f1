{#- `dbt run-operation spark_register_raw_tables --target spark` (transform/spark.py register_raw_tables,
    before every Spark build; not an on-run-start hook, which would add a node to every DuckDB run too):
    register the raw tables transform/spark.py exported as Parquet (<$REPURCHASE_SPARK_DIR>/raw/<schema>/<table>/) as external Spark tables of the same
    names, so source('raw', ...) and restricted.hash_key read them unchanged. The exported tables arrive as
    $REPURCHASE_SPARK_RAW_TABLES ('raw.pos,raw.tmall,...,restricted.hash_key'); a name that is not a plain
    schema.table identifier stops the run. -#}
{% macro spark_register_raw_tables() %}
    {%- if target.type == 'spark' and execute -%}
        {%- set raw_root = env_var('REPURCHASE_SPARK_DIR', '') ~ '/raw' -%}
        {%- for name in env_var('REPURCHASE_SPARK_RAW_TABLES', '').split(',') if name.strip() -%}
            {%- set name = name.strip() -%}
            {%- if not modules.re.match('^[a-z_][a-z0-9_]*\\.[a-z_][a-z0-9_]*$', name) -%}
                {{ exceptions.raise_compiler_error("REPURCHASE_SPARK_RAW_TABLES: '" ~ name ~ "' is not schema.table") }}
            {%- endif -%}
            {%- set schema, table = name.split('.') -%}
            {%- do run_query('create database if not exists ' ~ schema) -%}
            {%- do run_query('drop table if exists ' ~ name) -%}
            {%- do run_query('create table ' ~ name ~ " using parquet location '" ~ raw_root ~ '/' ~ schema ~ '/' ~ table ~ "'") -%}
        {%- endfor -%}
    {%- endif -%}
{% endmacro %}
