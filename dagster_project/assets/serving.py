"""``serving/marts``: the read-only copy of the marts for BI tools (thin over ``serving.publish``).

It depends on every asset of the ``marts`` schema, so in a run it executes only after all of them (and
their blocking checks) succeeded; it also refuses to publish when any ERROR-severity check of the same run
failed.
"""

# No `from __future__ import annotations`: Dagster inspects the asset function's annotations.

from dagster import (
    AssetCheckEvaluation,
    AssetExecutionContext,
    AssetKey,
    AssetsDefinition,
    Config,
    DagsterEventType,
    Failure,
    MaterializeResult,
    MetadataValue,
    asset,
)
from pydantic import Field

from serving.publish import DEFAULT_KEEP_VERSIONS, MIN_KEEP_VERSIONS, SERVED_SCHEMA, publish_serving_copy

from ..resources import WarehouseResource
from .clv import CLV_ASSET_KEYS
from .dbt import dbt_models

SERVING_MARTS_KEY = AssetKey(["serving", "marts"])


def served_asset_keys(assets: AssetsDefinition = dbt_models) -> list[AssetKey]:
    """The asset keys of every table in the served schema (``marts/<model>``), the dbt models' and the
    predictive-CLV marts Python writes there."""
    keys = {key for key in assets.keys if key.path[0] == SERVED_SCHEMA} | set(CLV_ASSET_KEYS)
    return sorted(keys, key=lambda k: k.path)


class ServingConfig(Config):
    keep_versions: int = Field(
        default=DEFAULT_KEEP_VERSIONS,
        ge=MIN_KEEP_VERSIONS,
        description="Serving versions kept on disk (at least 2: the previous one may still be read).",
    )


def failed_blocking_checks(context: AssetExecutionContext) -> list[str]:
    """ERROR-severity checks that failed earlier in this run."""
    failed = []
    for entry in context.instance.all_logs(
        context.run.run_id, of_type=DagsterEventType.ASSET_CHECK_EVALUATION
    ):
        evaluation = entry.dagster_event.event_specific_data
        if (
            isinstance(evaluation, AssetCheckEvaluation)
            and not evaluation.passed
            and evaluation.severity.value == "ERROR"
        ):
            failed.append(f"{evaluation.asset_key.to_user_string()}:{evaluation.check_name}")
    return failed


@asset(
    key=SERVING_MARTS_KEY,
    group_name="serving",
    kinds={"duckdb", "parquet"},
    deps=served_asset_keys(),
    description=(
        "Read-only copy of schema `marts` for BI tools: <data dir>/serving/serving.duckdb (open with "
        "read_only=True) and Parquet files under <data dir>/serving/current/parquet/. Published atomically "
        "after every mart and check of the run succeeded. Columns the dbt yml marks "
        "`config: {meta: {pii: true}}` are left out; a column the yml does not document stops the publish."
    ),
)
def serving_marts(
    context: AssetExecutionContext, config: ServingConfig, warehouse: WarehouseResource
) -> MaterializeResult:
    failed = failed_blocking_checks(context)
    if failed:
        raise Failure(
            description="serving copy left untouched: blocking checks failed in this run: "
            + ", ".join(failed)
        )
    paths = warehouse.paths
    published = publish_serving_copy(
        paths.warehouse, paths.serving, run_id=context.run.run_id, keep=config.keep_versions
    )
    context.log.info(
        f"published serving version {published.version}: {len(published.tables)} tables, "
        f"{sum(published.tables.values())} rows, {published.bytes_written / 1e6:.1f} MB in "
        f"{published.seconds:.1f}s -> {published.database}"
    )
    table = "\n".join(
        [
            "| table | rows |",
            "|---|---:|",
            *(f"| {name} | {rows} |" for name, rows in published.tables.items()),
        ]
    )
    dropped = ", ".join(
        f"{name}.{column}" for name, columns in published.dropped_columns.items() for column in columns
    )
    return MaterializeResult(
        metadata={
            "version": MetadataValue.text(published.version),
            "path": MetadataValue.path(str(published.database)),
            "version dir": MetadataValue.path(str(published.path)),
            "tables": MetadataValue.md(table),
            "table count": MetadataValue.int(len(published.tables)),
            "dagster/row_count": MetadataValue.int(sum(published.tables.values())),
            "bytes": MetadataValue.int(published.bytes_written),
            "publish seconds": MetadataValue.float(round(published.seconds, 3)),
            "columns left out": MetadataValue.text(dropped or "none"),
            "versions removed": MetadataValue.text(", ".join(published.removed_versions) or "none"),
        }
    )
