"""``repurchase``: generate demo exports, run the pipeline, set a broken export aside, start the UI, fit
the predictive-CLV models on a transactions file, draw the HTML report of the serving copy.

The data directory is ``./data`` (relative to the working directory) unless ``REPURCHASE_DATA_DIR``
names another; the dbt project is always the one beside this package.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import signal
import subprocess
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path

from core.paths import DATA_DIR_ENV, REPO_ROOT, SOURCES, DataPaths, data_paths
from ingestion.set_aside import file_remedy
from prediction.summary import TIME_UNIT_DAYS
from reporting.warehouse_summary import MARTS_SCHEMA, schema_row_counts
from transform.dbt import DbtManifestError, manifest_is_stale, prepare_dbt_manifest

from .instance import prepare_environment

WORKSPACE_YAML = REPO_ROOT / "workspace.yaml"
UI_HOST = "127.0.0.1"
UI_PORT = 3000


def say(message: str = "") -> None:
    print(message, flush=True)


def _iso_date(text: str) -> str:
    try:
        return dt.date.fromisoformat(text).isoformat()
    except ValueError as error:
        raise argparse.ArgumentTypeError(f"not a date in YYYY-MM-DD form: {text!r}") from error


def _positive_int(text: str) -> int:
    value = int(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be a positive whole number: {text!r}")
    return value


# --- generate ---------------------------------------------------------------------------------------


def _generate_progress(*parts: object) -> None:
    say("  " + " ".join(str(part) for part in parts))


def generate_demo(out_dir: Path, *, people: int, seed: int, end_date: dt.date | None) -> int:
    from demo.generator import generate

    say(f"Generating demo exports for {people} people (seed {seed}) into {out_dir}")
    kwargs = {"people": people, "seed": seed, "progress": _generate_progress}
    if end_date is not None:
        kwargs["end_date"] = end_date
    summary = generate(out_dir, **kwargs)
    say()
    say(f"Wrote {out_dir / 'landing'} (ground truth in {out_dir / 'ground_truth'}):")
    say(f"  {'source':<16}{'files':>7}{'rows':>10}")
    for source in SOURCES:
        files = summary.files.get(source, [])
        say(f"  {source:<16}{len(files):>7}{summary.rows.get(source, 0):>10}")
    return 0


def cmd_generate(args: argparse.Namespace) -> int:
    out = Path(args.out).expanduser().resolve() if args.out else data_paths().root
    end = dt.date.fromisoformat(args.end_date) if args.end_date else None
    return generate_demo(out, people=args.people, seed=args.seed, end_date=end)


# --- run --------------------------------------------------------------------------------------------


def _prepare_dbt() -> bool:
    """Parse the dbt project when its manifest is missing or older than a file of the project (a run
    with an unchanged project parses nothing here)."""
    if manifest_is_stale():
        say("Parsing the dbt project (dbt parse)...")
    try:
        manifest = prepare_dbt_manifest()
    except DbtManifestError as error:
        say(f"ERROR: {error}")
        return False
    say(f"  manifest: {manifest}")
    return True


def _md_bullets(value: object) -> list[str]:
    """The bullet lines of a markdown metadata value ("none" and blanks dropped)."""
    text = str(getattr(value, "value", value) or "")
    lines = [line.strip().removeprefix("- ").strip() for line in text.splitlines()]
    return [line for line in lines if line and line != "none"]


def failed_check_details(instance, run_id: str) -> dict[str, list[str]]:
    """What each failed check of the run says is wrong and what to do, keyed like
    ``RunOutcome.checks_failed``: the raw gates' ``blocking problems`` and ``warnings`` (each names the
    file, the row, the problem and ends with the remedy commands)."""
    from dagster import DagsterEventType

    details: dict[str, list[str]] = {}
    records = instance.get_records_for_run(run_id, of_type=DagsterEventType.ASSET_CHECK_EVALUATION).records
    for record in records:
        evaluation = record.event_log_entry.dagster_event.event_specific_data
        if evaluation.passed:
            continue
        label = (
            f"{evaluation.asset_key.to_user_string()} {evaluation.check_name} ({evaluation.severity.value})"
        )
        metadata = evaluation.metadata
        problems = _md_bullets(metadata.get("blocking problems"))
        details[label] = [*problems, *_md_bullets(metadata.get("warnings"))]
    return details


def print_run_summary(paths: DataPaths, outcome, details: dict[str, list[str]] | None = None) -> None:
    say()
    say(f"Warehouse: {paths.warehouse}")
    say()
    say("Ingestion (this run):")
    say(
        f"  {'source':<16}{'new files':>10}{'already':>9}{'rejected':>9}{'rows loaded':>13}"
        f"{'quarantined':>13}{'rows in raw':>13}"
    )
    for source in SOURCES:
        load = outcome.loads.get(source)
        if load is None:
            say(f"  {source:<16}{'(not materialized)':>30}")
            continue
        table_rows = "" if load.table_rows is None else str(load.table_rows)
        say(
            f"  {source:<16}{load.new_files:>10}{load.files_already_loaded:>9}{load.files_rejected:>9}"
            f"{load.rows_loaded:>13}{load.rows_quarantined:>13}{table_rows:>13}"
        )
    rejected = [item for load in outcome.loads.values() for item in load.rejected]
    if rejected:
        say()
        say("Rejected files (nothing of them was loaded; see raw._files):")
        for item in rejected:
            file_name = item.get("file", "?")  # <source>/<file name>, relative to the landing folder
            say(f"  {file_name}: {item.get('message', '')}")
            say(f"    {item.get('remedy') or file_remedy(file_name)}")
    say()
    say(f"Checks: {outcome.checks_passed} passed, {len(outcome.checks_failed)} failed")
    for failed in outcome.checks_failed:
        say(f"  failed: {failed}")
        for line in (details or {}).get(failed, []):
            say(f"    - {line}")
    counts = schema_row_counts(paths.warehouse, MARTS_SCHEMA) if outcome.success else {}
    if counts:
        say()
        say(f"Marts: schema `{MARTS_SCHEMA}` of {paths.warehouse}")
        for table, rows in counts.items():
            say(f"  {MARTS_SCHEMA}.{table:<40}{rows:>10} rows")
    if outcome.success:
        print_reports(paths)
        if (paths.serving / "serving.duckdb").exists():
            say()
            say(f"Serving copy for BI (read-only, lock-free): {paths.serving / 'serving.duckdb'}")
            say(f"  and Parquet files under {paths.serving / 'current' / 'parquet'}")
            report = published_report(paths)
            if report is not None:
                say(f"Report (charts, opens offline in a browser): {report}")
    say()
    say(f"Dagster run {outcome.run_id} is recorded in {paths.dagster_home} (see `repurchase ui`).")


def print_reports(paths: DataPaths) -> None:
    """The marts' headline figures and where the activation lists were written."""
    import duckdb

    from reporting.summary import ReportingError, marts_summary

    con = duckdb.connect(str(paths.warehouse), read_only=True)
    try:
        summary = marts_summary(con)
    except ReportingError as error:
        say()
        say(f"No marts summary: {error}")
        return
    finally:
        con.close()
    say()
    say(summary)
    say()
    say(f"Activation lists: {paths.exports / 'audiences'} (WeCom, hashed ids)")
    say(f"  and {paths.exports / 'restricted' / 'audiences'} (SMS with phones, owner-only: restricted)")


