"""The wiring: definitions load, one in-process job over everything, dbt sources land on ingestion keys.

``dagster_project.assets.dbt`` builds the dbt assets from the manifest when imported, so it is imported
inside the tests, after the ``dbt_manifest`` fixture parsed the project as it is now.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from dagster import AssetKey

from core.paths import SOURCES


@pytest.fixture
def dbt_module(dbt_manifest: Path):
    from dagster_project.assets import dbt

    return dbt


def _model(name: str, fqn: list[str], schema: str | None) -> dict:
    return {
        "resource_type": "model",
        "name": name,
        "fqn": fqn,
        "config": {"schema": schema} if schema else {},
        "meta": {},
    }


def test_raw_sources_map_to_ingestion_keys(dbt_module) -> None:
    translator = dbt_module.RepurchaseDbtTranslator()
    props = {"resource_type": "source", "source_name": "raw", "name": "wechat_pay", "config": {}, "meta": {}}
    assert translator.get_asset_key(props) == AssetKey(["raw", "wechat_pay"])


def test_models_keyed_by_schema_and_grouped_by_top_folder(dbt_module) -> None:
    translator = dbt_module.RepurchaseDbtTranslator()
    mart = _model("dim_customers", ["repurchase", "marts", "core", "dim_customers"], "marts")
    assert translator.get_asset_key(mart) == AssetKey(["marts", "dim_customers"])
    assert translator.get_group_name(mart) == "marts"
    staging = _model(
        "stg_pos__receipt_lines", ["repurchase", "staging", "pos", "stg_pos__receipt_lines"], "staging"
    )
    assert translator.get_group_name(staging) == "staging"
    top_level = _model("orphan", ["repurchase", "orphan"], None)
    assert translator.get_asset_key(top_level) == AssetKey(["orphan"])
    assert translator.get_group_name(top_level) == "dbt"


def test_dbt_build_args_pass_as_of_as_a_var(dbt_module) -> None:
    from dagster_project.resources import RunSettings

    build_args = dbt_module.dbt_build_args
    no_unit_tests = ["--exclude-resource-type", "unit_test"]
    assert build_args(RunSettings()) == ["build", *no_unit_tests]
    assert build_args(RunSettings(as_of="2026-06-30")) == [
        "build",
        *no_unit_tests,
        "--vars",
        '{"as_of": "2026-06-30"}',
    ]
    assert build_args(RunSettings(full_refresh=True)) == ["build", *no_unit_tests, "--full-refresh"]
    # a pending full-refresh marker (a file set aside) asks for one too
    assert build_args(RunSettings(), full_refresh=True) == ["build", *no_unit_tests, "--full-refresh"]


def test_as_of_must_be_a_date() -> None:
    from dagster_project.resources import RunSettings

    with pytest.raises(ValueError):
        RunSettings(as_of="30/06/2026")


def test_definitions_wire_one_in_process_job_schedule_and_sensor(dbt_manifest: Path) -> None:
    from dagster_project.definitions import defs

    job = defs.resolve_job_def("refresh_all")
    assert job.executor_def.name == "in_process"
    assert defs.resolve_schedule_def("daily_refresh").job_name == "refresh_all"
    assert defs.resolve_sensor_def("landing_files").job_name == "refresh_all"

    graph = defs.resolve_asset_graph()
    materializable = graph.materializable_asset_keys
    for source in SOURCES:
        assert AssetKey(["raw", source]) in materializable
    # The only assets nothing materializes are the loader's bookkeeping tables and the trigger exports' send
    # log (written by exports/triggers, read back by dbt the next day); a dbt source that maps to anything
    # else would show up here as an unexpected stub.
    assert graph.get_all_asset_keys() - materializable == {
        AssetKey(["raw", "_files"]),
        AssetKey(["raw", "_quarantine"]),
        AssetKey(["raw", "_touch_send_log"]),
    }
    # Every ingestion asset feeds at least one dbt model.
    for source in SOURCES:
        assert graph.get(AssetKey(["raw", source])).child_keys, source
    # The whole graph is in the job.
    assert set(job.asset_layer.selected_asset_keys) == materializable
