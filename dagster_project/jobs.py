"""Jobs: one job over the whole asset graph, run in one process (DuckDB takes one writer)."""

from __future__ import annotations

from dagster import AssetSelection, define_asset_job, in_process_executor

REFRESH_ALL = "refresh_all"

refresh_all_job = define_asset_job(
    name=REFRESH_ALL,
    selection=AssetSelection.all(),
    description=(
        "Load new landing files into raw, then build every dbt model and run its tests. Steps run one "
        "after another in one process, so only one of them writes to the DuckDB warehouse at a time."
    ),
    executor_def=in_process_executor,
)
