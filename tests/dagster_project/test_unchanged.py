"""``repurchase run`` with nothing new does not run (dagster_project/unchanged.py): on a copy of the
session's refreshed demo, recorded as the last good run, ``repurchase run`` prints that run's summary,
starts no Dagster run and touches neither the warehouse nor the serving copy; each kind of change (a new
export, another as_of, code, a setting, a feed going stale, another writer, another serving version)
makes it run again. The CLI records a good run and forgets it after a failed one (the run itself faked:
what is tested is the wiring, not Dagster)."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pytest

from core.paths import DATA_DIR_ENV, DataPaths
from dagster_project import cli, unchanged
from dagster_project.outcome import RunOutcome
from tests.helpers.refreshed_demo import RefreshedDemo, copy_data_dir

pytestmark = pytest.mark.e2e


@pytest.fixture
def recorded(refreshed_demo: RefreshedDemo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> DataPaths:
    """A copy of the refreshed demo whose run is recorded as the last good run of the CLI."""
    paths = copy_data_dir(refreshed_demo, tmp_path / "data")
    monkeypatch.setenv(DATA_DIR_ENV, str(paths.root))
    monkeypatch.setenv("DAGSTER_HOME", str(paths.dagster_home))
    before = unchanged.inputs_before_run(paths, None)
    unchanged.record_good_run(paths, before, run_id=refreshed_demo.outcome.run_id, checks_passed=7)
    return paths


def test_a_run_with_nothing_new_prints_the_last_good_run(
    recorded: DataPaths, refreshed_demo: RefreshedDemo, capsys: pytest.CaptureFixture[str]
) -> None:
    warehouse_mtime = recorded.warehouse.stat().st_mtime_ns
    serving = sorted(p.name for p in (recorded.serving / "versions").iterdir())
    dagster_storage = _files_state(recorded.dagster_home / "storage")  # the demo's run is recorded there
    assert dagster_storage

    assert cli.main(["run"]) == 0

    out = capsys.readouterr().out
    assert f"Nothing to do: no new or changed file in {recorded.landing}" in out
    assert f"last good run {refreshed_demo.outcome.run_id}" in out
    assert "Checks: 7 passed, 0 failed" in out
    # The summary counts what the manifest holds: every file of the demo loaded, none new this time.
    pos = next(line for line in out.splitlines() if line.strip().startswith("pos "))
    assert pos.split()[1:3] == ["0", str(len(refreshed_demo.truth.files["pos"]))]
    assert "Marts: schema `marts`" in out
    # No Dagster run, and nothing written.
    assert _files_state(recorded.dagster_home / "storage") == dagster_storage
    assert recorded.warehouse.stat().st_mtime_ns == warehouse_mtime
    assert sorted(p.name for p in (recorded.serving / "versions").iterdir()) == serving


def _files_state(root: Path) -> dict[str, tuple[int, int]]:
    """Size and modification time of every file under ``root``."""
    return {
        str(path.relative_to(root)): (path.stat().st_size, path.stat().st_mtime_ns)
        for path in root.rglob("*")
        if path.is_file()
    }


def _unchanged(paths: DataPaths, as_of: str | None = None) -> bool:
    return unchanged.unchanged_since_good_run(paths, unchanged.current_inputs(paths, as_of)) is not None


def test_every_kind_of_change_makes_it_run(
    recorded: DataPaths, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    assert _unchanged(recorded)
    assert not _unchanged(recorded, as_of="2026-10-30")

    with monkeypatch.context() as patch:  # a setting of the deployment: another hash key
        patch.setenv("REPURCHASE_HASH_KEY", "another-key-for-this-deployment")
        assert not _unchanged(recorded)
    with monkeypatch.context() as patch:  # a changed file of the code or the dbt project
        code = tmp_path / "model.sql"
        code.write_text("select 1", encoding="utf-8")
        files = unchanged._code_files()
        patch.setattr(unchanged, "_code_files", lambda: [*files, code])
        patch.setattr(unchanged, "REPO_ROOT", Path("/"))
        assert not _unchanged(recorded)
    with monkeypatch.context() as patch:  # 60 days on without a file, the order feeds turn stale
        later = dt.datetime.now(dt.UTC).replace(tzinfo=None) + dt.timedelta(days=60)
        patch.setattr("quality.raw_frames.utc_now", lambda: later)
        assert not _unchanged(recorded)
    assert _unchanged(recorded)

    # Another writer of the warehouse (a run from the UI, a backfill) since the recorded run.
    stat = recorded.warehouse.stat()
    os.utime(recorded.warehouse, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))
    assert not _unchanged(recorded)
    os.utime(recorded.warehouse, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert _unchanged(recorded)

    # A new export in landing/ (and, separately, one file touched again).
    export = next((recorded.landing / "pos").iterdir())
    (recorded.landing / "pos" / "pos_sales_2026-11.csv").write_bytes(export.read_bytes())
    assert not _unchanged(recorded)
    (recorded.landing / "pos" / "pos_sales_2026-11.csv").unlink()
    assert _unchanged(recorded)
    os.utime(export, ns=(export.stat().st_atime_ns, export.stat().st_mtime_ns + 1_000_000))
    assert not _unchanged(recorded)


def test_no_record_means_a_run(recorded: DataPaths) -> None:
    unchanged.forget_good_run(recorded)
    assert not _unchanged(recorded)


def test_the_cli_records_a_good_run_and_forgets_a_failed_one(
    recorded: DataPaths, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from dagster_project import runner

    outcomes = iter([
        RunOutcome(run_id="run-good", success=True, failed_steps={}, loads={}, checks_passed=3, checks_failed=[]),
        RunOutcome(run_id="run-bad", success=False, failed_steps={"dbt_models": "boom"}, loads={},
                   checks_passed=0, checks_failed=[]),
    ])  # fmt: skip
    monkeypatch.setattr(runner, "run_refresh_all", lambda instance, **kwargs: next(outcomes))
    monkeypatch.setattr(cli, "print_run_summary", lambda *args, **kwargs: None)

    assert cli.main(["run", "--force"]) == 0  # runs although nothing changed, and records it
    assert cli.main(["run"]) == 0
    assert "last good run run-good" in capsys.readouterr().out

    assert cli.main(["run", "--force"]) == 1  # a failed run: the next one must run
    assert not (recorded.dagster_home / unchanged.STATE_FILE).exists()
    assert unchanged.unchanged_since_good_run(recorded, unchanged.current_inputs(recorded, None)) is None
