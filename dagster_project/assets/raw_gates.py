"""Blocking asset checks on the raw tables: the GX checkpoint ``raw__<source>`` plus the manifest rules.

``gx_raw__<source>`` on ``["raw", <source>]`` is ``blocking=True``: when it fails with ERROR severity the
step fails and nothing downstream of the raw table runs in that run (dbt models, marts, exports, the
serving copy). It fails when

- a ``critical`` expectation of the suite fails (``quality/suites.py``, built from the source registry
  ``core/sources.py``), or
- a file of ``landing/<source>`` is still a rejected file in the manifest (a broken export: the rest of
  the source loaded, but the marts would silently miss that file's rows, so they wait until the file is
  replaced or removed; the reason is in the check's metadata), or
- a file of ``landing/<source>`` sent more than ``max_quarantine_share`` of its rows to quarantine (a
  systemic break such as a money column of text, not the odd bad row: those are quarantined and pass), or
- (sampled tables only) the exact SQL row count or newest event time fails where the sample cannot judge.

When only ``warning`` expectations fail, or the feed is older than the registry's ``warn_after_days`` (but
within ``error_after_days``), the check fails with WARN severity and does not block.
"""

# No `from __future__ import annotations`: Dagster inspects the check function's annotations.
import datetime as dt

from dagster import (
    AssetCheckExecutionContext,
    AssetCheckResult,
    AssetChecksDefinition,
    AssetCheckSeverity,
    Config,
    MetadataValue,
    asset_check,
)
from pydantic import Field

from core.paths import SOURCES
from core.sources import get_source
from quality.context import ensure_gates, open_context, prune_validation_results, run_gate, runtime_dir
from quality.raw_frames import (
    SAMPLE_ROWS,
    allowed_gap_days,
    event_span,
    fresh_since,
    freshness_reference,
    freshness_warning,
    manifest_rows_loaded,
    newest_event_times,
    over_quarantined_files,
    read_raw_frame,
    rejected_files_in_landing,
)
from quality.report import expectation_count, failed_expectations, failures_markdown
from quality.suites import FRESH_SINCE_PARAMETER, MANIFEST_ROWS_PARAMETER, suite_name

from ..resources import RunSettings, WarehouseResource
from .ingestion import raw_asset_key

# In sample mode the GX freshness bound is lifted (the sample's max is not the table's) and the
# freshness rule is judged on the SQL maximum instead.
NO_LOWER_BOUND = dt.datetime(1900, 1, 1)


def gate_check_name(source: str) -> str:
    return f"gx_{suite_name(source)}"


class RawGateConfig(Config):
    """Run configuration of a raw gate (the day it judges freshness against is the run's one ``as_of``,
    from the ``run_settings`` resource)."""

    freshness_days: int | None = Field(
        default=None,
        description="days the newest event may lie before the reference at least (default: the source "
        "registry's error_after_days)",
    )
    max_rows: int = Field(default=SAMPLE_ROWS, description="validate a sample above this many rows")
    max_quarantine_share: float = Field(
        default=0.5,
        description="a file that quarantines more than this share of its rows blocks (a systemic break)",
    )


def _rejected_markdown(rejected) -> str:
    if not rejected:
        return "no rejected file in the landing folder"
    return "\n".join(f"- {r.file_name}: {r.message}" for r in rejected)


