"""Materialize the whole graph in this process against a persistent instance, printing progress.

Progress comes from the run's own event log (polled by a background thread while the run executes in
the foreground), so what the CLI prints is exactly what the UI shows for the same run.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from typing import Any

from dagster import (
    AssetSelection,
    DagsterEventType,
    DagsterInstance,
    Definitions,
    EventLogEntry,
    ExecuteInProcessResult,
)

from .outcome import RunOutcome, SourceLoad

Printer = Callable[[str], None]
RUN_SETTINGS = "run_settings"
POLL_SECONDS = 0.5


def short_error(message: str, max_lines: int = 30) -> str:
    """An error message without the Python traceback dbt appends, capped at ``max_lines`` lines."""
    text = message.split("Traceback (most recent call last)")[0].strip()
    lines = [line for line in text.splitlines() if line.strip()]
    if len(lines) > max_lines:
        lines = [*lines[:max_lines], f"... ({len(lines) - max_lines} more lines in the run's logs)"]
    return "\n".join(lines)


def error_text(error: Any) -> str:
    """The message of a step failure, down to the error that caused it (Dagster wraps user errors)."""
    if error is None:
        return "unknown error"
    messages = []
    while error is not None:
        if error.message.strip():
            messages.append(error.message.strip())
        error = error.cause
    if len(messages) > 1:
        return f"{messages[0].splitlines()[0]}\ncaused by: {messages[-1]}"
    return messages[0] if messages else "unknown error"


def _metadata_value(entry: Any) -> Any:
    return getattr(entry, "value", entry)


def source_load_from_metadata(source: str, metadata: dict[str, Any]) -> SourceLoad:
    def number(name: str) -> int:
        value = _metadata_value(metadata.get(name))
        return int(value) if value is not None else 0

    rejected = _metadata_value(metadata.get("rejected files")) or []
    table_rows = _metadata_value(metadata.get("dagster/row_count"))
    return SourceLoad(
        source=source,
        new_files=number("new files"),
        files_already_loaded=number("files already loaded"),
        files_rejected=number("files rejected"),
        rows_loaded=number("rows loaded"),
        rows_quarantined=number("rows quarantined"),
        table_rows=int(table_rows) if table_rows is not None else None,
        rejected=list(rejected),
    )


class EventPrinter(threading.Thread):
    """Polls a run's event log and prints one line per step, materialization, failed check and log."""

    def __init__(self, instance: DagsterInstance, run_id: str, out: Printer) -> None:
        super().__init__(name="repurchase-progress", daemon=True)
        self._instance = instance
        self._run_id = run_id
        self._out = out
        self._cursor: str | None = None
        self._done = threading.Event()

    def run(self) -> None:
        while not self._done.wait(POLL_SECONDS):
            self.drain()

    def stop(self) -> None:
        self._done.set()
        self.join()
        self.drain()

    def drain(self) -> None:
        while True:
            connection = self._instance.get_records_for_run(self._run_id, cursor=self._cursor, limit=500)
            for record in connection.records:
                self._print(record.event_log_entry)
            self._cursor = connection.cursor
            if not connection.has_more:
                return

    def _print(self, entry: EventLogEntry) -> None:
        event = entry.dagster_event
        if event is None:
            if entry.level >= 20 and entry.user_message:  # INFO and above, from the assets
                self._out(f"    {entry.user_message}")
            return
        kind = event.event_type
        if kind == DagsterEventType.STEP_START:
            self._out(f"[{event.step_key}] started")
        elif kind == DagsterEventType.STEP_SUCCESS:
            seconds = event.event_specific_data.duration_ms / 1000
            self._out(f"[{event.step_key}] done in {seconds:.1f}s")
        elif kind == DagsterEventType.STEP_FAILURE:
            error = event.event_specific_data.error
            self._out(f"[{event.step_key}] FAILED: {short_error(error_text(error), max_lines=3)}")
        elif kind == DagsterEventType.ASSET_MATERIALIZATION:
            # dbt prints its own line per model; name only the assets dbt does not build.
            key = event.asset_key
            if key is not None and key.path[0] == "raw":
                self._out(f"    materialized {key.to_user_string()}")
        elif kind == DagsterEventType.ASSET_CHECK_EVALUATION:
            evaluation = event.event_specific_data
            if not evaluation.passed:
                self._out(
                    f"    check {evaluation.asset_key.to_user_string()}:{evaluation.check_name} "
                    f"FAILED ({evaluation.severity.value})"
                )


