{{ config(materialized=incremental_materialization()) }}

{#- The monthly KPI rows of overall, channel and store, incremental by period (see _kpis__models.yml);
    kpi_monthly adds the rfm_segment rows, store names and touch conversion. -#}
{{ marts_kpi_model('month', marts_kpi_period_dimensions()) }}
