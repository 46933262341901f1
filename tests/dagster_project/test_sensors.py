"""The landing sensor: cursor of (size, mtime) per file, runs for changed sources and their downstream."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest
from dagster import AssetKey, AssetSelection, asset, build_sensor_context, define_asset_job

from core.paths import DataPaths
from dagster_project.assets.ingestion import ingestion_assets, raw_asset_key
from dagster_project.resources import WarehouseResource
from dagster_project.sensors import build_landing_sensor


@asset(key=["staging", "stg_pos__lines"], deps=[raw_asset_key("pos")])
def stg_pos__lines() -> None: ...


@asset(key=["marts", "fct_orders"], deps=[AssetKey(["staging", "stg_pos__lines"]), raw_asset_key("tmall")])
def fct_orders() -> None: ...


ASSETS = [*ingestion_assets, stg_pos__lines, fct_orders]
JOB = define_asset_job("refresh_all", selection=AssetSelection.all())


def _land(paths: DataPaths, relative: str, content: bytes, *, age_seconds: float = 60.0) -> Path:
    path = paths.landing / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    settled = time.time() - age_seconds
    os.utime(path, (settled, settled))
    return path


def _tick(paths: DataPaths, cursor: str | None, settle_seconds: float = 5.0):
    sensor = build_landing_sensor(JOB, ASSETS, settle_seconds=settle_seconds)
    context = build_sensor_context(
        cursor=cursor, resources={"warehouse": WarehouseResource(data_dir=str(paths.root))}
    )
    return sensor.evaluate_tick(context)


def test_no_run_when_landing_is_empty(data_dir: DataPaths) -> None:
    result = _tick(data_dir, None)
    assert result.run_requests == []
    assert result.skip_message
    assert result.cursor is None


def test_file_landing_requests_its_source_and_downstream_then_nothing(data_dir: DataPaths) -> None:
    path = _land(data_dir, "pos/pos_2026-10.csv", b"12345")
    first = _tick(data_dir, None)
    assert len(first.run_requests) == 1
    request = first.run_requests[0]
    assert set(request.asset_selection) == {
        AssetKey(["raw", "pos"]),
        AssetKey(["staging", "stg_pos__lines"]),
        AssetKey(["marts", "fct_orders"]),
    }
    assert request.tags["repurchase/sources"] == "pos"
    stat = path.stat()
    assert json.loads(first.cursor) == {"pos/pos_2026-10.csv": [5, stat.st_mtime_ns]}

    second = _tick(data_dir, first.cursor)
    assert second.run_requests == []
    assert second.cursor == first.cursor  # unchanged


def test_changed_file_triggers_again_and_only_changed_sources_run(data_dir: DataPaths) -> None:
    _land(data_dir, "pos/pos_2026-10.csv", b"12345")
    first = _tick(data_dir, None)

    _land(data_dir, "pos/pos_2026-10.csv", b"1234567", age_seconds=30)  # re-exported: new size/mtime
    _land(data_dir, "tmall/orders.xlsx", b"abc")
    second = _tick(data_dir, first.cursor)
    assert len(second.run_requests) == 1
    assert set(second.run_requests[0].asset_selection) == {
        AssetKey(["raw", "pos"]),
        AssetKey(["raw", "tmall"]),
        AssetKey(["staging", "stg_pos__lines"]),
        AssetKey(["marts", "fct_orders"]),
    }
    assert second.run_requests[0].run_key != first.run_requests[0].run_key
    assert set(json.loads(second.cursor)) == {"pos/pos_2026-10.csv", "tmall/orders.xlsx"}

    _land(data_dir, "tmall/orders_2.csv", b"x")
    third = _tick(data_dir, second.cursor)
    # tmall alone: fct_orders is downstream of raw/tmall, stg_pos__lines is not.
    assert set(third.run_requests[0].asset_selection) == {
        AssetKey(["raw", "tmall"]),
        AssetKey(["marts", "fct_orders"]),
    }


@pytest.mark.parametrize("name", [".hidden.csv", "~$orders.xlsx", "orders.csv.part"])
def test_hidden_and_partial_files_are_ignored(data_dir: DataPaths, name: str) -> None:
    _land(data_dir, f"jd/{name}", b"x")
    assert _tick(data_dir, None).run_requests == []


def test_files_still_being_written_wait_for_a_later_tick(data_dir: DataPaths) -> None:
    _land(data_dir, "jd/jd_orders.csv", b"x", age_seconds=0)
    assert _tick(data_dir, None, settle_seconds=5).run_requests == []
    assert len(_tick(data_dir, None, settle_seconds=0).run_requests) == 1


def test_unknown_folders_are_not_sources(data_dir: DataPaths) -> None:
    _land(data_dir, "misc/readme.txt", b"x")
    assert _tick(data_dir, None).run_requests == []


def test_sensor_never_opens_the_warehouse(data_dir: DataPaths) -> None:
    _land(data_dir, "pos/pos.csv", b"x")
    _tick(data_dir, None)
    assert not data_dir.warehouse.exists()
