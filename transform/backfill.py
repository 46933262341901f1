"""Backfill of past as_of days: the as_of-dependent marts computed as of each day, kept as snapshots.

Today's marts are never touched. A backfill copies the warehouse (one consistent read through a read-only
attach, so it waits for no one and fails clearly while the pipeline holds the write lock) to a scratch
directory, runs ``dbt build`` of the as_of-dependent models (``repurchase_as_of+``: RFM, lifecycle, tiers,
KPIs, cohorts, audiences, campaign marts) there with ``--vars {as_of: <day>}`` for each day, and appends
each day's marts tables to ``<data dir>/history/marts_as_of.duckdb``: one table per mart with leading
``snapshot_as_of`` (the day) and ``restated_at`` (when it was recomputed) columns. These figures are
*restated*: computed with everything known now (a refund that arrived later is netted, a later merge
applied). What the daily run *reported* on a day is kept apart (``reporting.history``). A day backfilled again replaces that day's rows (delete + insert in one
transaction). dbt's data tests run on every day's build: a failing test stops the backfill before that
day is written.

Read the snapshots like any DuckDB file, e.g.
``select * from customer_rfm where snapshot_as_of = date '2026-06-30'``.
"""

from __future__ import annotations

import datetime as dt
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import duckdb

from core.paths import DataPaths
from core.warehouse import MARTS_SCHEMA as SERVED_SCHEMA
from core.warehouse import quote_identifier
from transform.dbt import build_args, run_dbt

AS_OF_SELECTOR = "repurchase_as_of+"
HISTORY_DIR = "history"
HISTORY_DB = "marts_as_of.duckdb"
SNAPSHOT_COLUMN = "snapshot_as_of"
# When the day was recomputed: a backfill restates a past day with what is known at that moment (later
# refunds netted, later merges applied); what was reported that day is in reporting.history.
RESTATED_COLUMN = "restated_at"
MAX_DAYS = 400

Printer = Callable[[str], None]


class BackfillError(RuntimeError):
    """A backfill could not run or a day's build failed (days before it are kept)."""


@dataclass(frozen=True)
class BackfillDay:
    as_of: dt.date
    tables: dict[str, int]  # mart -> rows snapshotted
    seconds: float


def history_path(paths: DataPaths) -> Path:
    return paths.root / HISTORY_DIR / HISTORY_DB


def backfill_days(start: dt.date, end: dt.date | None = None) -> list[dt.date]:
    """Every day from ``start`` to ``end`` (inclusive; ``end`` defaults to ``start``)."""
    end = end or start
    if end < start:
        raise BackfillError(f"--to {end} is before --as-of {start}")
    days = [start + dt.timedelta(days=offset) for offset in range((end - start).days + 1)]
    if len(days) > MAX_DAYS:
        raise BackfillError(f"{len(days)} days asked; backfill at most {MAX_DAYS} days per call")
    return days


def copy_warehouse(source: Path, target: Path) -> None:
    """A consistent copy of every schema of ``source`` into a new DuckDB file ``target``."""
    if not source.exists():
        raise BackfillError(f"no warehouse at {source}: run the pipeline (`repurchase run`) first")
    target.unlink(missing_ok=True)
    con = duckdb.connect(str(target))
    try:
        try:
            con.execute("attach ? as source_db (read_only)", [str(source)])
        except duckdb.IOException as error:
            raise BackfillError(
                f"cannot read {source} (the pipeline may be writing it; retry when the run ends): {error}"
            ) from error
        con.execute(f"copy from database source_db to {quote_identifier(target.stem)}")
        con.execute("detach source_db")
    finally:
        con.close()


def _dbt_build(work: DataPaths, as_of: dt.date, target_path: Path) -> list[str]:
    """``dbt build`` of the as_of-dependent models on the scratch warehouse; returns the mart tables built."""
    run = run_dbt(
        build_args(as_of=as_of.isoformat(), select=AS_OF_SELECTOR),
        data_dir=work.root,
        target_path=target_path,
        check=False,
        manifest=True,  # which built models are marts: their schema and alias
    )
    if not run.success:
        raise BackfillError(
            f"dbt build as of {as_of} failed (exit code {run.returncode}); nothing of that day was "
            f"written. dbt said:\n{run.output.strip()[-4000:]}"
        )
    manifest = run.manifest()
    tables = []
    for result in run.results():
        node = manifest["nodes"].get(result["unique_id"], {})
        if node.get("resource_type") == "model" and node.get("schema") == SERVED_SCHEMA:
            tables.append(node.get("alias") or node["name"])
    return sorted(tables)


def append_snapshot(history: Path, scratch: Path, tables: list[str], as_of: dt.date) -> dict[str, int]:
    """Replace ``as_of``'s rows of each table in ``history`` by ``marts.<table>`` of ``scratch``, stamped
    with ``restated_at`` (now, UTC)."""
    restated_at = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    history.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(history))
    try:
        con.execute("attach ? as scratch_db (read_only)", [str(scratch)])
        rows: dict[str, int] = {}
        con.execute("begin transaction")
        for table in tables:
            name = quote_identifier(table)
            source = f"scratch_db.{quote_identifier(SERVED_SCHEMA)}.{name}"
            con.execute(
                f"create table if not exists main.{name} as select cast(null as date) as {SNAPSHOT_COLUMN}, "
                f"cast(null as timestamp) as {RESTATED_COLUMN}, * from {source} limit 0"
            )
            con.execute(f"alter table main.{name} add column if not exists {RESTATED_COLUMN} timestamp")
            con.execute(f"delete from main.{name} where {SNAPSHOT_COLUMN} = ?", [as_of])
            con.execute(
                f"insert into main.{name} by name select cast(? as date) as {SNAPSHOT_COLUMN}, "
                f"cast(? as timestamp) as {RESTATED_COLUMN}, * from {source}",
                [as_of, restated_at],
            )
            rows[table] = con.execute(
                f"select count(*) from main.{name} where {SNAPSHOT_COLUMN} = ?", [as_of]
            ).fetchone()[0]
        con.execute("commit")
        con.execute("detach scratch_db")
    finally:
        con.close()
    return rows


def backfill_as_of(
    paths: DataPaths, start: dt.date, end: dt.date | None = None, *, out: Printer = print
) -> list[BackfillDay]:
    """Snapshot the as_of-dependent marts for every day from ``start`` to ``end`` into the history file."""
    days = backfill_days(start, end)
    work_root = paths.root / "backfill"
    shutil.rmtree(work_root, ignore_errors=True)
    work = DataPaths(work_root)
    work_root.mkdir(parents=True)
    history = history_path(paths)
    done: list[BackfillDay] = []
    try:
        out(f"Copying {paths.warehouse} to a scratch warehouse under {work_root}")
        copy_warehouse(paths.warehouse, work.warehouse)
        for day in days:
            started = time.perf_counter()
            out(f"as of {day}: dbt build --select {AS_OF_SELECTOR}")
            tables = _dbt_build(work, day, work_root / "dbt_target")
            rows = append_snapshot(history, work.warehouse, tables, day)
            seconds = time.perf_counter() - started
            out(f"as of {day}: {len(rows)} marts, {sum(rows.values())} rows -> {history} ({seconds:.1f}s)")
            done.append(BackfillDay(as_of=day, tables=rows, seconds=seconds))
    finally:
        shutil.rmtree(work_root, ignore_errors=True)
    return done
