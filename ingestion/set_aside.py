"""Set a landing file aside: ``repurchase set-aside <source>/<file name> --reason "..."``.

A broken export (rejected, or one that sent most of its rows to quarantine) blocks its raw gate while it is
in ``landing/<source>/``. When no corrected export is at hand, setting the file aside lets the next run go
through without it:

1. the file moves to ``landing/<source>/_set_aside/`` (created; the loader never reads that folder), keeping
   its path below the source folder; a name already taken there gets the time appended;
2. its rows, found by the file's sha256, are deleted from ``raw.<source>``, ``raw._quarantine`` and the
   loader's ``raw._file_totals``;
3. its ``raw._files`` row gets status ``set_aside``, the reason and the time (columns ``set_aside_reason``
   and ``set_aside_at``, added here when missing: the loader's ``create table if not exists`` leaves them
   alone; ``loaded_at`` keeps when the file arrived);
4. when rows of ``raw.<source>`` were deleted, the marker file ``<data dir>/full_refresh_needed.txt`` says
   the next run must rebuild the incremental models from all history (they still hold what those rows
   contributed); the next ``repurchase run`` (``run_refresh_all``) does so once and removes the marker
   after a successful run.

The file moves first and the warehouse changes in one transaction; if the transaction fails, the file is
moved back. No Dagster here.
"""

from __future__ import annotations

import datetime as dt
import shlex
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import duckdb

from core.paths import SOURCES, DataPaths
from core.warehouse import quote_identifier
from ingestion.adapters.base import file_sha256
from ingestion.schemas import create_raw_tables

SET_ASIDE_FOLDER = "_set_aside"  # landing/<source>/_set_aside/: never loaded
SET_ASIDE = "set_aside"  # raw._files.status of a file set aside
FULL_REFRESH_MARKER = "full_refresh_needed.txt"
MANIFEST_COLUMNS = {"set_aside_reason": "VARCHAR", "set_aside_at": "TIMESTAMP"}
REASON_PLACEHOLDER = "<why>"


class SetAsideError(Exception):
    """A set-aside that cannot be done, in words that say what to type instead."""


@dataclass(frozen=True)
class SetAsideResult:
    source: str
    file_name: str  # relative to the landing folder, as raw._files names it: <source>/<file name>
    sha256: str
    moved_to: Path
    raw_rows_deleted: int
    quarantine_rows_deleted: int
    manifest_rows_marked: int  # raw._files rows now status set_aside (0: the file was never loaded)
    full_refresh_marker: Path | None  # written when raw rows were deleted


# ----------------------------------------------------------------------------------- remedy lines
def set_aside_command(file_name: str, reason: str | None = None) -> str:
    """The command that sets ``file_name`` (``<source>/<file name>``) aside; without a reason, one to fill
    in: ``--reason "<why>"``."""
    shown = f'"{REASON_PLACEHOLDER}"' if reason is None else shlex.quote(reason)
    return f"repurchase set-aside {shlex.quote(file_name)} --reason {shown}"


def file_remedy(file_name: str) -> str:
    """What to do about a landing file that blocks its gate, ending with the exact commands."""
    folder = PurePosixPath(file_name).parent
    return (
        f"Remedy: replace landing/{file_name} with a corrected export (drop it into landing/{folder}/ and "
        f"remove the broken one), or set the file aside: `{set_aside_command(file_name)}`; then "
        "`repurchase run`"
    )


# ------------------------------------------------------------------------------------- set aside
def _landing_file(paths: DataPaths, target: str) -> tuple[str, str, Path]:
    """(source, file name relative to the landing folder, path) of a ``<source>/<file name>`` target."""
    text = target.strip().replace("\\", "/")
    candidate = Path(text).expanduser()
    if candidate.is_absolute():
        try:
            text = candidate.resolve().relative_to(paths.landing.resolve()).as_posix()
        except ValueError:
            raise SetAsideError(f"{target}: not under the landing folder {paths.landing}") from None
    elif text.startswith("landing/"):
        text = text.removeprefix("landing/")
    parts = PurePosixPath(text).parts
    if len(parts) < 2 or parts[0] not in SOURCES:
        raise SetAsideError(
            f"{target}: name the file as <source>/<file name>, e.g. tmall/tmall_2026-10.csv "
            f"(sources: {', '.join(SOURCES)})"
        )
    if any(part in ("..", ".") for part in parts):
        raise SetAsideError(f"{target}: a file name inside landing/{parts[0]}/, without '..'")
    source = parts[0]
    if SET_ASIDE_FOLDER in parts[1:]:
        raise SetAsideError(f"{target}: already set aside (it is in landing/{source}/{SET_ASIDE_FOLDER}/)")
    path = paths.landing.joinpath(*parts)
    if path.is_symlink() or not path.is_file():
        present = sorted(
            p.relative_to(paths.landing).as_posix()
            for p in paths.landing_for(source).glob("*")
            if p.is_file() and not p.is_symlink()
        )
        shown = ", ".join(present[:10]) + (f" … ({len(present) - 10} more)" if len(present) > 10 else "")
        raise SetAsideError(
            f"no file landing/{text}: nothing was changed. Files of landing/{source}/: {shown or 'none'}"
        )
    return source, PurePosixPath(*parts).as_posix(), path


