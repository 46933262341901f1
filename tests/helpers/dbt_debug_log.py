"""A dbt debug log, hand-written in the shape dbt 1.11 writes it (real lines copied and cut): two threads
interleaving, a statement spanning lines, a debug line and its continuation that are not SQL, a status line
no open statement of its thread waits for, and a statement cut off before its status (a log read mid-run).
Read by tests/transform/test_dbt_log.py and tests/scripts/test_dbt_statements.py."""

LOG = """\
05:04:55.400612 [info ] [MainThread]: Found 67 models, 168 data tests, 14 sources
05:05:17.302000 [debug] [Thread-1 (]: Began executing node model.repurchase.int_kpi_monthly_cells
05:05:17.310082 [debug] [Thread-1 (]: On model.repurchase.int_kpi_monthly_cells: /* {"app": "dbt", "node_id": "model.repurchase.int_kpi_monthly_cells"} */

  create temporary table "cells__dbt_tmp" as (
    with purchases as (select * from "warehouse"."marts"."repurchase_purchases")
    select * from purchases
  )
05:05:17.320000 [debug] [Thread-2 (]: On test.repurchase.unique_dim_customers_customer_id.1a2b3c4d5e: select count(*) as failures
from (select customer_id from "warehouse"."marts"."dim_customers" group by 1 having count(*) > 1) dbt_internal_test
05:05:17.900000 [debug] [Thread-2 (]: SQL status: OK in 0.580 seconds
05:05:18.000000 [debug] [Thread-2 (]: Using duckdb connection "model.repurchase.dim_customers"
05:05:18.010000 [debug] [Thread-2 (]: On model.repurchase.dim_customers: BEGIN
05:05:18.020000 [debug] [Thread-2 (]: SQL status: OK in 0.010 seconds
05:05:18.030000 [debug] [Thread-2 (]: Opening a new connection, currently in state open
  (a continuation of a line that is not a statement)
05:05:20.499421 [debug] [Thread-1 (]: SQL status: OK in 3.190 seconds
05:05:20.500000 [debug] [Thread-2 (]: SQL status: OK in 9.999 seconds
05:05:20.507554 [debug] [Thread-1 (]: On model.repurchase.int_kpi_monthly_cells: delete from "warehouse"."intermediate"."int_kpi_monthly_cells" where period_start in (select period_start from "cells__dbt_tmp")
05:05:20.700000 [debug] [Thread-1 (]: SQL status: OK in 0.190 seconds
05:05:20.710000 [debug] [Thread-1 (]: On model.repurchase.int_kpi_monthly_cells: COMMIT
"""