def _outcome(result: ExecuteInProcessResult) -> RunOutcome:
    failed_steps: dict[str, str] = {}
    loads: dict[str, SourceLoad] = {}
    checks_passed = 0
    checks_failed: list[str] = []
    for event in result.all_events:
        if event.event_type == DagsterEventType.STEP_FAILURE:
            error = event.event_specific_data.error
            failed_steps[event.step_key or "?"] = short_error(error_text(error))
        elif event.event_type == DagsterEventType.ASSET_MATERIALIZATION:
            key = event.asset_key
            if key is not None and len(key.path) == 2 and key.path[0] == "raw":
                metadata = event.event_specific_data.materialization.metadata
                loads[key.path[1]] = source_load_from_metadata(key.path[1], dict(metadata))
        elif event.event_type == DagsterEventType.ASSET_CHECK_EVALUATION:
            evaluation = event.event_specific_data
            if evaluation.passed:
                checks_passed += 1
            else:
                checks_failed.append(
                    f"{evaluation.asset_key.to_user_string()} {evaluation.check_name} "
                    f"({evaluation.severity.value})"
                )
    return RunOutcome(
        run_id=result.run_id,
        success=result.success,
        failed_steps=failed_steps,
        loads=loads,
        checks_passed=checks_passed,
        checks_failed=checks_failed,
    )


def run_refresh_all(
    instance: DagsterInstance,
    *,
    as_of: str | None = None,
    full_refresh: bool = False,
    out: Printer = print,
    selection: AssetSelection | None = None,
    defs: Definitions | None = None,
) -> RunOutcome:
    """Execute the ``refresh_all`` job in this process, recorded in ``instance``: all of it, or the assets
    of ``selection`` with their checks (as the UI's "materialize selected"); the job of ``defs``, by default
    the project's definitions.

    A pending full-refresh marker (``ingestion.set_aside``: raw rows were deleted since the last run) is
    honoured by the dbt step itself (any run does it); here it is only announced."""
    from core.paths import data_paths
    from ingestion.set_aside import pending_full_refresh

    from .jobs import REFRESH_ALL

    if defs is None:
        from .definitions import defs

    paths = data_paths()  # the data directory the definitions' warehouse resource resolves to
    marker = pending_full_refresh(paths)
    if marker is not None:
        out("Rebuilding the incremental models from all history once (raw rows were removed since the last "
            "run):")
        for line in marker.splitlines():
            out(f"  {line}")

    job = defs.resolve_job_def(REFRESH_ALL)
    # Dagster's console logger would repeat every event on stderr: this module prints the progress.
    run_config: dict[str, Any] = {"loggers": {"console": {"config": {"log_level": "CRITICAL"}}}}
    # One as_of (and full_refresh) per run, set here or in the launchpad, read by dbt (and checked by the CLI).
    settings: dict[str, Any] = {}
    if as_of is not None:
        settings["as_of"] = as_of
    if full_refresh:
        settings["full_refresh"] = True
    if settings:
        run_config["resources"] = {RUN_SETTINGS: {"config": settings}}
    run_id = str(uuid.uuid4())
    printer = EventPrinter(instance, run_id, out)
    printer.start()
    try:
        result = job.execute_in_process(
            run_config=run_config,
            instance=instance,
            run_id=run_id,
            raise_on_error=False,
            tags={"repurchase/trigger": "cli"},
            asset_selection=None if selection is None else list(selection.resolve(defs.resolve_asset_graph())),
        )
    finally:
        printer.stop()
    return _outcome(result)