def _destination(paths: DataPaths, source: str, file_name: str, now: dt.datetime) -> Path:
    below_source = PurePosixPath(file_name).relative_to(source)
    target = paths.landing_for(source) / SET_ASIDE_FOLDER / below_source
    if target.exists():
        target = target.with_name(f"{target.stem}.set-aside-{now:%Y%m%dT%H%M%S}{target.suffix}")
    return target


def ensure_manifest_columns(con: duckdb.DuckDBPyConnection) -> None:
    """Add raw._files' set-aside columns when missing (the loader creates raw._files without them)."""
    create_raw_tables(con)
    for column, duckdb_type in MANIFEST_COLUMNS.items():
        column_sql = f"{quote_identifier(column)} {duckdb_type}"
        con.execute(f"alter table raw._files add column if not exists {column_sql}")


def _table_exists(con: duckdb.DuckDBPyConnection, table: str) -> bool:
    found = con.execute(
        "select count(*) from information_schema.tables where table_schema = 'raw' and table_name = ?",
        [table],
    ).fetchone()[0]
    return bool(found)


def _count(con: duckdb.DuckDBPyConnection, sql: str, parameters: list[object]) -> int:
    return int(con.execute(sql, parameters).fetchone()[0])


def _forget_file(
    con: duckdb.DuckDBPyConnection, source: str, sha: str, reason: str, now: dt.datetime
) -> tuple[int, int, int]:
    """In one transaction: delete the file's rows from raw and mark its manifest row. Returns (raw rows,
    quarantine rows, manifest rows) changed."""
    ensure_manifest_columns(con)
    table = f"raw.{quote_identifier(source)}"
    con.begin()
    try:
        raw_rows = _count(con, f"select count(*) from {table} where _file_sha256 = ?", [sha])
        con.execute(f"delete from {table} where _file_sha256 = ?", [sha])
        quarantined = _count(
            con, "select count(*) from raw._quarantine where source = ? and file_sha256 = ?", [source, sha]
        )
        con.execute("delete from raw._quarantine where source = ? and file_sha256 = ?", [source, sha])
        if _table_exists(con, "_file_totals"):
            con.execute("delete from raw._file_totals where source = ? and file_sha256 = ?", [source, sha])
        marked = _count(
            con,
            "select count(*) from raw._files where source = ? and sha256 = ? and status <> ?",
            [source, sha, SET_ASIDE],
        )
        con.execute(
            "update raw._files set status = ?, set_aside_reason = ?, set_aside_at = ? "
            "where source = ? and sha256 = ? and status <> ?",
            [SET_ASIDE, reason, now, source, sha, SET_ASIDE],
        )
        con.commit()
    except BaseException:
        con.rollback()
        raise
    return raw_rows, quarantined, marked


def set_aside(paths: DataPaths, target: str, reason: str, now: dt.datetime | None = None) -> SetAsideResult:
    """Set the landing file ``target`` (``<source>/<file name>``) aside for ``reason`` (see the module
    docstring). Raises :class:`SetAsideError` when the target or the reason is not usable."""
    reason = reason.strip()
    if not reason or reason == REASON_PLACEHOLDER:
        raise SetAsideError(
            'say why the file is set aside: --reason "…" (kept in raw._files.set_aside_reason)'
        )
    now = now or dt.datetime.now(dt.UTC).replace(tzinfo=None)
    source, file_name, path = _landing_file(paths, target)
    sha = file_sha256(path)
    destination = _destination(paths, source, file_name, now)
    destination.parent.mkdir(parents=True, exist_ok=True)
    shutil.move(path, destination)
    raw_rows = quarantined = marked = 0
    if paths.warehouse.exists():
        try:
            con = duckdb.connect(str(paths.warehouse))
            try:
                raw_rows, quarantined, marked = _forget_file(con, source, sha, reason, now)
            finally:
                con.close()
        except BaseException:
            shutil.move(destination, path)  # the warehouse is unchanged: so is the landing folder
            raise
    marker = None
    if raw_rows:
        marker = paths.root / FULL_REFRESH_MARKER
        with marker.open("a", encoding="utf-8") as out:
            out.write(
                f"{now:%Y-%m-%d %H:%M:%S} UTC: {file_name} set aside, {raw_rows} rows deleted from "
                f"raw.{source} (reason: {' '.join(reason.split())})\n"
            )
    return SetAsideResult(source, file_name, sha, destination, raw_rows, quarantined, marked, marker)


# -------------------------------------------------------------------------- the full-refresh marker
def pending_full_refresh(paths: DataPaths) -> str | None:
    """Why the next run must rebuild the incremental models from all history (the marker's text), or None."""
    marker = paths.root / FULL_REFRESH_MARKER
    try:
        return marker.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None


def clear_full_refresh(paths: DataPaths, seen: str) -> bool:
    """Remove the marker after a successful full refresh, unless it changed since it was read as ``seen``
    (a file set aside during the run needs one more). Returns whether it was removed."""
    marker = paths.root / FULL_REFRESH_MARKER
    if pending_full_refresh(paths) != seen:
        return False
    marker.unlink(missing_ok=True)
    return True


@contextmanager
def full_refresh_once(paths: DataPaths) -> Iterator[str | None]:
    """The pending marker's text (None when no full refresh is pending) for the block that rebuilds; the
    marker is removed only when that block finishes without an error (a failed rebuild leaves it)."""
    marker = pending_full_refresh(paths)
    yield marker
    if marker is not None:
        clear_full_refresh(paths, marker)