def check_data_dir(paths: DataPaths) -> str | None:
    """Why ``paths`` cannot be run (None when it can): a missing data directory (a run from the wrong
    folder must not silently create ``./data``) or one without any export."""
    if not paths.root.is_dir():
        return (
            f"no data directory at {paths.root}: run from the folder that holds data/, set "
            f"{DATA_DIR_ENV} to your data directory, or start with `repurchase demo`"
        )
    has_exports = any(
        path.is_file() for source in SOURCES for path in paths.landing_for(source).glob("*")
    )
    if not has_exports and not paths.warehouse.exists():
        return (
            f"no exports in {paths.landing}: put merchants' exports into landing/<source>/ (sources: "
            f"{', '.join(SOURCES)}), or run `repurchase demo`"
        )
    return None


def check_as_of(paths: DataPaths, as_of: str | None) -> str | None:
    """Why ``as_of`` cannot be computed on this warehouse (None when it can, or when no purchase is known
    yet: the dbt model ``repurchase_as_of`` applies the same rule again after loading)."""
    if as_of is None or not paths.warehouse.exists():
        return None
    from reporting.warehouse_summary import purchase_date_range
    from transform.dbt import project_var

    first, last = purchase_date_range(paths.warehouse)
    if first is None or last is None:
        return None
    day = dt.date.fromisoformat(as_of)
    grace = int(project_var("as_of_max_days_after_data"))
    if day < first:
        return (
            f"--as-of {day} is before the first purchase in the data ({first}): the marts would be empty. "
            f"Choose a day from {first} to {last + dt.timedelta(days=grace)}."
        )
    if day > last + dt.timedelta(days=grace):
        return (
            f"--as-of {day} is more than {grace} days after the newest purchase ({last}): every customer "
            f"would look churned. Choose a day up to {last + dt.timedelta(days=grace)} (var "
            "as_of_max_days_after_data), or load newer exports first."
        )
    return None


