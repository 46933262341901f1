"""The predictive-CLV asset: wired after the dbt marts it reads and before the serving copy, and writing
its four tables into the warehouse's marts schema when materialized."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
from dagster import AssetKey, materialize

from core.paths import DataPaths
from prediction.simulate import simulate_transactions
from prediction.warehouse import TABLES


def test_clv_marts_sit_between_the_dbt_marts_and_the_serving_copy(dbt_manifest: Path) -> None:
    from dagster_project.assets.clv import CLV_ASSET_KEYS
    from dagster_project.assets.serving import SERVING_MARTS_KEY
    from dagster_project.definitions import defs

    graph = defs.resolve_asset_graph()
    assert set(CLV_ASSET_KEYS) == {AssetKey(["marts", table]) for table in TABLES}
    for key in CLV_ASSET_KEYS:
        assert {AssetKey(["marts", "repurchase_purchases"]), AssetKey(["marts", "customer_rfm"]),
                AssetKey(["marts", "clv_by_segment"])} <= graph.get(key).parent_keys  # fmt: skip
        assert key in graph.get(SERVING_MARTS_KEY).parent_keys
        assert key in defs.resolve_job_def("refresh_all").asset_layer.executable_asset_keys


def test_materializing_writes_the_tables(data_dir: DataPaths) -> None:
    from dagster_project.assets.clv import clv_predicted
    from dagster_project.resources import WarehouseResource

    purchases = simulate_transactions(
        2000, bgnbd_params={"r": 0.9, "alpha": 10.0, "a": 0.8, "b": 2.5},
        gamma_gamma_params={"p": 6.0, "q": 4.0, "gamma": 20.0},
        first_day=dt.date(2025, 1, 1), acquisition_days=300, end_day=dt.date(2026, 10, 31), seed=9,
    )  # fmt: skip
    con = duckdb.connect(str(data_dir.warehouse))
    try:
        con.execute("create schema marts")
        con.execute("create table marts.repurchase_as_of as select date '2026-10-31' as as_of_date")
        con.register("purchases", purchases)
        con.execute(
            "create table marts.repurchase_purchases as select cast(customer_id as varchar) as customer_id, "
            "cast(purchase_date as date) as purchase_date, amount as net_amount from purchases"
        )
    finally:
        con.close()
    result = materialize(
        [clv_predicted],
        resources={"warehouse": WarehouseResource(data_dir=str(data_dir.root))},
        run_config={"ops": {"clv_predicted": {"config": {"horizon_months": 12, "holdout_days": 90}}}},
    )
    assert result.success
    materialized = {event.asset_key for event in result.get_asset_materialization_events()}
    assert materialized == {AssetKey(["marts", table]) for table in TABLES}
    con = duckdb.connect(str(data_dir.warehouse), read_only=True)
    try:
        assert con.execute(
            "select count(*), min(horizon_months) from marts.customer_clv_predicted"
        ).fetchone() == (2000, 12)
        # No customer_rfm in this warehouse: segments stay null, predictions stand.
        assert con.execute("select count(segment) from marts.customer_clv_predicted").fetchone() == (0,)
        assert con.execute("select min(holdout_days) from marts.clv_holdout_check").fetchone() == (90,)
    finally:
        con.close()