def build_raw_gate(source: str) -> AssetChecksDefinition:
    spec = get_source(source)
    event_column = spec.event_time

    @asset_check(
        asset=raw_asset_key(source),
        name=gate_check_name(source),
        blocking=True,
        description=(
            f"GX checkpoint {suite_name(source)} on raw.{source} (columns and types, keys not null, status "
            f"values, money bounds, phone pattern, row count = manifest, freshness of {event_column}) and no "
            f"rejected file left in landing/{source}/. Blocks everything downstream when it fails."
        ),
    )
    def _gate(
        context: AssetCheckExecutionContext,
        warehouse: WarehouseResource,
        run_settings: RunSettings,
        config: RawGateConfig,
    ) -> AssetCheckResult:
        paths = warehouse.paths
        days = config.freshness_days if config.freshness_days is not None else spec.freshness.error_after_days
        as_of = run_settings.as_of_date
        with warehouse.connect(read_only=True) as con:
            raw = read_raw_frame(con, source, max_rows=config.max_rows)
            manifest_rows = manifest_rows_loaded(con, source)
            newest = newest_event_times(con)
            span = event_span(con, source)
            rejected = rejected_files_in_landing(con, paths.landing, source)
            broken = over_quarantined_files(con, paths.landing, source, config.max_quarantine_share)
        reference = freshness_reference(newest, as_of)
        allowed = allowed_gap_days(days, span)
        since = fresh_since(reference, allowed)
        stale_warning = freshness_warning(spec.freshness, event_column, newest[source], reference, span, days)
        warnings = [stale_warning] if stale_warning else []

        problems: list[str] = []
        if rejected:
            problems.append(f"{len(rejected)} rejected file(s) still in landing/{source}/")
        for f in broken:
            problems.append(
                f"{f.file_name}: {f.rows_quarantined} of {f.rows_in} rows quarantined "
                f"(more than {config.max_quarantine_share:.0%}): {f.message}"
            )
        if raw.sampled and raw.table_rows != manifest_rows:
            problems.append(
                f"raw.{source} has {raw.table_rows} rows, the manifest says {manifest_rows} loaded"
            )
        if raw.sampled and since is not None and (newest[source] is None or newest[source] < since):
            problems.append(f"newest {event_column} {newest[source]} is older than {since}")

        metadata = {
            "table rows": MetadataValue.int(raw.table_rows),
            "manifest rows loaded": MetadataValue.int(manifest_rows),
            "validated rows": MetadataValue.int(len(raw.frame)),
            "sampled": MetadataValue.bool(raw.sampled),
            "freshness reference": MetadataValue.text(str(reference)),
            "fresh since": MetadataValue.text(
                f"{since} ({allowed:.1f} days before the reference: at least {days}, more for a sparse feed)"
            ),
            f"newest {event_column}": MetadataValue.text(str(newest[source])),
            "freshness warning": MetadataValue.text(stale_warning or "none"),
            "rejected files in landing": MetadataValue.md(_rejected_markdown(rejected)),
            "over-quarantined files in landing": MetadataValue.md(
                "\n".join(f"- {f.file_name}: {f.message}" for f in broken) or "none"
            ),
            "validation results": MetadataValue.path(str(runtime_dir(paths) / "validations")),
        }

        if raw.table_rows == 0 and manifest_rows == 0:
            # No export of this source yet (a merchant without that channel): nothing to validate.
            context.log.info(f"raw.{source} is empty: no data to validate")
            failures = []
            evaluated = 0
        else:
            gx_context = open_context(paths)
            ensure_gates(gx_context, (source,))
            parameters = {
                MANIFEST_ROWS_PARAMETER: len(raw.frame) if raw.sampled else manifest_rows,
                FRESH_SINCE_PARAMETER: NO_LOWER_BOUND if raw.sampled or since is None else since,
            }
            result = run_gate(gx_context, source, raw.frame, parameters)
            prune_validation_results(paths, source)
            failures = failed_expectations(result)
            evaluated = expectation_count(result)

        blocking = [f for f in failures if f.blocking]
        problems += [f"{f.expectation} on {f.column or 'the table'}: {f.problem}" for f in blocking]
        passed = not problems and not failures and not warnings
        # Only warnings (warning expectations, the freshness warning): a non-blocking WARN; otherwise
        # ERROR (blocks when failed).
        severity = AssetCheckSeverity.WARN if (failures or warnings) and not problems else AssetCheckSeverity.ERROR
        metadata.update(
            {
                "expectations evaluated": MetadataValue.int(evaluated),
                "expectations failed": MetadataValue.int(len(failures)),
                "failed expectations": MetadataValue.md(failures_markdown(failures)),
                "blocking problems": MetadataValue.md(
                    "\n".join(f"- {p}" for p in problems) if problems else "none"
                ),
            }
        )
        for problem in problems:
            context.log.error(f"raw.{source}: {problem}")
        for warning in warnings:
            context.log.warning(f"raw.{source}: {warning}")
        return AssetCheckResult(passed=passed, severity=severity, metadata=metadata)

    return _gate


raw_gates: list[AssetChecksDefinition] = [build_raw_gate(source) for source in SOURCES]
