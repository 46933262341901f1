{#- Quarterly repurchase KPIs (marts_kpi_model): the overall, channel and store rows kept incrementally by
    int_kpi_quarterly_cells, the rfm_segment rows recomputed (today's segments). -#}
{{ marts_kpi_model('quarter', ['rfm_segment'], cells=ref('int_kpi_quarterly_cells')) }}
