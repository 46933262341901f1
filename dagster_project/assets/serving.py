"""``serving/marts``: the read-only copy of the marts for BI tools (thin over ``serving.publish``).

It depends on every asset of the ``marts`` schema, so in a run it executes only after all of them (and
their blocking checks) succeeded; it also refuses to publish when any ERROR-severity check of the same run
failed. Each version carries the HTML report drawn from its own marts (``report.html``, with the run's
data-quality facts in ``quality.json``; ``reporting.html_report``), switched with them.
"""

# No `from __future__ import annotations`: Dagster inspects the asset function's annotations.

from pathlib import Path

import duckdb
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

from reporting.html_report import (
    DOCS_FILE,
    DOCS_LINK_LABEL,
    REPORT_FILE,
    ReportError,
    write_quality,
    write_report,
)
from reporting.quality_snapshot import quality_snapshot
from serving.publish import (
    DEFAULT_KEEP_VERSIONS,
    MIN_KEEP_VERSIONS,
    READ_ONLY,
    SERVED_SCHEMA,
    SERVING_DB,
    new_version_id,
    publish_serving_copy,
)
from transform.dbt import DbtCommandError, DbtManifestError, write_static_docs

from ..resources import WarehouseResource
from .clv import CHURN_RISK_KEY, CLV_ASSET_KEYS
from .dbt import dbt_models

SERVING_MARTS_KEY = AssetKey(["serving", "marts"])


def served_asset_keys(assets: AssetsDefinition = dbt_models) -> list[AssetKey]:
    """The asset keys of every table in the served schema (``marts/<model>``), the dbt models' and the
    predictive-CLV marts and the churn_risk trigger Python writes there."""
    keys = {key for key in assets.keys if key.path[0] == SERVED_SCHEMA} | set(CLV_ASSET_KEYS) | {CHURN_RISK_KEY}
    return sorted(keys, key=lambda k: k.path)


class ServingConfig(Config):
    keep_versions: int = Field(
        default=DEFAULT_KEEP_VERSIONS,
        ge=MIN_KEEP_VERSIONS,
        description="Serving versions kept on disk (at least 2: the previous one may still be read).",
    )


def check_results(context: AssetExecutionContext) -> list[dict[str, object]]:
    """Every check evaluated earlier in this run: ``{name, passed, severity}`` (ERROR blocks)."""
    results = []
    for entry in context.instance.all_logs(
        context.run.run_id, of_type=DagsterEventType.ASSET_CHECK_EVALUATION
    ):
        evaluation = entry.dagster_event.event_specific_data
        if isinstance(evaluation, AssetCheckEvaluation):
            results.append(
                {
                    "name": f"{evaluation.asset_key.to_user_string()}:{evaluation.check_name}",
                    "passed": bool(evaluation.passed),
                    "severity": evaluation.severity.value,
                }
            )
    return results


def report_writer(context: AssetExecutionContext, warehouse_path: Path, version: str, checks: list[dict]):
    """What ``publish_serving_copy`` calls with the new version's folder: records the run's data-quality
    facts (``quality.json``), writes dbt's static docs (``dbt_docs.html``) and draws ``report.html`` from
    the version's own marts. A report or docs that cannot be drawn are a warning, not a failed publish:
    BI tools still get the marts."""

    def add_files(folder: Path) -> list[str]:
        con = duckdb.connect(str(warehouse_path), read_only=True)
        try:
            quality = quality_snapshot(con, checks, run_id=context.run.run_id)
        finally:
            con.close()
        written = [write_quality(folder, quality).name]
        try:
            written.append(write_static_docs(folder / DOCS_FILE, data_dir=warehouse_path.parent).name)
        except (DbtCommandError, DbtManifestError, OSError) as error:
            context.log.warning(f"serving version {version} has no dbt docs: {str(error)[-500:]}")
        links = {DOCS_LINK_LABEL: DOCS_FILE} if DOCS_FILE in written else None
        try:
            write_report(
                folder / SERVING_DB,
                folder / REPORT_FILE,
                quality,
                version=version,
                mode=READ_ONLY,
                links=links,
            )
        except (ReportError, duckdb.Error, ValueError, KeyError, TypeError) as error:
            context.log.warning(f"serving version {version} has no report: {error}")
            return written
        return [*written, REPORT_FILE]

    return add_files


@asset(
    key=SERVING_MARTS_KEY,
    group_name="serving",
    kinds={"duckdb", "parquet"},
    deps=served_asset_keys(),
    description=(
        "Read-only copy of schema `marts` for BI tools: <data dir>/serving/serving.duckdb (open with "
        "read_only=True) and Parquet files under <data dir>/serving/current/parquet/. Published atomically "
        "after every mart and check of the run succeeded. Columns the dbt yml marks "
        "`config: {meta: {pii: true}}` are left out; a column the yml does not document stops the publish. "
        "Each version holds report.html, the charts of its marts (opens offline)."
    ),
)
def serving_marts(
    context: AssetExecutionContext, config: ServingConfig, warehouse: WarehouseResource
) -> MaterializeResult:
    checks = check_results(context)
    failed = [str(c["name"]) for c in checks if not c["passed"] and c["severity"] == "ERROR"]
    if failed:
        raise Failure(
            description="serving copy left untouched: blocking checks failed in this run: "
            + ", ".join(failed)
        )
    paths = warehouse.paths
    version = new_version_id(context.run.run_id)
    published = publish_serving_copy(
        paths.warehouse,
        paths.serving,
        version=version,
        run_id=context.run.run_id,
        keep=config.keep_versions,
        add_files=report_writer(context, paths.warehouse, version, checks),
    )
    report = published.path / REPORT_FILE
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
            "report": MetadataValue.path(str(report) if report.exists() else "not written (see the logs)"),
            "tables": MetadataValue.md(table),
            "table count": MetadataValue.int(len(published.tables)),
            "dagster/row_count": MetadataValue.int(sum(published.tables.values())),
            "bytes": MetadataValue.int(published.bytes_written),
            "publish seconds": MetadataValue.float(round(published.seconds, 3)),
            "columns left out": MetadataValue.text(dropped or "none"),
            "versions removed": MetadataValue.text(", ".join(published.removed_versions) or "none"),
        }
    )
