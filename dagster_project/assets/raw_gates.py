"""Blocking asset checks on the raw tables: the GX checkpoint ``raw__<source>`` plus the manifest and
freshness rules.

``gx_raw__<source>`` on ``["raw", <source>]`` is ``blocking=True``: when it fails with ERROR severity the
step fails and nothing downstream of the raw table runs in that run (dbt models, marts, exports, the
serving copy). It fails when

- a ``critical`` expectation of the suite fails (``quality/suites.py``, built from the source registry
  ``core/sources.py``), or
- a file of ``landing/<source>`` is still a rejected file in the manifest (a broken export: the rest of
  the source loaded, but the marts would silently miss that file's rows, so they wait until the file is
  replaced or set aside), or
- a file of ``landing/<source>`` sent more than ``max_quarantine_share`` of its rows to quarantine (a
  systemic break such as a money column of text, not the odd bad row: those are quarantined and pass), or
- the source's newest loaded file arrived more than the registry's ``error_after_days`` ago (judged on
  file arrival against the wall clock, this source only: ``quality.raw_frames.judge_freshness``), or
- (sampled tables only) the exact SQL row count differs from the manifest.

When only ``warning`` expectations fail, or the newest file is older than ``warn_after_days`` (but not
``error_after_days``), the check fails with WARN severity and does not block. Every problem names the
file, the row where there is one, what is wrong, and ends with the remedy commands
(``repurchase set-aside <source>/<file> --reason "…"``, ``repurchase run``).

The gate does not read the run's ``as_of`` (freshness is judged on when files arrived, not on business
dates); the CLI and dbt still check and use it.
"""

# No `from __future__ import annotations`: Dagster inspects the check function's annotations.
import re

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
from ingestion.set_aside import file_remedy, set_aside_command
from quality.context import ensure_gates, open_context, prune_validation_results, run_gate, runtime_dir
from quality.raw_frames import (
    ERROR,
    SAMPLE_ROWS,
    WARN,
    FreshnessVerdict,
    judge_freshness,
    manifest_rows_loaded,
    newest_arrival,
    newest_event_time,
    over_quarantined_files,
    read_raw_frame,
    rejected_files_in_landing,
    utc_now,
)
from quality.report import FailedExpectation, expectation_count, failed_expectations, failures_markdown
from quality.suites import MANIFEST_ROWS_PARAMETER, suite_name

from ..resources import WarehouseResource
from .ingestion import raw_asset_key

SAMPLE_FILE = re.compile(r"^(?P<file>.+?) row \d+")  # quality.report's "<file> row N: value"


def gate_check_name(source: str) -> str:
    return f"gx_{suite_name(source)}"


class RawGateConfig(Config):
    """Run configuration of a raw gate."""

    max_rows: int = Field(default=SAMPLE_ROWS, description="validate a sample above this many rows")
    max_quarantine_share: float = Field(
        default=0.5,
        description="a file that quarantines more than this share of its rows blocks (a systemic break)",
    )


def _days(days: int | None) -> str:
    return "off" if days is None else f"{days} days"


def freshness_markdown(verdict: FreshnessVerdict) -> str:
    """The freshness verdict of one source as a one-row markdown table."""
    a = verdict.arrival
    policy = verdict.policy
    lines = [
        "| newest arrival (UTC) | file | dated by | age (days) | warn after | error after | verdict |",
        "|---|---|---|---:|---|---|---|",
    ]
    if a is None:
        lines.append(
            f"| – | (no file loaded yet) | – | – | {_days(policy.warn_after_days)} "
            f"| {_days(policy.error_after_days)} | {verdict.verdict} |"
        )
    else:
        dated_by = a.dated_by + (f" ({a.note})" if a.note else "")
        lines.append(
            f"| {a.arrived_at:%Y-%m-%d %H:%M:%S} | {a.file_name} | {dated_by} | {verdict.age_days:.1f} "
            f"| {_days(policy.warn_after_days)} | {_days(policy.error_after_days)} | {verdict.verdict} |"
        )
    return "\n".join(lines)


def _files_of(failure: FailedExpectation) -> list[str]:
    """The files of a failed expectation's first failing rows, in order of appearance."""
    found: list[str] = []
    for sample in failure.samples:
        match = SAMPLE_FILE.match(sample)
        if match and match["file"] not in found:
            found.append(match["file"])
    return found


def expectation_problem(source: str, failure: FailedExpectation) -> str:
    """A failed expectation as one line: the rule, the column, the first failing rows (file and row) and
    what to do."""
    where = f"; first failing rows: {'; '.join(failure.samples)}" if failure.samples else ""
    files = _files_of(failure)
    if files:
        commands = "; ".join(f"`{set_aside_command(f)}`" for f in files)
        remedy = (
            f"Remedy: correct the export and replace {', '.join(f'landing/{f}' for f in files)} with it, or "
            f"set the file aside: {commands}; then `repurchase run`"
        )
    else:
        remedy = (
            f"Remedy: no single file to blame: raw.{source} itself differs from the code (core/sources.py, "
            "raw._files); send this message to the data platform team"
        )
    return f"{failure.expectation} on {failure.column or 'the table'}: {failure.problem}{where}. {remedy}"


