"""The model-level ``not_null_columns`` test (dbt/macros/test_not_null_columns.sql) that holds each model's
not-null checks in one node: it passes on the refreshed demo, and on nulls put into chosen rows by hand it
fails with one row per column holding nulls and the count of those rows; a null in a row outside the last
build (the ``where: "__last_build__"`` of its folder) is not counted.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from tests.helpers.refreshed_demo import copy_data_dir
from transform.dbt import run_dbt

pytestmark = pytest.mark.e2e

SELECT = ["--select", "int_orders_unioned,test_name:not_null_columns"]


def _outcome(data_dir: Path, target: Path) -> tuple[str, int, set[tuple[str, int]]]:
    """Status and failure count of int_orders_unioned's not_null_columns test, and the rows it returned
    (stored by ``--store-failures``)."""
    run = run_dbt(["test", *SELECT, "--store-failures"], data_dir=data_dir, target_path=target, check=False)
    (result,) = run.results()
    with duckdb.connect(str(data_dir / "warehouse.duckdb"), read_only=True) as con:
        rows = con.execute(f"select column_name, null_rows from {result['relation_name']}").fetchall()
    return result["status"], result["failures"] or 0, {(column, int(count)) for column, count in rows}


def test_not_null_columns_names_each_column_with_nulls(refreshed_demo, tmp_path: Path) -> None:
    paths = copy_data_dir(refreshed_demo, tmp_path / "data")
    target = tmp_path / "target"
    assert _outcome(paths.root, target) == ("pass", 0, set())

    with duckdb.connect(str(paths.root / "warehouse.duckdb")) as con:
        keys = [key for (key,) in con.execute(
            "select order_key from intermediate.int_orders_unioned order by order_key limit 6"
        ).fetchall()]
        # two rows lose gross_amount, three lose ordered_at (one of them also gross_amount: counted in both)
        con.execute("update intermediate.int_orders_unioned set gross_amount = null where order_key in (?, ?)",
                    keys[:2])
        con.execute("update intermediate.int_orders_unioned set ordered_at = null where order_key in (?, ?, ?)",
                    keys[1:4])
        # a null in a row another build wrote is outside the check (where: "__last_build__")
        con.execute(
            "update intermediate.int_orders_unioned set net_amount = null, "
            "_built_at = _built_at - interval 1 day where order_key = ?",
            [keys[5]],
        )
    assert _outcome(paths.root, target) == ("fail", 2, {("gross_amount", 2), ("ordered_at", 3)})

