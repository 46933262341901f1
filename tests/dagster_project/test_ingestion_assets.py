"""The ingestion asset of one source, materialized in-process on tiny hand-written files."""

from __future__ import annotations

from pathlib import Path

import duckdb
from dagster import AssetCheckSeverity, AssetKey, materialize

from core.paths import DataPaths
from dagster_project.assets.ingestion import build_ingestion_asset
from dagster_project.resources import WarehouseResource

HEADER = "campaign_id,campaign_name,channel,variant,recipient_type,recipient,event_type,event_time\n"
# 5 data rows: 2 good; 3 quarantined (unknown event type, empty campaign id, unreadable time).
TOUCHES_A = HEADER + (
    "C1,双十一,sms,A,phone,13812345678,sent,2026-10-01 10:00:00\n"
    "C1,双十一,sms,A,phone,13812345678,delivered,2026-10-01 10:00:05\n"
    "C1,双十一,sms,B,phone,13912345678,teleported,2026-10-01 10:00:00\n"
    ",双十一,sms,B,phone,13912345678,sent,2026-10-01 10:00:00\n"
    "C1,双十一,wecom,A,openid,oABC,clicked,not a time\n"
)
# No event_time column at all: the whole file is rejected.
TOUCHES_B = "campaign_id,channel,recipient_type,recipient,event_type\nC2,sms,phone,13812345678,sent\n"


def _write(paths: DataPaths, name: str, text: str) -> Path:
    path = paths.landing_for("touches") / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def _materialize(paths: DataPaths):
    result = materialize(
        [build_ingestion_asset("touches")],
        resources={"warehouse": WarehouseResource(data_dir=str(paths.root))},
    )
    assert result.success
    [materialization] = result.asset_materializations_for_node("raw__touches")
    [check] = result.get_asset_check_evaluations()
    return {k: v.value for k, v in materialization.metadata.items()}, check


def test_loads_rows_quarantines_bad_ones_and_reports_a_rejected_file(data_dir: DataPaths) -> None:
    _write(data_dir, "touches_a.csv", TOUCHES_A)
    _write(data_dir, "touches_b.csv", TOUCHES_B)

    metadata, check = _materialize(data_dir)

    assert metadata["new files"] == 2
    assert metadata["files already loaded"] == 0
    assert metadata["files rejected"] == 1
    assert metadata["rows loaded"] == 2
    assert metadata["rows quarantined"] == 3
    assert metadata["dagster/row_count"] == 2
    assert "touches/touches_a.csv | loaded | 5 | 2 | 3 |" in metadata["files"]
    assert "touches/touches_b.csv | rejected | 0 | 0 | 0 |" in metadata["files"]
    [rejected] = metadata["rejected files"]
    assert rejected["file"] == "touches/touches_b.csv"
    assert "event_time" in rejected["message"] or "事件时间" in rejected["message"]
    assert "touches/touches_b.csv" in metadata["rejections"]
    # The rejection fails the asset's warning-level check but not the asset.
    assert check.asset_key == AssetKey(["raw", "touches"])
    assert check.check_name == "no_rejected_files"
    assert not check.passed
    assert check.severity == AssetCheckSeverity.WARN

    con = duckdb.connect(str(data_dir.warehouse), read_only=True)
    try:
        assert con.execute("select count(*) from raw.touches").fetchone()[0] == 2
        assert con.execute("select count(*) from raw._quarantine").fetchone()[0] == 3
    finally:
        con.close()


def test_loading_again_adds_nothing(data_dir: DataPaths) -> None:
    _write(data_dir, "touches_a.csv", TOUCHES_A)
    _materialize(data_dir)

    metadata, check = _materialize(data_dir)

    assert metadata["new files"] == 0
    assert metadata["files already loaded"] == 1
    assert metadata["rows loaded"] == 0
    assert metadata["rows quarantined"] == 0
    assert metadata["dagster/row_count"] == 2
    assert metadata["rejections"] == "no file rejected"
    assert check.passed


def test_empty_landing_folder_loads_nothing(data_dir: DataPaths) -> None:
    metadata, check = _materialize(data_dir)
    assert metadata["new files"] == 0
    assert metadata["rows loaded"] == 0
    assert metadata["dagster/row_count"] == 0
    assert "(no files in the landing folder)" in metadata["files"]
    assert check.passed
