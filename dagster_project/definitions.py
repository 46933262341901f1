"""Wiring only: assets, their checks, the job, the schedule, the sensor and the resources."""

from __future__ import annotations

from dagster import Definitions, in_process_executor

from .assets.clv import activation_triggers_churn_risk, clv_predicted
from .assets.dbt import dbt_models, dbt_project
from .assets.exports import audience_exports, send_log_asset, trigger_exports
from .assets.history import reported_kpis
from .assets.ingestion import bookkeeping_assets, ingestion_assets
from .assets.raw_gates import raw_gates
from .assets.serving import serving_marts
from .dead_runs import dead_runs_sensor
from .jobs import refresh_all_job
from .resources import RunSettings, WarehouseResource, dbt_resource
from .schedules import daily_refresh_schedule
from .sensors import build_landing_sensor

all_assets = [
    *ingestion_assets, *bookkeeping_assets, dbt_models, clv_predicted, activation_triggers_churn_risk, audience_exports, trigger_exports, send_log_asset, reported_kpis, serving_marts,
]  # fmt: skip

defs = Definitions(
    assets=all_assets,
    asset_checks=raw_gates,
    jobs=[refresh_all_job],
    schedules=[daily_refresh_schedule],
    sensors=[build_landing_sensor(refresh_all_job, all_assets), dead_runs_sensor],
    resources={
        "warehouse": WarehouseResource(),
        "run_settings": RunSettings(),
        "dbt": dbt_resource(dbt_project),
    },
    executor=in_process_executor,
)
