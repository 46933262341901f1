"""``history/reported_kpis``: the KPIs each good run reported, kept as reported (thin over
``reporting.history``). A backfill's figures are restated; these are what people saw that day."""

# No `from __future__ import annotations`: Dagster inspects the asset function's annotations.

from dagster import AssetExecutionContext, AssetKey, MaterializeResult, MetadataValue, asset

from reporting.history import REPORTED_DIR, append_reported_kpis

from ..resources import WarehouseResource

REPORTED_KPIS_KEY = AssetKey(["history", "reported_kpis"])


@asset(
    key=REPORTED_KPIS_KEY,
    group_name="history",
    kinds={"parquet"},
    deps=[
        AssetKey(["marts", "kpi_monthly"]),
        AssetKey(["marts", "kpi_quarterly"]),
        AssetKey(["marts", "repurchase_as_of"]),
    ],
    description=(
        "The as_of period's KPI rows of every good run, appended under <data dir>/history/reported/ "
        "(one Parquet file per grain and as_of; a rerun for the same as_of replaces it). What was "
        "reported, as opposed to a backfill's restated figures."
    ),
)
def reported_kpis(context: AssetExecutionContext, warehouse: WarehouseResource) -> MaterializeResult:
    with warehouse.connect(read_only=True) as con:
        written = append_reported_kpis(con, warehouse.paths.root, context.run.run_id)
    folder = warehouse.paths.root / REPORTED_DIR
    context.log.info(f"reported KPIs kept under {folder}: {written}")
    return MaterializeResult(
        metadata={
            "folder": MetadataValue.path(str(folder)),
            **{f"{grain} rows": MetadataValue.int(rows) for grain, rows in written.items()},
        }
    )
