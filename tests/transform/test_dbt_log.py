"""transform/dbt_log.py reads which node sent each SQL statement of a dbt debug log and how long it ran, where
two threads' lines interleave. The log below is hand-written in the shape dbt 1.11 writes (the real lines
were copied and cut); every expected figure is read off it by hand."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from core.paths import REPO_ROOT
from transform.dbt_log import report, short_node, statements

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


def test_statements_are_attributed_to_the_thread_that_sent_them() -> None:
    found = statements(LOG.splitlines())
    # four statements have a status line; the COMMIT at the end has none yet (a log cut mid-run), and thread
    # 2's second status follows no open statement of that thread (its BEGIN was closed): both are skipped
    assert [(s.seconds, s.node) for s in found] == [
        (0.58, "test.unique_dim_customers_customer_id"),
        (0.01, "model.dim_customers"),
        (3.19, "model.int_kpi_monthly_cells"),
        (0.19, "model.int_kpi_monthly_cells"),
    ]
    # the SQL of thread 1's create spans lines; thread 2's lines between do not enter it, the comment is gone
    assert found[2].sql == ('create temporary table "cells__dbt_tmp" as ( with purchases as (select * from '
                            '"warehouse"."marts"."repurchase_purchases") select * from purchases )')  # fmt: skip
    assert found[2].started == "05:05:17.310082"
    assert found[1].sql == "BEGIN"  # the debug line after it and its continuation are not SQL


def test_report_ranks_statements_and_sums_them_per_node() -> None:
    text = report(statements(LOG.splitlines()), top=2, width=20)
    lines = text.splitlines()
    assert lines[1].split()[:2] == ["3.19", "model.int_kpi_monthly_cells"]
    assert lines[1].endswith('create temporary tab')  # 20 characters of the statement
    assert lines[2].split()[:2] == ["0.58", "test.unique_dim_customers_customer_id"]
    assert len([line for line in lines[1:] if line.strip() and line.split()[0][0].isdigit()]) == 4  # 2 + 2 nodes
    per_node = lines[lines.index("") + 2 :]
    assert per_node[0].split() == ["3.38", "2", "model.int_kpi_monthly_cells"]  # 3.19 + 0.19
    assert per_node[1].split() == ["0.58", "1", "test.unique_dim_customers_customer_id"]
    assert lines[-1] == "SQL total 4.0 s in 4 statements of 3 nodes"
    one = report(statements(LOG.splitlines()), top=0, node="dim_customers").splitlines()
    assert one[1].split()[:2] == ["0.01", "model.dim_customers"] and one[-1].endswith("of 1 nodes")


def test_short_node_names() -> None:
    assert short_node("model.repurchase.dim_customers") == "model.dim_customers"
    assert short_node("test.repurchase.not_null_x_y.0f959786bf") == "test.not_null_x_y"


def test_the_script_explains_a_log_without_statements(tmp_path: Path) -> None:
    log = tmp_path / "dbt.log"
    log.write_text("05:04:55.400612 [info ] [MainThread]: Found 67 models\n", encoding="utf-8")
    completed = subprocess.run(
        [sys.executable, str(REPO_ROOT / "scripts" / "dbt_statements.py"), str(log)],
        capture_output=True, text=True, check=False, cwd=tmp_path,
    )  # fmt: skip
    assert completed.returncode == 1
    assert f"{log}: no statement with its time in it" in completed.stderr
    assert "--log-level-file debug" in completed.stderr
