"""transform/dbt_log.py reads which node sent each SQL statement of a dbt debug log and how long it ran, where
two threads' lines interleave. The log (tests/helpers/dbt_debug_log.py) is hand-written in the shape dbt
1.11 writes; every expected figure is read off it by hand."""

from __future__ import annotations

from tests.helpers.dbt_debug_log import LOG
from transform.dbt_log import report, short_node, statements


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