def run_pipeline(paths: DataPaths, *, as_of: str | None, full_refresh: bool = False, force: bool = False) -> int:
    from .unchanged import forget_good_run, inputs_before_run, record_good_run

    for problem in (check_data_dir(paths), check_as_of(paths, as_of)):
        if problem:
            say(f"ERROR: {problem}")
            return 2
    if not (force or full_refresh) and _nothing_changed(paths, as_of):
        return 0
    before = inputs_before_run(paths, as_of)
    prepare_environment(paths)
    if not _prepare_dbt():
        return 2
    say(
        f"Materializing every asset on {paths.root}"
        + (f" as of {as_of}" if as_of else "")
        + (" (incremental models rebuilt from all history)" if full_refresh else "")
    )
    from dagster import DagsterInstance

    from .dead_runs import fail_dead_runs
    from .runner import run_refresh_all

    with DagsterInstance.get() as instance:
        for run_id in fail_dead_runs(instance):
            say(f"  run {run_id} was left unfinished by a process that is gone: marked failed")
        outcome = run_refresh_all(instance, as_of=as_of, full_refresh=full_refresh, out=say)
        details = failed_check_details(instance, outcome.run_id)
    print_run_summary(paths, outcome, details)
    if not outcome.success:
        forget_good_run(paths)
        say()
        for step, message in outcome.failed_steps.items() or {"(run)": "the run failed"}.items():
            say(f"FAILED step {step}: {message}")
        hint = upgrade_hint(outcome.failed_steps.values(), full_refresh=full_refresh)
        if hint:
            say(hint)
        return 1
    record_good_run(paths, before, run_id=outcome.run_id, checks_passed=outcome.checks_passed)
    return 0


# What dbt-core says when an incremental table's columns are not the model's (on_schema_change 'fail').
SCHEMA_OUT_OF_SYNC = "schemas on this incremental model are out of sync"


def upgrade_hint(messages: Iterable[str], *, full_refresh: bool) -> str | None:
    """What to do when a run failed because a warehouse built by an earlier version has other columns in an
    incremental table than the models now write (dbt names the model; this says the fix), else None."""
    if full_refresh or not any(SCHEMA_OUT_OF_SYNC in message for message in messages):
        return None
    return (
        "The warehouse was built by an earlier version of the platform, whose incremental tables have other "
        "columns than the models now write (the model is named above). Run `repurchase run --full-refresh` "
        "once: it rebuilds them from the raw exports and keeps every customer id (README: Upgrading a "
        "warehouse)."
    )


def _nothing_changed(paths: DataPaths, as_of: str | None) -> bool:
    """When a run could change nothing the last good run left (dagster_project/unchanged.py), say so and
    print that run's summary; Dagster is not started."""
    from .unchanged import current_inputs, recorded_outcome, unchanged_since_good_run

    state = unchanged_since_good_run(paths, current_inputs(paths, as_of))
    if state is None:
        return False
    say(
        f"Nothing to do: no new or changed file in {paths.landing}, and the same as_of, code, settings and "
        f"feed freshness as the last good run {state['run_id']} (finished {state['finished_at']}). Its "
        "marts, exports, report and serving copy are current; `repurchase run --force` runs everything "
        "again."
    )
    print_run_summary(paths, recorded_outcome(paths, state))
    return True


