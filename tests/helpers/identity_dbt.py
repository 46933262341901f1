"""Run the repository's dbt project in-process against a test data directory."""

from __future__ import annotations

import os
from pathlib import Path

from dbt.cli.main import dbtRunner

from core.paths import DATA_DIR_ENV

DBT_DIR = Path(__file__).resolve().parents[2] / "dbt"

# Every model the identity tests need, with its upstream (staging, unified orders).
IDENTITY_MARTS = "+dim_customers +customer_pii +customer_merges +identity_hubs +fct_order_lines"


def run_dbt(args: list[str], data_dir: Path, work_dir: Path) -> None:
    """Invoke dbt with the repo's project and profile; raise with dbt's message when it fails."""
    full = [
        *args,
        "--project-dir", str(DBT_DIR),
        "--profiles-dir", str(DBT_DIR),
        "--target-path", str(work_dir / "target"),
        "--log-path", str(work_dir / "logs"),
    ]
    saved = os.environ.get(DATA_DIR_ENV)
    os.environ[DATA_DIR_ENV] = str(data_dir)
    try:
        result = dbtRunner().invoke(full)
    finally:
        if saved is None:
            os.environ.pop(DATA_DIR_ENV, None)
        else:
            os.environ[DATA_DIR_ENV] = saved
    if not result.success:
        failures = []
        for node_result in getattr(result.result, "results", None) or []:
            if node_result.status not in ("success", "pass"):
                failures.append(f"{node_result.node.name}: {node_result.status}: {node_result.message}")
        raise AssertionError(f"dbt {' '.join(args)} failed: {result.exception or failures}")
