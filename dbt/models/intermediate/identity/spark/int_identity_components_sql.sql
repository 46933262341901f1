{{ config(materialized='table', post_hook="{{ drop_identity_label_tables() }}") }}
{#-
    Connected components of the identity graph in SQL, for engines without the Python model (Spark; on
    DuckDB the scipy model int_identity_components.py builds the same table: dbt_project.yml enables one
    or the other by target type; customer_identifier_map reads ref(engine_model('int_identity_components'))). The same result: one row per node, component_id = the smallest
    identifier_id of its component.

    Label propagation with shortcutting, the way sql-identity-resolution resolves identities on Spark:
    every node starts labelled with its own id; each pass gives a node the smallest label among itself
    and its neighbours, then the label of that label (pointer jumping, so a long chain converges in about
    log2 of its length passes instead of its length). Each pass is materialised as a table
    (<this>__labels_<pass>): a chain of CTEs would make Spark re-plan every earlier pass twice per pass.
    The passes stop when one changes no label; at most var identity_label_max_passes. The tables are dropped after the build (post-hook). The final
    select fails the build (raise_data_error) when labels still differ across an edge, so a graph that did
    not converge within the bound never yields wrong components.
-#}
{%- set max_passes = var('identity_label_max_passes') -%}
{%- set edges_sql -%}
    select from_id, to_id from {{ ref('int_identity_edges') }}
{%- endset -%}
{%- set ns = namespace(current=none, converged=false, passes=0) -%}


{#- The passes run when the model is built; `dbt compile` (the portable-SQL guard) shows the first one. -#}
{%- set building = execute and flags.WHICH in ('run', 'build') -%}
{%- if building -%}
    {%- set start = identity_label_table(0) -%}
    {%- do adapter.drop_relation(start) -%}
    {%- do run_query(create_table_as(false, start,
        'select identifier_id as node_id, identifier_id as label from ' ~ ref('int_identity_nodes'))) -%}
    {%- set ns.current = start -%}
    {%- for pass_number in range(1, max_passes + 1) -%}
        {%- if not ns.converged -%}
            {%- set next = identity_label_table(pass_number) -%}
            {%- set pass_sql -%}
                with

                edges as ({{ edges_sql }}),

                labels as (select node_id, label from {{ ns.current }}),

                offered as (
                    select node_id, label from labels
                    union all
                    select edges.from_id as node_id, labels.label
                    from edges inner join labels on labels.node_id = edges.to_id
                    union all
                    select edges.to_id as node_id, labels.label
                    from edges inner join labels on labels.node_id = edges.from_id
                ),

                hooked as (
                    select node_id, min(label) as label from offered group by node_id
                )

                select hooked.node_id, least(hooked.label, coalesce(jumped.label, hooked.label)) as label
                from hooked
                left join hooked as jumped
                    on jumped.node_id = hooked.label
            {%- endset -%}
            {%- do adapter.drop_relation(next) -%}
            {%- do run_query(create_table_as(false, next, pass_sql)) -%}
            {%- set changed = run_query(
                'select count(*) from ' ~ next ~ ' as next_labels inner join ' ~ ns.current
                ~ ' as labels on labels.node_id = next_labels.node_id where labels.label <> next_labels.label'
            ).columns[0].values()[0] -%}
            {%- do adapter.drop_relation(ns.current) -%}
            {%- set ns.current = next -%}
            {%- set ns.passes = pass_number -%}
            {%- set ns.converged = (changed | int) == 0 -%}
        {%- endif -%}
    {%- endfor -%}
    {%- do log('identity components: ' ~ ns.passes ~ ' label passes, converged: ' ~ ns.converged, info=true) -%}
{%- endif %}

with

labels as (

    {% if building -%}
    select node_id, label from {{ ns.current }}
    {%- else -%}
    select identifier_id as node_id, identifier_id as label from {{ ref('int_identity_nodes') }}
    {%- endif %}

),

unconverged as (

    select count(*) as edges_across
    from ({{ edges_sql }}) as edges
    inner join labels as from_labels on from_labels.node_id = edges.from_id
    inner join labels as to_labels on to_labels.node_id = edges.to_id
    where from_labels.label <> to_labels.label

),

final as (

    select
        labels.node_id as identifier_id,
        case
            when unconverged.edges_across = 0 then labels.label
            else raise_error(
                'identity components did not converge in {{ max_passes }} label passes: raise var identity_label_max_passes'
            )
        end as component_id
    from labels
    cross join unconverged

)

select * from final
