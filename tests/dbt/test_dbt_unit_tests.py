"""Every dbt unit test in the project (hand-written rows for the identity, order, KPI, RFM, lifecycle and
campaign rules) runs here, so `make test` and CI check model logic, not only the pipeline's data tests.

dbt unit tests need their input relations to exist: the raw tables are created empty from the canonical
schemas and every model is built with ``--empty`` (zero rows) before ``dbt test --select test_type:unit``.
dbt runs in a child process (``transform.dbt.run_dbt``) because dbt-duckdb keeps its connection open in the
process that ran it.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from ingestion.schemas import create_raw_tables
from transform.dbt import run_dbt

# dbt on a warehouse: slow (not in `pytest -m "not e2e"`)
pytestmark = pytest.mark.e2e


def test_every_dbt_unit_test_passes(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    with duckdb.connect(str(data_dir / "warehouse.duckdb")) as con:
        create_raw_tables(con)
    target = tmp_path / "dbt" / "target"

    built = run_dbt(["run", "--empty"], data_dir=data_dir, target_path=target, check=False)
    assert built.success, f"dbt run --empty failed:\n{built.output[-4000:]}"

    tested = run_dbt(["test", "--select", "test_type:unit"], data_dir=data_dir, target_path=target, check=False)
    results = tested.results()
    failed = [f"{r['unique_id']}: {r['status']}: {r.get('message')}" for r in results if r["status"] != "pass"]
    assert tested.success and not failed, "\n".join(failed) or tested.output[-4000:]
    # The project has unit tests for every area; a selection that silently matched nothing must fail.
    assert len(results) >= 40, f"only {len(results)} unit tests ran"
