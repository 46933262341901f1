{{ marts_kpi_model('quarter') }}
