"""The persistent Dagster instance under ``<data dir>/dagster_home`` shared by the CLI and the UI."""

from __future__ import annotations

import os
from pathlib import Path

from core.paths import DATA_DIR_ENV, DataPaths

# One run at a time: every run writes to the same single-writer DuckDB file.
DAGSTER_YAML = """\
# Written by `repurchase` on first use. Runs queue one at a time: they all write to one DuckDB file.
concurrency:
  runs:
    max_concurrent_runs: 1
telemetry:
  enabled: false
"""


def prepare_environment(paths: DataPaths) -> Path:
    """Point this process (and the dbt / dagster processes it starts) at ``paths``: an absolute
    ``REPURCHASE_DATA_DIR`` and ``DAGSTER_HOME`` (created, with its ``dagster.yaml`` when missing).
    Returns the Dagster home."""
    home = paths.dagster_home
    home.mkdir(parents=True, exist_ok=True)
    config = home / "dagster.yaml"
    if not config.exists():
        config.write_text(DAGSTER_YAML, encoding="utf-8")
    os.environ[DATA_DIR_ENV] = str(paths.root)
    os.environ["DAGSTER_HOME"] = str(home)
    return home
