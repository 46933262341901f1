"""End to end on tiny hand-written touches files: a broken export blocks the raw gate, the failure says
what to type, ``repurchase set-aside`` sets the file aside, and the next run (the ingestion asset and the
gate, in-process) passes; the CLI summary prints the failed check's problems and remedies; the
full-refresh marker turns the next ``run_refresh_all`` into a full refresh once."""

from __future__ import annotations

import sys
import types

import duckdb
import pytest
from dagster import (
    DagsterInstance,
    Definitions,
    asset,
    define_asset_job,
    in_process_executor,
    materialize,
)

from core.paths import DataPaths, data_paths
from dagster_project.assets.ingestion import build_ingestion_asset
from dagster_project.assets.raw_gates import build_raw_gate, gate_check_name
from dagster_project.cli import failed_check_details, main, print_run_summary
from dagster_project.resources import RunSettings, WarehouseResource
from dagster_project.runner import RunOutcome, run_refresh_all
from ingestion.set_aside import FULL_REFRESH_MARKER, full_refresh_once

HEADER = "campaign_id,campaign_name,channel,variant,recipient_type,recipient,event_type,event_time\n"
GOOD = HEADER + (
    "C1,双十一,sms,A,phone,13812345678,sent,2026-10-01 10:00:00\n"
    "C1,双十一,sms,A,phone,13812345678,delivered,2026-10-01 10:00:05\n"
)
# No event_time column: rejected whole.
NO_TIME = "campaign_id,channel,recipient_type,recipient,event_type\nC3,sms,phone,13812345678,sent\n"
# Row 2 loads; rows 3 and 4 carry event types no platform reports and are quarantined: 2 of 3 > 50%.
MOSTLY_BAD = HEADER + (
    "C2,周年庆,sms,A,phone,13912345678,sent,2026-10-02 10:00:00\n"
    "C2,周年庆,sms,A,phone,13912345678,beamed,2026-10-02 10:00:01\n"
    "C2,周年庆,sms,A,phone,13912345678,teleported,2026-10-02 10:00:02\n"
)
CHECK = gate_check_name("touches")


def _land(paths: DataPaths, name: str, text: str) -> None:
    folder = paths.landing_for("touches")
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text(text, encoding="utf-8")


def _run(paths: DataPaths, instance: DagsterInstance | None = None):
    """The next run of touches: its ingestion asset and its gate, in-process."""
    result = materialize(
        [build_ingestion_asset("touches"), build_raw_gate("touches")],
        resources={"warehouse": WarehouseResource(data_dir=str(paths.root))},
        instance=instance,
        raise_on_error=False,
    )
    [evaluation] = [e for e in result.get_asset_check_evaluations() if e.check_name == CHECK]
    metadata = {k: getattr(v, "value", v) for k, v in evaluation.metadata.items()}
    return result, evaluation, metadata


def _query(paths: DataPaths, sql: str) -> list[tuple]:
    with duckdb.connect(str(paths.warehouse), read_only=True) as con:
        return con.execute(sql).fetchall()


def test_rejected_file_blocks_then_set_aside_lets_the_next_run_pass(data_dir: DataPaths, capsys) -> None:
    _land(data_dir, "good.csv", GOOD)
    _land(data_dir, "no_time.csv", NO_TIME)
    result, evaluation, metadata = _run(data_dir)
    assert not result.success and not evaluation.passed
    command = 'repurchase set-aside touches/no_time.csv --reason "<why>"'
    assert metadata["blocking problems"].endswith(f"`{command}`; then `repurchase run`")

    reason = "platform export without event times; re-export requested"
    assert main(["set-aside", "touches/no_time.csv", "--reason", reason]) == 0
    printed = capsys.readouterr().out
    assert (
        "Set aside touches/no_time.csv: moved to "
        f"{data_dir.landing_for('touches') / '_set_aside' / 'no_time.csv'}"
        in (printed)
    )
    assert printed.rstrip().endswith("Next: `repurchase run`")

    result, evaluation, metadata = _run(data_dir)
    assert result.success and evaluation.passed
    assert metadata["rejected files in landing"] == "none"
    assert (data_dir.landing_for("touches") / "_set_aside" / "no_time.csv").is_file()
    assert not (data_dir.landing_for("touches") / "no_time.csv").exists()
    assert _query(data_dir, "select file_name, status, set_aside_reason from raw._files order by 1") == [
        ("touches/good.csv", "loaded", None),
        ("touches/no_time.csv", "set_aside", reason),
    ]
    assert not (data_dir.root / FULL_REFRESH_MARKER).exists()  # a rejected file had no raw rows


