{#-
    Data tests of an incremental model look at the rows its last build wrote (DECISIONLOG "Incremental
    models are selective"): a full build writes every row, so they test everything; a daily build writes
    the day's rows, so they test those instead of scanning all history again. The rows a build kept are
    the ones earlier builds wrote and tested.

    The model stamps each row it writes with `_built_at` (macro built_at: when the dbt invocation
    started), and the tests carry `where: "__last_build__"` (set per folder in dbt_project.yml,
    `data_tests:`), which get_where_subquery below turns into "_built_at is the table's newest". The rows
    of one build share one stamp; a later build's stamp is later.

    dbt renders a test's `where` when it parses the project, so it cannot name the tested relation itself;
    the placeholder is replaced here, when the test is compiled (dbt's documented way to extend `where`).
-#}

{#- The stamp of the rows an incremental model writes in this build. -#}
{% macro built_at() -%}
    cast('{{ run_started_at.strftime("%Y-%m-%d %H:%M:%S.%f") }}' as timestamp)
{%- endmacro %}

{#- A test predicate with `__last_build__` standing for the rows of `relation`'s last build, and
    `__last_update__` for those of its last write in a model stamped by `updated_at` instead
    (customer_identifier_map: the run that wrote a row sets it). -#}
{% macro last_build_where(where, relation) -%}
    {%- if where and '__last_build__' in where -%}
        {{- return(where | replace('__last_build__', '_built_at = ' ~ stored_stamp(relation))) -}}
    {%- endif -%}
    {%- if where and '__last_update__' in where -%}
        {{- return(where | replace('__last_update__', 'updated_at = ' ~ stored_stamp(relation, 'updated_at'))) -}}
    {%- endif -%}
    {{- return(where) -}}
{%- endmacro %}

{#- dbt's get_where_subquery (the relation a data test reads), with `__last_build__` in `where` standing for
    the rows of the relation's last build. -#}
{% macro get_where_subquery(relation) -%}
    {%- set where = last_build_where(config.get('where'), relation) -%}
    {%- if where -%}
        {{ return('(select * from ' ~ relation ~ ' where ' ~ where ~ ') dbt_subquery') }}
    {%- else -%}
        {{ return(relation) }}
    {%- endif -%}
{%- endmacro %}

{#- Chaining on stamps (DECISIONLOG "Customer state is a model"): an incremental model whose rows depend on
    upstream rows that carry `_built_at` reads only what upstream wrote after its own newest stamp. These
    macros go inside `{% if is_incremental() %}` (a macro must not call is_incremental() itself: unit tests
    override it in the model only). The model's own newest stamp: -#}
{% macro last_build_stamp() -%}
    {{ return(stored_stamp(this)) }}
{%- endmacro %}

{#- The newest `column` (a timestamp) of a stored relation, as an SQL expression. While dbt executes (the
    relation exists and is not a unit test's fixture) it is read once and written as a constant: a filter
    `_built_at > <constant>` is pushed into the scan, which skips every row group whose stamps are all
    older (delete+insert appends a day's rows at the end), and DuckDB's statistics prove it empty when
    nothing upstream is newer. A subquery there is joined to every row instead (on a day with nothing to
    do, int_record_identity_changes took 2.4 s to find that, and 0.04 s with the constant). Otherwise
    (parse, a relation not built yet, a unit test) the subquery itself. The stamp is this relation's own
    value, checked as a timestamp before it enters the SQL. -#}
{% macro stored_stamp(relation, column='_built_at') -%}
    {%- set subquery = '(select max(' ~ column ~ ') from ' ~ relation ~ ')' -%}
    {%- if not execute or relation is string
            or adapter.get_relation(relation.database, relation.schema, relation.identifier) is none -%}
        {{ return(subquery) }}
    {%- endif -%}
    {#- read as text behind a marker, so that the result is not parsed into a datetime on its way -#}
    {%- set marked = run_query(
        'select ' ~ dbt.concat(["'@'", dbt.cast('max(' ~ column ~ ')', dbt.type_string())]) ~ ' from ' ~ relation
    ).columns[0].values()[0] -%}
    {%- if marked is none -%}
        {{ return('cast(null as timestamp)') }}
    {%- endif -%}
    {{ return(checked_literal(marked[1:], 'timestamp', 'stored_stamp: max(' ~ column ~ ') of ' ~ relation)) }}
{%- endmacro %}

{#- A value read from a table (as text) written into SQL as a literal of `type` ('timestamp' or 'date'),
    after checking that it is one: nothing else enters the SQL. `what` names it in the error. -#}
{% macro checked_literal(value, type, what) -%}
    {%- set patterns = {
        'timestamp': '[0-9]{4}-[0-9]{2}-[0-9]{2}[ T][0-9]{2}:[0-9]{2}:[0-9]{2}([.][0-9]{1,9})?',
        'date': '[0-9]{4}-[0-9]{2}-[0-9]{2}',
    } -%}
    {%- if not modules.re.fullmatch(patterns[type], value) -%}
        {{ exceptions.raise_compiler_error(what ~ ' is not a ' ~ type ~ ': ' ~ value) }}
    {%- endif -%}
    {{ return("cast('" ~ value ~ "' as " ~ type ~ ")") }}
{%- endmacro %}

{#- A predicate on an upstream row (alias): written after this model's last build, or this model has no
    stamped row yet (everything is new to it). `since`: that stamp when the model already holds it (a
    model that reads it several times reads it once: each last_build_stamp() is a query). -#}
{% macro written_since_last_build(alias, since=none) -%}
    {%- set since = last_build_stamp() if since is none else since -%}
    ({{ since }} is null or {{ alias }}._built_at > {{ since }})
{%- endmacro %}

{#- The keys of the rows `relation` wrote after this model's last build (a subquery; `since` as above). -#}
{% macro keys_written_since_last_build(relation, key, since=none) -%}
    {%- set since = last_build_stamp() if since is none else since -%}
    select {{ key }} from {{ relation }} where _built_at > {{ since }}
{%- endmacro %}

{#- Whether this model's stored table has `column`: an incremental model whose stored table may predate a
    column it reads (on_schema_change='append_new_columns' adds it only after the model's select) reads
    the old layout instead. False at parse time; a unit test's stored rows (`this` is its fixture, a
    name) have the current layout. -#}
{% macro stored_table_has_column(column) -%}
    {%- if not execute -%}
        {{ return(false) }}
    {%- endif -%}
    {%- if this is string -%}
        {{ return(true) }}
    {%- endif -%}
    {{ return(column in (adapter.get_columns_in_relation(this) | map(attribute='name') | map('lower') | list)) }}
{%- endmacro %}

{#- Whether this model's stored table has the build stamp: an incremental model that reads its own
    `_built_at` to choose what to recompute recomputes everything on a table written before it stamped its
    rows. Use as `is_incremental() and stored_rows_are_stamped()`. -#}
{% macro stored_rows_are_stamped() -%}
    {{ return(stored_table_has_column('_built_at')) }}
{%- endmacro %}
