{#- Quarterly repurchase KPIs (marts_kpi_mart): the overall, channel and store rows kept incrementally by
    int_kpi_quarterly_cells, the rfm_segment rows (today's segments) by int_kpi_quarterly_segments. -#}
{{ marts_kpi_mart('quarter', ref('int_kpi_quarterly_cells'), ref('int_kpi_quarterly_segments')) }}
