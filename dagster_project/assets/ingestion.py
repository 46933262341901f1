"""One asset per landing source: load new files of ``landing/<source>/`` into ``raw.<source>``.

Thin over ``ingestion.loader``. A rejected file does not fail the asset (the other files still load and
the rejection is kept in ``raw._files``); it is reported in the materialization metadata, logged as a
warning, and fails the asset's ``no_rejected_files`` check (severity WARN, non-blocking; the raw gate
blocks while the file stays in the landing folder). Each rejection ends with its remedy: replace the
export, or ``repurchase set-aside <source>/<file> --reason "…"``, then ``repurchase run``.
"""

# No `from __future__ import annotations`: Dagster inspects the asset function's annotations.

from collections.abc import Sequence

from dagster import (
    AssetCheckResult,
    AssetCheckSeverity,
    AssetCheckSpec,
    AssetExecutionContext,
    AssetKey,
    AssetsDefinition,
    AssetSpec,
    MaterializeResult,
    MetadataValue,
    asset,
)

from core.paths import SOURCES
from ingestion.loader import FileReport, SourceReport, load_source
from ingestion.set_aside import file_remedy

from ..resources import WarehouseResource

INGESTION_GROUP = "ingestion"
REJECTED_FILES_CHECK = "no_rejected_files"
REJECTION_PREVIEW = 10


def raw_asset_key(source: str) -> AssetKey:
    return AssetKey(["raw", source])


def _md_cell(value: object) -> str:
    """Text safe for one cell of a markdown table."""
    return str(value if value is not None else "").replace("|", "\\|").replace("\n", " ").strip()


def files_table(files: Sequence[FileReport]) -> str:
    """Markdown table of every file seen in this load: status, rows and the loader's message."""
    lines = [
        "| file | status | rows in | rows loaded | rows quarantined | message |",
        "|---|---|---:|---:|---:|---|",
    ]
    for f in files:
        lines.append(
            f"| {_md_cell(f.file_name)} | {_md_cell(f.status)} | {f.rows_in} | {f.rows_loaded} "
            f"| {f.rows_quarantined} | {_md_cell(f.message)} |"
        )
    if not files:
        lines.append("| (no files in the landing folder) | | | | | |")
    return "\n".join(lines)


def rejection_preview(files: Sequence[FileReport], limit: int = REJECTION_PREVIEW) -> str:
    """The first ``limit`` rejected files with their messages and remedies, one bullet each."""
    rejected = [f for f in files if f.status == "rejected"]
    if not rejected:
        return "no file rejected"
    lines = [
        f"- {_md_cell(f.file_name)}: {_md_cell(f.message.rstrip('.'))}. {_md_cell(file_remedy(f.file_name))}"
        for f in rejected[:limit]
    ]
    if len(rejected) > limit:
        lines.append(f"- … and {len(rejected) - limit} more (see raw._files)")
    return "\n".join(lines)


def report_metadata(report: SourceReport) -> dict[str, MetadataValue]:
    return {
        "files": MetadataValue.md(files_table(report.files)),
        "new files": MetadataValue.int(report.new_files),
        "files already loaded": MetadataValue.int(report.files_already_loaded),
        "files rejected": MetadataValue.int(report.files_rejected),
        "rows loaded": MetadataValue.int(report.rows_loaded),
        "rows quarantined": MetadataValue.int(report.rows_quarantined),
        "rejections": MetadataValue.md(rejection_preview(report.files)),
        "rejected files": MetadataValue.json(
            [
                {"file": f.file_name, "message": f.message, "remedy": file_remedy(f.file_name)}
                for f in report.files
                if f.status == "rejected"
            ]
        ),
    }


def build_ingestion_asset(source: str) -> AssetsDefinition:
    key = raw_asset_key(source)

    @asset(
        key=key,
        group_name=INGESTION_GROUP,
        kinds={"python", "duckdb"},
        description=(
            f"Files of landing/{source}/ loaded into raw.{source} (rows that cannot be loaded go to "
            "raw._quarantine with a reason; every file gets a row in raw._files). Files already loaded "
            "(same sha256) are skipped."
        ),
        check_specs=[
            AssetCheckSpec(
                REJECTED_FILES_CHECK,
                asset=key,
                description=f"No file of landing/{source}/ was rejected in this load.",
            )
        ],
    )
    def _ingest(context: AssetExecutionContext, warehouse: WarehouseResource) -> MaterializeResult:
        landing = warehouse.paths.landing
        context.log.info(f"{source}: loading new files of {landing / source}")

        with warehouse.connect() as con:
            report = load_source(con, landing, source, progress=context.log.info)
            row_count = con.execute(f'select count(*) from raw."{source}"').fetchone()[0]

        for note in report.notes:
            context.log.warning(note)

        rejected = [f for f in report.files if f.status == "rejected"]
        for f in rejected:
            context.log.warning(
                f"{source}: file {f.file_name} rejected: {f.message.rstrip('.')}. {file_remedy(f.file_name)}"
            )
        context.log.info(
            f"{source}: {report.new_files} new file(s), {report.files_already_loaded} already loaded, "
            f"{report.files_rejected} rejected; {report.rows_loaded} rows loaded, "
            f"{report.rows_quarantined} quarantined"
        )
        metadata = {**report_metadata(report), "dagster/row_count": MetadataValue.int(int(row_count))}
        check = AssetCheckResult(
            check_name=REJECTED_FILES_CHECK,
            passed=not rejected,
            severity=AssetCheckSeverity.WARN,
            metadata={
                "files rejected": MetadataValue.int(len(rejected)),
                "rejections": MetadataValue.md(rejection_preview(report.files)),
            },
        )
        return MaterializeResult(metadata=metadata, check_results=[check])

    return _ingest


ingestion_assets: list[AssetsDefinition] = [build_ingestion_asset(source) for source in SOURCES]


# raw._files and raw._quarantine are written by every ingestion asset (never on their own): declared as
# external assets downstream of all of them, so lineage and "downstream of raw.<source>" include them.
bookkeeping_assets: list[AssetsDefinition] = [
    AssetsDefinition(specs=[spec])
    for spec in [
        AssetSpec(
            key=AssetKey(["raw", "_files"]),
            group_name=INGESTION_GROUP,
            deps=[raw_asset_key(source) for source in SOURCES],
            kinds={"duckdb"},
            description="Load manifest: one row per landed file (sha256, rows in/loaded/quarantined, "
            "status, message). Written by the ingestion assets.",
        ),
        AssetSpec(
            key=AssetKey(["raw", "_quarantine"]),
            group_name=INGESTION_GROUP,
            deps=[raw_asset_key(source) for source in SOURCES],
            kinds={"duckdb"},
            description="Rows that could not be loaded, with the native row and the reason. Written by "
            "the ingestion assets.",
        ),
    ]
]