def test_over_quarantined_file_set_aside_takes_its_raw_rows_with_it(data_dir: DataPaths) -> None:
    _land(data_dir, "good.csv", GOOD)
    _land(data_dir, "mostly_bad.csv", MOSTLY_BAD)
    result, evaluation, metadata = _run(data_dir)
    assert not result.success and not evaluation.passed
    [problem] = metadata["blocking problems"].splitlines()
    assert problem.startswith("- touches/mostly_bad.csv: 2 of 3 rows quarantined (more than 50%")
    assert "first: row 3: event_type: unknown event type; row 4: event_type: unknown event type" in problem
    assert "): loaded 1 rows, quarantined 2 (event_type: unknown event type ×2). Remedy: " in problem
    assert problem.endswith(
        '`repurchase set-aside touches/mostly_bad.csv --reason "<why>"`; then `repurchase run`'
    )
    assert _query(
        data_dir, "select count(*) from raw.touches where _file_name = 'touches/mostly_bad.csv'"
    ) == [(1,)]

    assert main(["set-aside", "touches/mostly_bad.csv", "--reason", "test platform"]) == 0

    result, evaluation, _ = _run(data_dir)
    assert result.success and evaluation.passed
    assert _query(data_dir, "select distinct _file_name from raw.touches") == [("touches/good.csv",)]
    assert _query(data_dir, "select count(*) from raw._quarantine") == [(0,)]
    assert (
        (data_dir.root / FULL_REFRESH_MARKER)
        .read_text(encoding="utf-8")
        .endswith(
            "touches/mostly_bad.csv set aside, 1 rows deleted from raw.touches (reason: test platform)\n"
        )
    )


def test_set_aside_of_a_missing_file_says_what_is_there(data_dir: DataPaths, capsys) -> None:
    _land(data_dir, "good.csv", GOOD)
    assert main(["set-aside", "touches/gone.csv", "--reason", "x"]) == 2
    assert (
        "ERROR: no file landing/touches/gone.csv: nothing was changed. Files of landing/touches/: "
        "touches/good.csv" in capsys.readouterr().out
    )


def test_cli_summary_prints_the_failed_checks_problems_and_remedies(data_dir: DataPaths, capsys) -> None:
    _land(data_dir, "good.csv", GOOD)
    _land(data_dir, "no_time.csv", NO_TIME)
    with DagsterInstance.ephemeral() as instance:
        result, _, _ = _run(data_dir, instance)
        details = failed_check_details(instance, result.run_id)
    failed = [f"raw/touches {CHECK} (ERROR)", "raw/touches no_rejected_files (WARN)"]
    outcome = RunOutcome(result.run_id, False, {}, {}, checks_passed=0, checks_failed=failed)
    print_run_summary(data_dir, outcome, details)
    lines = capsys.readouterr().out.splitlines()
    at = lines.index(f"  failed: raw/touches {CHECK} (ERROR)")
    problem = lines[at + 1]
    assert problem.startswith("    - 1 rejected file(s) still in landing/touches/")
    assert "touches/no_time.csv: " in problem
    assert problem.endswith(
        '`repurchase set-aside touches/no_time.csv --reason "<why>"`; then `repurchase run`'
    )
    assert lines[at + 2] == "  failed: raw/touches no_rejected_files (WARN)"


# ----------------------------------------------------------------------------- the full-refresh marker
@pytest.fixture
def probe_definitions(monkeypatch):
    """``dagster_project.definitions`` replaced by a one-asset job ``refresh_all`` whose asset does what
    the dbt step does with the marker (``full_refresh_once``) and records whether it rebuilt (and fails
    when told to), so ``run_refresh_all`` runs without dbt."""
    seen: list[bool] = []
    fail: list[bool] = [False]

    @asset(required_resource_keys={"run_settings"})
    def probe(context) -> None:  # no annotations: this module has `from __future__ import annotations`
        with full_refresh_once(data_paths()) as marker:
            seen.append(context.resources.run_settings.full_refresh or marker is not None)
            if fail[0]:
                raise RuntimeError("the run failed")

    module = types.ModuleType("dagster_project.definitions")
    module.defs = Definitions(
        assets=[probe],
        jobs=[define_asset_job("refresh_all", executor_def=in_process_executor)],
        resources={"run_settings": RunSettings()},
    )
    monkeypatch.setitem(sys.modules, "dagster_project.definitions", module)
    return seen, fail


def test_marker_makes_the_next_run_a_full_refresh_once(data_dir: DataPaths, probe_definitions) -> None:
    seen, fail = probe_definitions
    marker = data_dir.root / FULL_REFRESH_MARKER
    marker.write_text("2026-12-01 12:00:00 UTC: touches/x.csv set aside, 1 rows deleted from raw.touches\n")
    printed: list[str] = []
    with DagsterInstance.ephemeral() as instance:
        fail[0] = True  # a failed run keeps the marker: the next one rebuilds
        assert not run_refresh_all(instance, out=printed.append).success
        assert marker.is_file()
        fail[0] = False
        assert run_refresh_all(instance, out=printed.append).success
        assert not marker.exists()
        assert run_refresh_all(instance, out=printed.append).success
    assert seen == [True, True, False]
    assert printed[0].startswith("Rebuilding the incremental models from all history once")
    assert printed[1] == "  2026-12-01 12:00:00 UTC: touches/x.csv set aside, 1 rows deleted from raw.touches"