def cmd_run(args: argparse.Namespace) -> int:
    return run_pipeline(data_paths(), as_of=args.as_of, full_refresh=args.full_refresh, force=args.force)


def cmd_demo(args: argparse.Namespace) -> int:
    paths = data_paths()
    status = generate_demo(paths.root, people=args.people, seed=args.seed, end_date=None)
    if status != 0:
        return status
    say()
    return run_pipeline(paths, as_of=None)


# --- backfill ---------------------------------------------------------------------------------------


def cmd_backfill(args: argparse.Namespace) -> int:
    from transform.backfill import BackfillError, backfill_as_of

    paths = data_paths()
    prepare_environment(paths)
    start = dt.date.fromisoformat(args.as_of)
    end = dt.date.fromisoformat(args.to) if args.to else None
    try:
        days = backfill_as_of(paths, start, end, out=say)
    except BackfillError as error:
        say(f"ERROR: {error}")
        return 1
    say(f"Backfilled {len(days)} day(s); today's marts untouched.")
    return 0


# --- set-aside --------------------------------------------------------------------------------------


def cmd_set_aside(args: argparse.Namespace) -> int:
    from ingestion.set_aside import SetAsideError, set_aside

    paths = data_paths()
    try:
        result = set_aside(paths, args.file, args.reason)
    except SetAsideError as error:
        say(f"ERROR: {error}")
        return 2
    say(f"Set aside {result.file_name}: moved to {result.moved_to}")
    if result.manifest_rows_marked:
        say(
            f"  raw.{result.source}: {result.raw_rows_deleted} rows deleted; raw._quarantine: "
            f"{result.quarantine_rows_deleted} rows deleted; raw._files: status set_aside (reason kept)"
        )
    else:
        say("  it was never loaded: nothing to remove from the warehouse")
    if result.full_refresh_marker is not None:
        say(
            "  the next run rebuilds the incremental models from all history once "
            f"({result.full_refresh_marker})"
        )
    say("Next: `repurchase run`")
    return 0


# --- ui ---------------------------------------------------------------------------------------------


def cmd_ui(args: argparse.Namespace) -> int:
    from dagster import DagsterInstance

    from .dead_runs import fail_dead_runs

    paths = data_paths()
    home = prepare_environment(paths)
    if not _prepare_dbt():
        return 2
    with DagsterInstance.get() as instance:
        for run_id in fail_dead_runs(instance):
            say(f"run {run_id} was left unfinished by a process that is gone: marked failed")
    env = dict(os.environ)
    bin_dir = str(Path(sys.executable).parent)
    env["PATH"] = bin_dir + os.pathsep + env.get("PATH", "")
    command = [
        sys.executable, "-m", "dagster", "dev",
        "-w", str(WORKSPACE_YAML),
        "-h", args.host, "-p", str(args.port),
    ]  # fmt: skip
    say(f"Dagster UI: http://{args.host}:{args.port}  (DAGSTER_HOME={home}, data: {paths.root})")
    say("Stop it with Ctrl+C.")
    try:
        return subprocess.call(command, cwd=REPO_ROOT, env=env)
    except KeyboardInterrupt:
        return 0


# --- gx-docs ---------------------------------------------------------------------------------------


def cmd_gx_docs(args: argparse.Namespace) -> int:
    from quality.docs import build_gx_docs

    index = build_gx_docs(data_paths())
    say(f"GX data docs (suites and the validation results of past runs): {index}")
    return 0


# --- report ----------------------------------------------------------------------------------------


def published_report(paths: DataPaths) -> Path | None:
    """The report of the current serving version (its versioned path), None when it has none."""
    from reporting.html_report import REPORT_FILE
    from serving.publish import VERSIONS_DIR, current_version

    version = current_version(paths.serving)
    if version is None:
        return None
    report = paths.serving / VERSIONS_DIR / version / REPORT_FILE
    return report if report.is_file() else None


