{{ marts_kpi_model('month') }}
