"""`repurchase report`: draws the current serving version's report on demand (into the version folder,
replaced by a rename and read-only like the marts beside it, or to --out); one clear line without a
serving copy."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from dagster_project.cli import main
from reporting.html_report import REPORT_FILE
from serving.publish import VERSIONS_DIR
from tests.helpers.refreshed_demo import copy_data_dir


@pytest.mark.e2e
def test_report_command_writes_the_current_versions_report(
    refreshed_demo, tmp_path: Path, monkeypatch
) -> None:
    paths = copy_data_dir(refreshed_demo, tmp_path / "data")
    monkeypatch.setenv("REPURCHASE_DATA_DIR", str(paths.root))
    report = paths.serving / VERSIONS_DIR / refreshed_demo.serving_version / REPORT_FILE
    before = report.stat().st_ino
    assert main(["report"]) == 0
    assert report.stat().st_ino != before, "replaced by a rename, never written in place"
    assert not report.stat().st_mode & stat.S_IWUSR
    out = tmp_path / "elsewhere.html"
    assert main(["report", "--out", str(out)]) == 0
    assert out.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")


def test_report_command_without_a_serving_copy_says_what_to_do(data_dir, capsys) -> None:
    assert main(["report"]) == 1
    out = capsys.readouterr().out
    assert out.startswith("ERROR: no serving copy under") and "repurchase run" in out
    assert "Traceback" not in out