def cmd_report(args: argparse.Namespace) -> int:
    """Draw the HTML report of the current serving version: into its folder (replacing report.html, read
    only like the marts beside it) or to --out."""
    from reporting.html_report import (
        DOCS_FILE,
        DOCS_LINK_LABEL,
        REPORT_FILE,
        ReportError,
        read_quality,
        write_report,
    )
    from serving.publish import READ_ONLY, SERVING_DB, VERSIONS_DIR, current_version

    paths = data_paths()
    version = current_version(paths.serving)
    if version is None:
        say(
            f"ERROR: no serving copy under {paths.serving}: a report is drawn from the published marts; "
            "run `repurchase run` (or `repurchase demo`) first"
        )
        return 1
    folder = paths.serving / VERSIONS_DIR / version
    out = Path(args.out).expanduser() if args.out else folder / REPORT_FILE
    if out.is_dir():
        out = out / REPORT_FILE
    try:
        written = write_report(
            folder / SERVING_DB,
            out,
            read_quality(folder),
            version=version,
            mode=READ_ONLY if not args.out else None,
            links={DOCS_LINK_LABEL: DOCS_FILE} if not args.out and (folder / DOCS_FILE).is_file() else None,
        )
    except ReportError as error:
        say(f"ERROR: {error}")
        return 1
    say(f"Report of serving version {version}: {written}")
    return 0


# --- clv-fit ---------------------------------------------------------------------------------------


def cmd_clv_fit(args: argparse.Namespace) -> int:
    """Fit BG/NBD and Gamma-Gamma on a transactions CSV and print the estimates as JSON."""
    import json

    import pandas as pd

    from prediction.fitting import fit_summary
    from prediction.mle import FitError
    from prediction.summary import SummaryError, summarize_transactions

    path = Path(args.transactions).expanduser()
    if not path.is_file():
        say(f"ERROR: no transactions file at {path}: give a CSV with a header row (--transactions FILE.csv)")
        return 2
    columns = (args.customer_column, args.date_column, args.amount_column)
    try:
        frame = pd.read_csv(path, dtype={args.customer_column: str, args.date_column: str})
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as error:
        reason = str(error).splitlines()[0]
        say(f"ERROR: {path} is not a readable CSV ({reason}): export it as UTF-8 CSV with a header row")
        return 2
    missing = [column for column in columns if column not in frame.columns]
    if missing:
        say(
            f"ERROR: {path} has no column {', '.join(map(repr, missing))} (its columns: "
            f"{', '.join(map(str, frame.columns))}): name the right ones with --customer-column, "
            "--date-column and --amount-column"
        )
        return 2
    calibration_end = dt.date.fromisoformat(args.calibration_end)
    try:
        summary = summarize_transactions(
            frame,
            customer_column=args.customer_column,
            date_column=args.date_column,
            amount_column=args.amount_column,
            calibration_end=calibration_end,
            time_unit=args.time_unit,
        )
    except SummaryError as error:
        say(f"ERROR: {path}: {error}")
        return 2
    try:
        report = fit_summary(summary, calibration_end=calibration_end, time_unit=args.time_unit)
    except FitError as error:
        say(f"ERROR: {path}: the model could not be fitted: {error}")
        return 1
    say(json.dumps({"transactions_file": str(path), **report}, indent=2, ensure_ascii=False))
    return 0


