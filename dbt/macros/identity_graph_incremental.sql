{#-
    The identity chain, incremental by what a build changed (issue 17: identity over the affected part of
    the graph, not all of it every day; DECISIONLOG "The identity chain recomputes what a day changed").

    What changed is read from stamps, in the dbt graph: int_identifier_candidates writes a day's records
    and keeps, retracted, the observations a record no longer shows (macros/identity_incremental.sql), and
    int_identity_hubs rewrites only the values whose hub status or degree changed. Each model reads what
    upstream wrote after its own newest `_built_at` (macros/last_build_rows.sql) and recomputes:
      - int_identity_nodes: those identifiers, from all their observations;
      - int_identity_edges: every edge that touches an identifier of a changed record, from all records
        showing that identifier. A record's edges are a star around its anchor, so an edge whose records
        did not change and whose ends are not a changed record's identifiers is the same as before;
      - int_identity_components (Python): the part of the graph those identifiers reach;
      - int_customer_identifiers: those identifiers and the ones the map rewrote;
      - int_record_identity_changes: the records showing them (record_identity_outcomes below).
    A row that no longer exists is written once more with a count of 0 (or no component, no customer), so
    delete+insert replaces the stored row, and the post-hook below drops it. Equal to a full rebuild
    (tests/dbt/identity/test_identity_incremental.py, test_identity_stable_ids.py). A full refresh rebuilds
    the chain together: a candidates or hubs table rebuilt alone loses the retracted rows and ex-hubs the
    graph would need. On Spark the models are tables (incremental_materialization) and the incremental
    branches render nothing.
-#}

{#- In the model, inside `{% if is_incremental() %}`: this model's last build stamp (an SQL expression),
    null when its stored table predates the stamp column (a warehouse upgraded from before these models
    were incremental: everything is then recomputed once, and on_schema_change adds the column). -#}
{% macro identity_graph_since() -%}
    {%- if stored_rows_are_stamped() -%}
        {{ return(last_build_stamp()) }}
    {%- endif -%}
    {{ return('cast(null as timestamp)') }}
{%- endmacro %}

{#- In the model, inside `{% if is_incremental() %}`: the identifiers whose observations were written or
    retracted, or whose hub status changed, after `since` (identity_graph_since: read once, a constant
    while dbt executes). -#}
{% macro identity_graph_changed_identifiers(candidates, hubs, since) -%}
    select changed.identifier_id
    from {{ candidates }} as changed
    where changed.identifier_id is not null
        and {{ written_since_last_build('changed', since) }}
    union
    select flipped.identifier_id
    from {{ hubs }} as flipped
    where {{ written_since_last_build('flipped', since) }}
{%- endmacro %}

{#- Post-hook: drop the rows a build wrote for a node, edge, component or customer identifier that no
    longer exists (`vanished`: a count of 0, no component, no customer). No-op on a full build. -#}
{% macro identity_graph_drop_vanished(vanished) -%}
    {%- if is_incremental() -%}
        delete from {{ this }} where {{ vanished }}
    {%- else -%}
        select 1
    {%- endif -%}
{%- endmacro %}

{#- A record's identity outcome (int_record_identity's rule; int_record_identity_changes applies it to a
    day's affected records): `observations` is a relation or subquery of (record_key, identifier_id,
    rejection_reason), live observations only; `customer_identifiers` gives each identifier's customer.
    One pass grouped by record_key, the customer joined on the integer identifier_id:
      - customer_id: min over the record's identifiers (all non-hub identifiers of a record share a
        component, hence one customer: customer_count says 2 when two disagree, which a test rejects;
        min/max instead of a distinct count, which cost more than the rest);
      - identity_status: resolved, hub_only (a usable identifier, none with a customer) or
        unusable_identifier (only rejected values: rejection_reason says which, the first
        alphabetically). -#}
{% macro record_identity_outcomes(observations, customer_identifiers) -%}
    select
        record_key,
        customer_id,
        case
            when customer_id is null then 0
            when customer_id = last_customer_id then 1
            else 2
        end as customer_count,
        case
            when customer_id is not null then 'resolved'
            when has_usable_identifier then 'hub_only'
            else 'unusable_identifier'
        end as identity_status,
        case
            when not has_usable_identifier then rejection_reason
        end as rejection_reason
    from (
        select
            observations.record_key,
            min(customer_identifiers.customer_id) as customer_id,
            max(customer_identifiers.customer_id) as last_customer_id,
            bool_or(observations.rejection_reason is null) as has_usable_identifier,
            min(observations.rejection_reason) as rejection_reason
        from {{ observations }} as observations
        left join {{ customer_identifiers }} as customer_identifiers
            on customer_identifiers.identifier_id = observations.identifier_id
        group by observations.record_key
    ) as records
{%- endmacro %}

{#- Post-hook of an incremental Python model: drop the table its build's rows were written to. For a Python
    model dbt-duckdb's incremental materialization writes them to `<model>__dbt_tmp<time>`, a table in the
    default schema rather than a temporary one, and never drops it: one more table a day (24,774 rows a
    day for int_identity_components at 1M people). Every such table of this model is dropped, so a
    warehouse that collected them before this hook is cleaned too. Elsewhere (Spark: a plain table) a
    no-op. -#}
{% macro drop_python_build_tables() -%}
    {{ return(adapter.dispatch('drop_python_build_tables')()) }}
{%- endmacro %}

{% macro default__drop_python_build_tables() -%}
    select 1
{%- endmacro %}

{% macro duckdb__drop_python_build_tables() -%}
    {%- set leftovers = [] -%}
    {%- if execute -%}
        {%- set leftovers = run_query(
            "select table_schema, table_name from information_schema.tables"
            ~ " where table_catalog = current_database() and table_type = 'BASE TABLE'"
            ~ " and starts_with(table_name, '" ~ this.identifier ~ "__dbt_tmp')"
        ).rows -%}
    {%- endif -%}
    {%- for leftover in leftovers %}
    drop table if exists {{ adapter.quote(leftover[0]) }}.{{ adapter.quote(leftover[1]) }};
    {%- endfor %}
    select 1
{%- endmacro %}
