"""The blocking asset check ``gx_raw__touches`` in-process on tiny hand-written touches files, and
``repurchase gx-docs``."""

from __future__ import annotations

from pathlib import Path

from dagster import AssetCheckSeverity, materialize

from core.paths import DataPaths
from dagster_project.assets.ingestion import build_ingestion_asset
from dagster_project.assets.raw_gates import build_raw_gate, gate_check_name
from dagster_project.resources import RunSettings, WarehouseResource

HEADER = "campaign_id,campaign_name,channel,variant,recipient_type,recipient,event_type,event_time\n"
# 4 good rows; newest event 2026-10-03 09:00.
GOOD = HEADER + (
    "C1,双十一,sms,A,phone,13812345678,sent,2026-10-01 10:00:00\n"
    "C1,双十一,sms,A,phone,13812345678,delivered,2026-10-01 10:00:05\n"
    "C1,双十一,sms,B,phone,13912345678,sent,2026-10-02 10:00:00\n"
    "C1,双十一,wecom,A,openid,oABC,clicked,2026-10-03 09:00:00\n"
)
# A channel no touch platform of the merchant has (the adapter keeps it, noted in _extra).
BAD_CHANNEL = HEADER + "C2,周年庆,fax,A,phone,13812345678,sent,2026-10-03 10:00:00\n"
# No event_time column at all: the whole file is rejected.
NO_TIME = "campaign_id,channel,recipient_type,recipient,event_type\nC3,sms,phone,13812345678,sent\n"


def _write(paths: DataPaths, name: str, text: str) -> None:
    path = paths.landing_for("touches") / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def _gate(paths: DataPaths, as_of: str | None = None, **config):
    result = materialize(
        [build_ingestion_asset("touches"), build_raw_gate("touches")],
        resources={
            "warehouse": WarehouseResource(data_dir=str(paths.root)),
            "run_settings": RunSettings(as_of=as_of),
        },
        run_config={"ops": {"raw__touches_gx_raw__touches": {"config": config}}} if config else None,
        raise_on_error=False,
    )
    [evaluation] = [
        e for e in result.get_asset_check_evaluations() if e.check_name == gate_check_name("touches")
    ]
    metadata = {k: getattr(v, "value", v) for k, v in evaluation.metadata.items()}
    return result, evaluation, metadata


def test_clean_file_passes(data_dir: DataPaths) -> None:
    _write(data_dir, "touches_good.csv", GOOD)
    result, evaluation, metadata = _gate(data_dir)
    assert result.success and evaluation.passed
    assert metadata["table rows"] == metadata["manifest rows loaded"] == metadata["validated rows"] == 4
    assert metadata["sampled"] is False
    assert metadata["freshness reference"] == "2026-10-03 09:00:00"
    assert metadata["fresh since"].startswith("2026-07-05 09:00:00 (90.0 days")
    assert metadata["expectations failed"] == 0


def test_failed_gate_fails_the_step_and_names_the_row(data_dir: DataPaths) -> None:
    _write(data_dir, "touches_good.csv", GOOD)
    _write(data_dir, "touches_bad_channel.csv", BAD_CHANNEL)
    result, evaluation, metadata = _gate(data_dir)
    assert not result.success  # the blocking check failed its step
    assert (evaluation.passed, evaluation.severity) == (False, AssetCheckSeverity.ERROR)
    assert "touches/touches_bad_channel.csv row 2: 'fax'" in metadata["failed expectations"]
    assert "expect_column_values_to_be_in_set on channel: 1 of 5 rows fail" in metadata["blocking problems"]


def test_rejected_file_in_landing_blocks(data_dir: DataPaths) -> None:
    _write(data_dir, "touches_good.csv", GOOD)
    _write(data_dir, "touches_no_time.csv", NO_TIME)
    result, evaluation, metadata = _gate(data_dir)
    assert (evaluation.passed, evaluation.severity) == (False, AssetCheckSeverity.ERROR)
    assert metadata["expectations failed"] == 0
    assert metadata["rejected files in landing"].startswith("- touches/touches_no_time.csv: ")
    # Removing the broken export lets the next run through.
    (data_dir.landing_for("touches") / "touches_no_time.csv").unlink()
    result, evaluation, _ = _gate(data_dir)
    assert result.success and evaluation.passed


def test_sampled_table_checks_count_and_freshness_exactly(data_dir: DataPaths) -> None:
    _write(data_dir, "touches_good.csv", GOOD)
    _, evaluation, metadata = _gate(data_dir, max_rows=2)
    assert evaluation.passed
    assert (metadata["sampled"], metadata["validated rows"], metadata["table rows"]) == (True, 2, 4)
    # Freshness judged on the SQL maximum: with as_of 2026-12-31 and 30 days, 2026-10-03 is stale.
    _, evaluation, metadata = _gate(data_dir, max_rows=2, as_of="2026-12-31", freshness_days=30)
    assert not evaluation.passed
    assert (
        "newest event_time 2026-10-03 09:00:00 is older than 2026-12-01 23:59:59"
        in metadata["blocking problems"]
    )


def test_empty_source_passes(data_dir: DataPaths) -> None:
    _, evaluation, metadata = _gate(data_dir)
    assert evaluation.passed and metadata["table rows"] == 0


def test_gx_docs_command_builds_the_site(data_dir: DataPaths, capsys) -> None:
    from dagster_project.cli import main

    assert main(["gx-docs"]) == 0
    index = data_dir.root / "gx" / "data_docs" / "index.html"
    assert index.is_file()
    assert str(index) in capsys.readouterr().out
    assert Path(index.parent / "expectations" / "raw__pos.html").is_file()


def test_old_validation_results_are_pruned(data_dir: DataPaths, monkeypatch) -> None:
    from quality import context as gx_context

    _write(data_dir, "touches_good.csv", GOOD)
    monkeypatch.setattr(gx_context, "KEEP_VALIDATION_RUNS", 2)
    suite_dir = gx_context.runtime_dir(data_dir) / "validations" / "raw__touches"
    runs = []
    for _ in range(3):
        _gate(data_dir)
        runs.append({p.name for p in suite_dir.glob("*/*") if p.is_dir()})
    assert [len(r) for r in runs] == [1, 2, 2]
    oldest = min(runs[1])
    assert oldest not in runs[2] and max(runs[1]) in runs[2]  # the oldest run went, the newer stayed