# --- entry point ------------------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="repurchase",
        description="Repeat-purchase customer data platform. Data directory: ./data unless "
        "$REPURCHASE_DATA_DIR names another.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="command")

    generate = commands.add_parser("generate", help="write demo exports of every channel")
    generate.add_argument("--people", type=_positive_int, default=5000, help="people to simulate (5000)")
    generate.add_argument("--seed", type=int, default=42, help="random seed (42)")
    generate.add_argument("--out", help="output directory (default: the data directory)")
    generate.add_argument("--end-date", type=_iso_date, help="last day of the simulated history")
    generate.set_defaults(handler=cmd_generate)

    run = commands.add_parser("run", help="materialize every asset on the data directory")
    run.add_argument("--as-of", type=_iso_date, help="reference date (YYYY-MM-DD); default latest order")
    run.add_argument(
        "--full-refresh",
        action="store_true",
        help="rebuild the incremental models from all history (after a model or schema change)",
    )
    run.add_argument(
        "--force",
        action="store_true",
        help="run even when nothing changed since the last good run (no new export, same as_of, code and settings)",
    )
    run.set_defaults(handler=cmd_run)

    demo = commands.add_parser("demo", help="generate demo exports into the data directory, then run")
    demo.add_argument("--people", type=_positive_int, default=5000, help="people to simulate (5000)")
    demo.add_argument("--seed", type=int, default=42, help="random seed (42)")
    demo.set_defaults(handler=cmd_demo)

    backfill = commands.add_parser(
        "backfill", help="snapshot the as_of-dependent marts as of past days into data/history/"
    )
    backfill.add_argument("--as-of", required=True, type=_iso_date, help="first day (YYYY-MM-DD)")
    backfill.add_argument("--to", type=_iso_date, help="last day (YYYY-MM-DD), default --as-of")
    backfill.set_defaults(handler=cmd_backfill)

    set_aside_parser = commands.add_parser(
        "set-aside",
        help="move a broken export to landing/<source>/_set_aside/ and delete its rows from raw (its gate "
        "then passes; the next run rebuilds the incremental models)",
    )
    set_aside_parser.add_argument(
        "file",
        metavar="<source>/<file name>",
        help="the export, as the gate names it, e.g. tmall/tmall_2026-10.csv",
    )
    set_aside_parser.add_argument("--reason", required=True, help="why (kept in raw._files.set_aside_reason)")
    set_aside_parser.set_defaults(handler=cmd_set_aside)

    ui = commands.add_parser("ui", help="start the Dagster UI on this project")
    ui.add_argument("--host", default=UI_HOST)
    ui.add_argument("--port", type=int, default=UI_PORT)
    ui.set_defaults(handler=cmd_ui)

    gx_docs = commands.add_parser("gx-docs", help="build the Great Expectations data docs of the raw gates")
    gx_docs.set_defaults(handler=cmd_gx_docs)

    report = commands.add_parser(
        "report", help="draw the HTML report (charts, opens offline) of the current serving copy"
    )
    report.add_argument(
        "--out",
        metavar="PATH",
        help="write it here instead of into the current serving version's folder (report.html)",
    )
    report.set_defaults(handler=cmd_report)

    clv_fit = commands.add_parser(
        "clv-fit",
        help="fit the BG/NBD and Gamma-Gamma models on a transactions CSV and print the estimates as JSON",
    )
    clv_fit.add_argument("--transactions", required=True, metavar="FILE.csv", help="CSV with a header row")
    clv_fit.add_argument("--customer-column", required=True, metavar="C", help="column of customer ids")
    clv_fit.add_argument("--date-column", required=True, metavar="D", help="column of purchase dates")
    clv_fit.add_argument("--amount-column", required=True, metavar="A", help="column of amounts spent")
    clv_fit.add_argument(
        "--calibration-end", required=True, type=_iso_date, metavar="YYYY-MM-DD",
        help="last day of the calibration period (later transactions are ignored)",
    )  # fmt: skip
    clv_fit.add_argument(
        "--time-unit",
        default="week",
        choices=sorted(TIME_UNIT_DAYS),
        help="unit of recency and tenure (week)",
    )
    clv_fit.set_defaults(handler=cmd_clv_fit)
    return parser


def _interrupt(signum: int, frame: object) -> None:
    """SIGTERM / SIGHUP end the CLI like Ctrl+C: the run is ended by Dagster, not left STARTED."""
    raise KeyboardInterrupt(f"signal {signum}")


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    for signum in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, _interrupt)
    try:
        return int(args.handler(args) or 0)
    except KeyboardInterrupt:
        say("Interrupted: the run was stopped (dbt with it); start it again to finish the refresh.")
        return 130
    except OSError as error:
        # A read-only or full disk, a folder without permission: one line that says which file.
        where = f": {error.filename}" if error.filename else ""
        say(f"ERROR: {error.strerror or error}{where}. Free space or fix permissions, then run again.")
        return 1
    except duckdb_errors() as error:
        say(f"ERROR: the warehouse could not be opened or written: {str(error).splitlines()[0]}")
        say("  Another process may hold it (a BI tool must read data/serving/, never warehouse.duckdb).")
        return 1


def duckdb_errors() -> tuple[type[BaseException], ...]:
    import duckdb

    return (duckdb.IOException, duckdb.PermissionException)


if __name__ == "__main__":
    sys.exit(main())
