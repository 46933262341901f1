"""What the identity tests build with dbt (run through ``transform.dbt.run_dbt``)."""

from __future__ import annotations

# Every model the identity tests need, with its upstream (staging, unified orders).
IDENTITY_MARTS = "+dim_customers +customer_pii +customer_merges +identity_hubs +fct_order_lines"
