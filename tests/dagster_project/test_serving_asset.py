"""The ``serving/marts`` asset: wired downstream of every mart, publishes with readable metadata."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
from dagster import AssetKey, materialize

from core.paths import DataPaths
from tests.helpers.serving_warehouse import DECLARED_COLUMNS, write_warehouse


@pytest.fixture
def hand_written_declarations(monkeypatch: pytest.MonkeyPatch) -> None:
    """The hand-written marts' declarations stand in for what the dbt yml declares."""
    monkeypatch.setattr("serving.publish.project_declared_columns", lambda schema="marts": DECLARED_COLUMNS)


def test_serving_asset_depends_on_every_mart_and_nothing_restricted(dbt_manifest: Path) -> None:
    from dagster_project.assets.serving import SERVING_MARTS_KEY
    from dagster_project.definitions import defs

    graph = defs.resolve_asset_graph()
    parents = graph.get(SERVING_MARTS_KEY).parent_keys
    marts = {key for key in graph.get_all_asset_keys() if key.path[0] == "marts"}
    assert AssetKey(["marts", "dim_customers"]) in parents
    assert AssetKey(["marts", "fct_orders"]) in parents
    assert parents == marts
    assert AssetKey(["restricted", "customer_pii"]) not in parents
    assert SERVING_MARTS_KEY in defs.resolve_job_def("refresh_all").asset_layer.executable_asset_keys


@pytest.mark.usefixtures("hand_written_declarations")
def test_serving_asset_publishes_the_marts(data_dir: DataPaths, dbt_manifest: Path) -> None:
    from dagster_project.assets.serving import SERVING_MARTS_KEY, serving_marts
    from dagster_project.resources import WarehouseResource

    write_warehouse(data_dir.warehouse, 2)
    result = materialize(
        [serving_marts],
        resources={"warehouse": WarehouseResource(data_dir=str(data_dir.root))},
        run_config={"ops": {"serving__marts": {"config": {"keep_versions": 2}}}},
    )
    assert result.success
    metadata = result.asset_materializations_for_node("serving__marts")[0].metadata
    assert metadata["table count"].value == 3
    assert metadata["dagster/row_count"].value == 200 + 2 + 1
    assert metadata["columns left out"].value == "dim_customers.phone_masked, dim_customers.address_line"
    version = metadata["version"].value
    assert version.endswith(result.run_id[:8])
    # The report is drawn from the version's own marts, before the switch; sections without their mart
    # say so instead of failing the publish.
    report = Path(metadata["report"].value)
    assert report == data_dir.serving / "versions" / version / "report.html"
    assert "kpi_monthly has no overall rows." in report.read_text(encoding="utf-8")
    con = duckdb.connect(str(data_dir.serving / "serving.duckdb"), read_only=True)
    try:
        assert con.execute("select distinct version from _serving_version").fetchall() == [(version,)]
        assert con.execute("select count(*) from fct_a").fetchone() == (200,)
    finally:
        con.close()
    assert SERVING_MARTS_KEY.path == ["serving", "marts"]


def _mart_with_failing_check(blocking: bool):
    from dagster import AssetCheckResult, AssetCheckSeverity, AssetCheckSpec, MaterializeResult, asset

    key = AssetKey(["marts", "dim_customers"])

    @asset(key=key, check_specs=[AssetCheckSpec("rows_ok", asset=key, blocking=blocking)])
    def dim_customers_stand_in():
        yield MaterializeResult()
        yield AssetCheckResult(check_name="rows_ok", passed=False, severity=AssetCheckSeverity.ERROR)

    return dim_customers_stand_in


@pytest.mark.usefixtures("hand_written_declarations")
@pytest.mark.parametrize("blocking", [True, False])
def test_failed_check_leaves_the_serving_copy_untouched(
    data_dir: DataPaths, dbt_manifest: Path, blocking: bool
) -> None:
    from dagster_project.assets.serving import serving_marts
    from dagster_project.resources import WarehouseResource

    resources = {"warehouse": WarehouseResource(data_dir=str(data_dir.root))}
    write_warehouse(data_dir.warehouse, 1)
    first = materialize([serving_marts], resources=resources)
    assert first.success
    version = first.asset_materializations_for_node("serving__marts")[0].metadata["version"].value

    write_warehouse(data_dir.warehouse, 2)
    result = materialize(
        [_mart_with_failing_check(blocking), serving_marts], resources=resources, raise_on_error=False
    )
    assert not result.success
    assert result.asset_materializations_for_node("serving__marts") == []
    con = duckdb.connect(str(data_dir.serving / "serving.duckdb"), read_only=True)
    try:
        assert con.execute("select distinct version from _serving_version").fetchall() == [(version,)]
        assert con.execute("select count(*) from fct_a").fetchone() == (100,)
    finally:
        con.close()
