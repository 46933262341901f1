"""Every dbt unit test in the project (hand-written rows for the identity, order, KPI, RFM, lifecycle and
campaign rules) runs here, so `make test` and CI check model logic, not only the pipeline's data tests.

dbt unit tests need their input relations to exist: the raw tables are created empty from the canonical
schemas and every model is built with ``--empty`` (zero rows) before ``dbt test --select test_type:unit``.
dbt runs in a child process because dbt-duckdb keeps its connection open in the process that ran it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import duckdb

from ingestion.schemas import create_raw_tables

DBT_DIR = Path(__file__).resolve().parents[2] / "dbt"


def _dbt(args: list[str], data_dir: Path, work_dir: Path) -> subprocess.CompletedProcess[str]:
    dbt = Path(sys.executable).parent / "dbt"
    env = {**os.environ, "REPURCHASE_DATA_DIR": str(data_dir)}
    return subprocess.run(
        [str(dbt), *args, "--project-dir", str(DBT_DIR), "--profiles-dir", str(DBT_DIR),
         "--target-path", str(work_dir / "target"), "--log-path", str(work_dir / "logs"), "--no-use-colors"],
        env=env, capture_output=True, text=True, check=False,
    )


def test_every_dbt_unit_test_passes(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    with duckdb.connect(str(data_dir / "warehouse.duckdb")) as con:
        create_raw_tables(con)

    built = _dbt(["run", "--empty"], data_dir, tmp_path / "dbt")
    assert built.returncode == 0, f"dbt run --empty failed:\n{built.stdout[-4000:]}"

    tested = _dbt(["test", "--select", "test_type:unit"], data_dir, tmp_path / "dbt")
    results = json.loads((tmp_path / "dbt" / "target" / "run_results.json").read_text())["results"]
    failed = [f"{r['unique_id']}: {r['status']}: {r.get('message')}" for r in results if r["status"] != "pass"]
    assert tested.returncode == 0 and not failed, "\n".join(failed) or tested.stdout[-4000:]
    # The project has unit tests for every area; a selection that silently matched nothing must fail.
    assert len(results) >= 40, f"only {len(results)} unit tests ran"