def _sentence(text: str | None, file_name: str) -> str:
    """A loader message without the file name it starts with (the problem names it already) and without
    its final full stop (a remedy sentence follows it)."""
    return (text or "").strip().removeprefix(f"{file_name}: ").rstrip(".")


def _bullets(lines: list[str]) -> str:
    return "\n".join(f"- {line}" for line in lines) if lines else "none"


def build_raw_gate(source: str) -> AssetChecksDefinition:
    spec = get_source(source)
    event_column = spec.event_time
    policy = spec.freshness

    @asset_check(
        asset=raw_asset_key(source),
        name=gate_check_name(source),
        blocking=True,
        description=(
            f"GX checkpoint {suite_name(source)} on raw.{source} (columns and types, keys not null, status "
            f"values, money bounds, phone pattern, row count = manifest), no rejected or over-quarantined "
            f"file left in landing/{source}/, and a file arrived recently (warn after "
            f"{_days(policy.warn_after_days)}, block after {_days(policy.error_after_days)}). Blocks "
            "everything downstream when it fails."
        ),
    )
    def _gate(
        context: AssetCheckExecutionContext,
        warehouse: WarehouseResource,
        config: RawGateConfig,
    ) -> AssetCheckResult:
        paths = warehouse.paths
        now = utc_now()
        with warehouse.connect(read_only=True) as con:
            raw = read_raw_frame(con, source, max_rows=config.max_rows)
            manifest_rows = manifest_rows_loaded(con, source)
            newest_event = newest_event_time(con, source)
            arrival = newest_arrival(con, source)
            rejected = rejected_files_in_landing(con, paths.landing, source)
            broken = over_quarantined_files(con, paths.landing, source, config.max_quarantine_share)
        freshness = judge_freshness(source, policy, arrival, now)

        problems: list[str] = []
        warnings: list[str] = []
        if rejected:
            problems.append(
                f"{len(rejected)} rejected file(s) still in landing/{source}/ (nothing of them reached raw."
                f"{source}): "
                + "; ".join(
                    f"{r.file_name}: {_sentence(r.message, r.file_name)}. {file_remedy(r.file_name)}"
                    for r in rejected
                )
            )
        for f in broken:
            first = f"; first: {'; '.join(f.first_rows)} (all in raw._quarantine)" if f.first_rows else ""
            problems.append(
                f"{f.file_name}: {f.rows_quarantined} of {f.rows_in} rows quarantined (more than "
                f"{config.max_quarantine_share:.0%}: a systemic break such as a shifted or retyped column, "
                f"not the odd bad row{first}): {_sentence(f.message, f.file_name)}. "
                + file_remedy(f.file_name)
            )
        if raw.sampled and raw.table_rows != manifest_rows:
            problems.append(
                f"raw.{source} has {raw.table_rows} rows, the manifest says {manifest_rows} loaded (rows "
                "deleted or added outside the loader). Remedy: send this message to the data platform team"
            )
        if freshness.verdict == ERROR:
            problems.append(freshness.message)
        elif freshness.verdict == WARN:
            warnings.append(freshness.message)

        metadata = {
            "table rows": MetadataValue.int(raw.table_rows),
            "manifest rows loaded": MetadataValue.int(manifest_rows),
            "validated rows": MetadataValue.int(len(raw.frame)),
            "sampled": MetadataValue.bool(raw.sampled),
            "freshness": MetadataValue.md(freshness_markdown(freshness)),
            "freshness verdict": MetadataValue.text(freshness.verdict),
            f"newest {event_column} (information)": MetadataValue.text(str(newest_event)),
            "rejected files in landing": MetadataValue.md(
                _bullets([f"{r.file_name}: {r.message}" for r in rejected])
            ),
            "over-quarantined files in landing": MetadataValue.md(
                _bullets([f"{f.file_name}: {f.message}" for f in broken])
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
            parameters = {MANIFEST_ROWS_PARAMETER: len(raw.frame) if raw.sampled else manifest_rows}
            result = run_gate(gx_context, source, raw.frame, parameters)
            prune_validation_results(paths, source)
            failures = failed_expectations(result)
            evaluated = expectation_count(result)

        problems += [expectation_problem(source, f) for f in failures if f.blocking]
        warnings += [expectation_problem(source, f) for f in failures if not f.blocking]
        passed = not problems and not warnings
        # Only warnings (warning expectations, the freshness warning): a non-blocking WARN; otherwise
        # ERROR (blocks when failed).
        severity = AssetCheckSeverity.WARN if warnings and not problems else AssetCheckSeverity.ERROR
        metadata.update(
            {
                "expectations evaluated": MetadataValue.int(evaluated),
                "expectations failed": MetadataValue.int(len(failures)),
                "failed expectations": MetadataValue.md(failures_markdown(failures)),
                "blocking problems": MetadataValue.md(_bullets(problems)),
                "warnings": MetadataValue.md(_bullets(warnings)),
            }
        )
        for problem in problems:
            context.log.error(f"raw.{source}: {problem}")
        for warning in warnings:
            context.log.warning(f"raw.{source}: {warning}")
        return AssetCheckResult(passed=passed, severity=severity, metadata=metadata)

    return _gate


raw_gates: list[AssetChecksDefinition] = [build_raw_gate(source) for source in SOURCES]
