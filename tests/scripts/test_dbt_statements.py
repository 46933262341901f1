"""scripts/dbt_statements.py, run as a person would on a dbt debug log: the hand-written log of
tests/helpers/dbt_debug_log.py (its figures read off by hand in tests/transform/test_dbt_log.py), and a log
without statements."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from core.paths import REPO_ROOT
from tests.helpers.bench_scripts import run_script
from tests.helpers.dbt_debug_log import LOG


def test_the_script_prints_the_slowest_statements(tmp_path: Path) -> None:
    log = tmp_path / "dbt.log"
    log.write_text(LOG, encoding="utf-8")
    lines = run_script("dbt_statements.py", str(log), "--top", "1", "--width", "12", cwd=tmp_path).splitlines()
    assert lines[1].split() == ["3.19", "model.int_kpi_monthly_cells", "create", "tempo"]  # 12 characters
    assert lines[4].split() == ["3.38", "2", "model.int_kpi_monthly_cells"]
    assert lines[-1] == "SQL total 4.0 s in 4 statements of 3 nodes"


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
