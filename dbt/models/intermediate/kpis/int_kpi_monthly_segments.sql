{{ config(materialized=incremental_materialization()) }}

{#- The rfm_segment rows of kpi_monthly as additive parts, grouped by each customer's segment now; incremental
    by period and by the customers whose segment changed (see _kpis__models.yml); kpi_monthly computes the
    rates. -#}
{{ marts_kpi_model('month', ['rfm_segment'], sums=true) }}
