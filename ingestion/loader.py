"""Load landing files into DuckDB: raw.<source>, raw._quarantine and the raw._files manifest.

- Only exports are read: regular ``.csv`` / ``.xlsx`` / ``.xls`` files under ``landing/<source>/`` (sub-folders
  included). Everything else is **ignored**, never read and never blocking: files with another extension
  (``notes.txt``, a ``.zip``), hidden files and Office lock files (``.x``, ``~$x``), hidden folders, the
  ``_set_aside`` folder, special files, and every symbolic link (a link may point anywhere,
  ``/etc/passwd`` included: it is not followed, not opened, not hashed). Each ignored entry is a :class:`FileReport` with status ``ignored``
  and the reason; it is reported on every run and not written to raw._files (whose statuses are
  ``loaded`` / ``rejected``).
- Idempotent by file sha256: a file whose hash is already in raw._files as ``loaded`` adds nothing
  (status ``already_loaded``, not recorded again). A rejected file is recorded (status ``rejected`` with
  its message) and is tried again only when its bytes change (new hash) — except a file rejected by an
  *unexpected* error (a bug, a full disk: :data:`UNEXPECTED_ERROR` in its message), which is tried again on
  every run; its failed attempt is replaced by the next attempt's row, and removed once the file loads.
- Atomic per file: one transaction inserts the rows, the quarantine rows, the total checks and the
  manifest row. Any error inside it rolls back everything of that file, records the file as rejected
  with the real error, and the next file loads: one file's failure never stops another file or source.
- Whole-file problems (empty, undecodable, missing required column, corrupt xlsx, a repeated header with
  different columns, a total row that disagrees with the lines, a WeChat Pay bill that does not reconcile,
  a POS re-export truncated before its 合计 row) reject that file with a message naming it, the problem and
  what to do; every other file still loads.
- Row problems are quarantined with a reason (``raw._quarantine``). Identical repeats of a key the export
  promises unique are loaded once: ``rows_in = rows_loaded + rows_quarantined + rows_collapsed``
  (``rows_collapsed`` is in :class:`FileReport` and in the manifest message; raw._files keeps rows_in,
  rows_loaded and rows_quarantined).
- Truncated re-exports (sources whose adapter sets ``total_columns`` and ``record_key``: POS): every file
  whose total row reconciled is recorded in ``raw._file_totals``. A file without a total row whose
  records (receipts) were already loaded from such a file is rejected: it would replace complete receipts
  with a partial copy (staging keeps the latest file's rows).
- Data goes in through registered Arrow tables (``INSERT … BY NAME SELECT … FROM``), never through SQL
  assembled from file contents. Messages name files, rows and headers; they never quote a file's cells
  (quarantine rows keep the cells, in raw._quarantine).
"""

from __future__ import annotations

import datetime as dt
import os
import re
import stat
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow as pa

from core.paths import SOURCES
from core.warehouse import quote_identifier
from ingestion.adapters import get_adapter
from ingestion.adapters.base import Adapter, ParseResult, file_sha256
from ingestion.errors import FileRejected
from ingestion.read import SUPPORTED_SUFFIXES
from ingestion.schemas import CANONICAL, LINEAGE, create_raw_tables

Progress = Callable[[str], None]

LOADED, REJECTED, ALREADY_LOADED, IGNORED = "loaded", "rejected", "already_loaded", "ignored"
# Marks a rejection that says nothing about the file (a bug, a full disk): retried on the next run.
UNEXPECTED_ERROR = "not loaded: unexpected error"
ARCHIVES = (".zip", ".rar", ".7z", ".gz", ".tar", ".tgz")
SET_ASIDE_FOLDER = "_set_aside"  # landing/<source>/_set_aside/: files a person set aside, never loaded
PARTIAL_DOWNLOADS = (".part", ".crdownload", ".tmp", ".download")

# The loader's own record of reconciled total rows (one row per file and column): what the truncation rule
# compares a file without a total against.
FILE_TOTALS_TABLE = "_file_totals"
FILE_TOTALS: dict[str, str] = {
    "source": "VARCHAR",
    "file_name": "VARCHAR",
    "file_sha256": "VARCHAR",
    "column_name": "VARCHAR",  # canonical column, e.g. paid_amount
    "total": "DECIMAL(18,2)",  # the total row's value, equal to the sum of the file's lines
    "lines": "INTEGER",  # data lines summed
    "checked_at": "TIMESTAMP",
}


@dataclass(frozen=True)
class FileReport:
    source: str
    file_name: str  # relative to the landing root, e.g. pos/pos_2025-03.csv
    sha256: str  # "" for an ignored entry (never read)
    status: str  # loaded / rejected / already_loaded / ignored
    rows_in: int
    rows_loaded: int
    rows_quarantined: int
    message: str
    rows_collapsed: int = 0  # identical repeats of a unique key, loaded once


@dataclass
class SourceReport:
    source: str
    files: list[FileReport] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # e.g. an unknown landing sub-folder

    @property
    def new_files(self) -> int:
        return sum(1 for f in self.files if f.status in (LOADED, REJECTED))

    @property
    def rows_loaded(self) -> int:
        return sum(f.rows_loaded for f in self.files)

    @property
    def rows_quarantined(self) -> int:
        return sum(f.rows_quarantined for f in self.files)

    @property
    def rows_collapsed(self) -> int:
        return sum(f.rows_collapsed for f in self.files)

    @property
    def files_rejected(self) -> int:
        return sum(1 for f in self.files if f.status == REJECTED)

    @property
    def files_already_loaded(self) -> int:
        return sum(1 for f in self.files if f.status == ALREADY_LOADED)

    @property
    def files_ignored(self) -> int:
        return sum(1 for f in self.files if f.status == IGNORED)


# ------------------------------------------------------------------------------------ landing scan
def _ignore_reason(name: str, mode: int, is_dir: bool) -> str | None:
    """Why a directory entry is not an export (None: it is one, or a folder to search)."""
    if stat.S_ISLNK(mode):
        return ("a symbolic link: not followed (only regular files inside the landing folder are read); "
                "copy the export itself here")
    if name.startswith((".", "~$")):
        what = "hidden folder" if is_dir else ("an Office lock file" if name.startswith("~$") else "hidden file")
        return f"{what}: not an export"
    if is_dir:  # ingestion/set_aside.py moves the files a person set aside into SET_ASIDE_FOLDER
        return "files set aside by `repurchase set-aside`: not loaded" if name == SET_ASIDE_FOLDER else None
    if not stat.S_ISREG(mode):
        return "not a regular file (a pipe, socket or device): not an export"
    suffix = Path(name).suffix.lower()
    if suffix in SUPPORTED_SUFFIXES:
        return None
    if suffix in ARCHIVES:
        return f"an archive ({suffix}): extract the export (.csv/.xlsx) into this folder"
    if suffix in PARTIAL_DOWNLOADS:
        return f"a partial download ({suffix}): wait for the download to finish"
    return (f"not an export ({suffix or 'no extension'}): only .csv and .xlsx files are loaded; move it out of "
            "the landing folder, or save the export as .csv/.xlsx")


def _walk(folder: Path) -> Iterator[tuple[Path, str | None]]:
    """(path, reason it is ignored or None) for every entry below ``folder``; never follows a link."""
    try:
        entries = sorted(os.scandir(folder), key=lambda e: e.name)
    except OSError as exc:
        yield folder, f"cannot list the folder ({exc.strerror})"
        return
    for entry in entries:
        path = Path(entry.path)
        try:
            mode = entry.stat(follow_symlinks=False).st_mode
        except OSError as exc:
            yield path, f"cannot read its status ({exc.strerror})"
            continue
        is_dir = stat.S_ISDIR(mode)
        reason = _ignore_reason(entry.name, mode, is_dir)
        if reason is not None:
            yield path, reason
        elif is_dir:
            yield from _walk(path)
        else:
            yield path, None


def scan_source(landing_root: Path, source: str) -> tuple[list[Path], list[FileReport]]:
    """The exports under ``landing_root/source`` (sorted) and the ignored entries, as FileReports."""
    landing_root = Path(landing_root)
    folder = landing_root / source
    if folder.is_symlink():
        return [], [FileReport(source, source, "", IGNORED, 0, 0, 0,
                               f"{source}: ignored: the landing folder {source}/ is a symbolic link, not followed; "
                               "make it a real folder holding the exports")]
    if not folder.is_dir():
        return [], []
    files: list[Path] = []
    ignored: list[tuple[Path, str]] = []
    for path, reason in _walk(folder):
        if reason is None:
            files.append(path)
        else:
            ignored.append((path, reason))
    reports = [FileReport(source, _relative(p, landing_root), "", IGNORED, 0, 0, 0,
                          f"{_relative(p, landing_root)}: ignored: {reason}") for p, reason in sorted(ignored)]
    return sorted(files), reports


def landing_files(landing_root: Path, source: str) -> list[Path]:
    """Every export under ``landing_root/source`` (see :func:`scan_source` for what is ignored)."""
    return scan_source(landing_root, source)[0]


def _relative(path: Path, landing_root: Path) -> str:
    return path.relative_to(landing_root).as_posix()


# -------------------------------------------------------------------------------------- manifest
def _table_exists(con: duckdb.DuckDBPyConnection, table: str) -> bool:
    return bool(con.execute(
        "select count(*) from information_schema.tables where table_schema = 'raw' and table_name = ?", [table]
    ).fetchall()[0][0])


def _known_hashes(con: duckdb.DuckDBPyConnection, source: str) -> dict[str, tuple[str, str]]:
    """sha256 → (status, message) already recorded for ``source`` (empty if raw._files is missing).
    Rejections by an unexpected error are left out: those files are tried again."""
    if not _table_exists(con, "_files"):
        return {}
    rows = con.execute(
        "select sha256, status, message from raw._files where source = ? order by loaded_at", [source]
    ).fetchall()
    known: dict[str, tuple[str, str]] = {}
    for sha, status, message in rows:
        if status == REJECTED and UNEXPECTED_ERROR in (message or ""):
            continue
        if known.get(sha, ("",))[0] != LOADED:
            known[sha] = (status, message)
    return known


def pending_files(con: duckdb.DuckDBPyConnection, landing_root: Path, source: str) -> list[Path]:
    """Exports of ``source`` whose sha256 is not yet in raw._files (loaded or rejected)."""
    known = _known_hashes(con, source)
    return [p for p in landing_files(Path(landing_root), source) if file_sha256(p) not in known]


def create_loader_tables(con: duckdb.DuckDBPyConnection) -> None:
    """The raw tables (``ingestion.schemas``) and the loader's own ``raw._file_totals``."""
    create_raw_tables(con)
    cols = ", ".join(f"{quote_identifier(n)} {t}" for n, t in FILE_TOTALS.items())
    con.execute(f"create table if not exists raw.{quote_identifier(FILE_TOTALS_TABLE)} ({cols})")


def _summarise_reasons(reasons: pd.Series, limit: int = 3) -> str:
    """The commonest reasons without their cell values (the part in parentheses is dropped)."""
    counts = Counter(r.split(" (")[0] for r in reasons.astype(str))
    return ", ".join(f"{r} ×{c}" for r, c in counts.most_common(limit))


def _register(con: duckdb.DuckDBPyConnection, prefix: str, table: pa.Table) -> str:
    name = f"{prefix}_{uuid.uuid4().hex}"
    con.register(name, table)
    return name


def _insert_rows(
    con: duckdb.DuckDBPyConnection, source: str, view: str, columns: list[str], sha: str, file_name: str,
    loaded_at: dt.datetime,
) -> None:
    names = ", ".join(quote_identifier(c) for c in columns)  # canonical names from the registry
    con.execute(
        f"insert into raw.{quote_identifier(source)} by name select {names}, ?::varchar as _file_sha256, "
        f"?::varchar as _file_name, ?::timestamp as _loaded_at from {quote_identifier(view)}",
        [sha, file_name, loaded_at],
    )


def _rejects_table(rejects: pd.DataFrame) -> pa.Table:
    return pa.table({
        "row_number": pa.array(rejects["row_number"].astype("int32").to_numpy()),
        "raw_row": pa.array(rejects["raw_row"].astype(object).tolist(), type=pa.string()),
        "reason": pa.array(rejects["reason"].astype(object).tolist(), type=pa.string()),
    })


def _insert_quarantine(
    con: duckdb.DuckDBPyConnection, source: str, file_name: str, sha: str, view: str, loaded_at: dt.datetime,
) -> None:
    con.execute(
        "insert into raw._quarantine by name select ? as source, ? as file_name, ? as file_sha256, "
        f"row_number, raw_row, reason, ?::timestamp as quarantined_at from {quote_identifier(view)}",
        [source, file_name, sha, loaded_at],
    )


def _insert_manifest(
    con: duckdb.DuckDBPyConnection, source: str, file_name: str, sha: str, size: int, rows_in: int,
    rows_loaded: int, rows_quarantined: int, status: str, message: str, loaded_at: dt.datetime,
) -> None:
    con.execute(
        "insert into raw._files (source, file_name, sha256, size_bytes, rows_in, rows_loaded, rows_quarantined,"
        " status, message, loaded_at) values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [source, file_name, sha, size, rows_in, rows_loaded, rows_quarantined, status, message, loaded_at],
    )


def _forget_failed_attempts(con: duckdb.DuckDBPyConnection, source: str, sha: str) -> None:
    """Remove earlier unexpected-error rejections of these bytes (superseded by this attempt)."""
    con.execute(
        "delete from raw._files where source = ? and sha256 = ? and status = ? and contains(message, ?)",
        [source, sha, REJECTED, UNEXPECTED_ERROR],
    )


def _rollback(con: duckdb.DuckDBPyConnection) -> None:
    """Roll back the open transaction; a failure to do so (none open) must not hide the real error."""
    try:
        con.rollback()
    except duckdb.Error:
        pass


def _check_frame(source: str, result: ParseResult) -> None:
    expected = [*CANONICAL[source], *[c for c in LINEAGE if c != "_loaded_at"]]
    if list(result.frame.columns) != expected:
        raise AssertionError(f"{source}: adapter frame columns {list(result.frame.columns)} != {expected}")
    if result.rows_in != len(result.frame) + len(result.rejects) + result.rows_collapsed:
        raise AssertionError(f"{source}: rows_in {result.rows_in} != loaded + quarantined + collapsed")


# Quoted values inside an error text ('...' or "..."): a conversion error quotes the cell it failed on.
_QUOTED = re.compile(r"'[^']*'|\"[^\"]*\"")


def _unexpected(rel: str, exc: BaseException) -> str:
    """The message of an unexpected error, without the values it quotes: file content never reaches
    raw._files, the logs or the UI (the error's type and wording say enough to find it)."""
    lines = str(exc).strip().splitlines()
    detail = _QUOTED.sub("'…'", lines[0])[:300] if lines else ""
    return (
        f"{rel}: {UNEXPECTED_ERROR} ({type(exc).__name__}: {detail}); nothing of this file was loaded and the "
        "other files were not affected. It is tried again on the next run; if it fails again, send this "
        "message to the data platform team (values the error quoted are left out: file content never reaches messages)"
    )


# -------------------------------------------------------------------------- truncated re-exports
def _check_truncation(
    con: duckdb.DuckDBPyConnection, source: str, adapter: Adapter, rel: str, result: ParseResult,
) -> None:
    """A file without a total row must not replace records loaded from a file whose total reconciled."""
    if not adapter.total_columns or adapter.record_key is None or result.has_total_row:
        return
    earlier = con.execute(
        f"select count(*) from raw.{quote_identifier(FILE_TOTALS_TABLE)} where source = ?", [source]
    ).fetchall()[0][0]
    if not earlier:
        return
    keys = result.frame[adapter.record_key].dropna().unique()
    overlap, files = 0, None
    if len(keys):
        view = _register(con, "_ingest_keys", pa.table({"key": pa.array(list(keys), type=pa.string())}))
        try:
            overlap, files = con.execute(
                f"select count(distinct r.{quote_identifier(adapter.record_key)}), "
                "string_agg(distinct r._file_name, ', ' order by r._file_name) "
                f"from raw.{quote_identifier(source)} r "
                f"join {quote_identifier(view)} k on r.{quote_identifier(adapter.record_key)} = k.key "
                f"where r._file_sha256 in (select file_sha256 from raw.{quote_identifier(FILE_TOTALS_TABLE)} "
                "where source = ?)",
                [source],
            ).fetchall()[0]
        finally:
            con.unregister(view)
    if overlap:
        raise FileRejected(
            f"{rel}: no total row (合计/总计), and {overlap} of its {len(keys)} {adapter.record_key} values were "
            f"already loaded from {files}, which had one that reconciled: is this re-export truncated (cut "
            "off before its end)? It would replace complete records with a partial copy, so it is not loaded. "
            "Replace it with the complete export (ending with its total row)"
        )
    result.notes.append(
        f"no total row (合计/总计), although earlier {source} exports had one: completeness not checked"
    )


# ------------------------------------------------------------------------------------------- load
def load_file(
    con: duckdb.DuckDBPyConnection, landing_root: Path, source: str, path: Path,
    known: dict[str, tuple[str, str]] | None = None,
) -> FileReport:
    """Load one file atomically (see the module docstring); returns what happened, never raises for a
    problem of the file (only for an interrupt)."""
    landing_root = Path(landing_root)
    rel = _relative(path, landing_root)
    mode = path.lstat().st_mode
    reason = _ignore_reason(path.name, mode, stat.S_ISDIR(mode))
    if reason is not None or stat.S_ISDIR(mode):
        return FileReport(source, rel, "", IGNORED, 0, 0, 0, f"{rel}: ignored: {reason or 'a folder'}")
    sha = file_sha256(path)
    size = path.stat().st_size
    known = _known_hashes(con, source) if known is None else known
    if sha in known:
        status, message = known[sha]
        if status == LOADED:
            return FileReport(source, rel, sha, ALREADY_LOADED, 0, 0, 0,
                              f"{rel}: already loaded (same sha256), nothing added")
        if status == REJECTED:
            return FileReport(source, rel, sha, REJECTED, 0, 0, 0,
                              f"already rejected with the same bytes: {message}")
        # another status a person gave these bytes (e.g. set aside): not loaded again
        return FileReport(source, rel, sha, IGNORED, 0, 0, 0,
                          f"{rel}: ignored: the same bytes are recorded as {status} in raw._files: {message}")
    loaded_at = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    result: ParseResult | None = None
    try:
        if size == 0:
            raise FileRejected(f"{rel}: empty file")
        adapter = get_adapter(source)
        result = adapter.parse(path, relative_name=rel, sha256=sha, loaded_at=loaded_at)
        _check_frame(source, result)
        _check_truncation(con, source, adapter, rel, result)
    except FileRejected as exc:
        result, message, unexpected = None, exc.message, False
    except Exception as exc:  # noqa: BLE001 - one unreadable file must not stop the others
        result, message, unexpected = None, _unexpected(rel, exc), True
    if result is None:
        return _reject(con, source, rel, sha, size, message, loaded_at, unexpected)

    rows_loaded, rows_quarantined = len(result.frame), len(result.rejects)
    message = f"{rel}: loaded {rows_loaded} rows"
    if rows_quarantined:
        message += f", quarantined {rows_quarantined} ({_summarise_reasons(result.rejects['reason'])})"
    if result.rows_collapsed:
        message += f", collapsed {result.rows_collapsed} identical repeated row(s)"
    if result.notes:
        message += "; " + "; ".join(result.notes)
    try:
        _insert_file(con, source, rel, sha, size, result, message, loaded_at)
    except Exception as exc:  # noqa: BLE001 - rolled back; record the real error, go on with the next file
        return _reject(con, source, rel, sha, size, _unexpected(rel, exc), loaded_at, True)
    return FileReport(source, rel, sha, LOADED, result.rows_in, rows_loaded, rows_quarantined, message,
                      result.rows_collapsed)


def _reject(
    con: duckdb.DuckDBPyConnection, source: str, rel: str, sha: str, size: int, message: str,
    loaded_at: dt.datetime, unexpected: bool,
) -> FileReport:
    try:
        con.begin()
        try:
            if unexpected:
                _forget_failed_attempts(con, source, sha)
            _insert_manifest(con, source, rel, sha, size, 0, 0, 0, REJECTED, message, loaded_at)
            con.commit()
        except BaseException:
            _rollback(con)
            raise
    except Exception as exc:  # the warehouse itself fails (read-only, disk full): say both errors, stop
        raise RuntimeError(f"{message} — and recording this in raw._files failed too: {exc}") from exc
    return FileReport(source, rel, sha, REJECTED, 0, 0, 0, message)


def _insert_file(
    con: duckdb.DuckDBPyConnection, source: str, rel: str, sha: str, size: int, result: ParseResult,
    message: str, loaded_at: dt.datetime,
) -> None:
    """One transaction: the rows, the quarantine rows, the total checks and the manifest row of one file,
    or nothing. The Arrow views are registered before it and dropped after it (dropping one inside an
    aborted transaction would fail and hide the real error)."""
    rows_loaded, rows_quarantined = len(result.frame), len(result.rejects)
    data = result.frame.drop(columns=["_file_sha256", "_file_name"])  # one value per file: parameters
    views: list[str] = []
    if rows_loaded:
        views.append(_register(con, "_ingest_rows", pa.Table.from_pandas(data, preserve_index=False)))
    if rows_quarantined:
        views.append(_register(con, "_ingest_rejects", _rejects_table(result.rejects)))
    # Row order in raw tables carries no meaning (_row_number does): let DuckDB insert in parallel.
    previous = con.execute("select current_setting('preserve_insertion_order')").fetchall()[0][0]
    con.execute("set preserve_insertion_order = false")
    try:
        con.begin()
        try:
            if rows_loaded:
                _insert_rows(con, source, views[0], list(data.columns), sha, rel, loaded_at)
            if rows_quarantined:
                _insert_quarantine(con, source, rel, sha, views[-1], loaded_at)
            for check in result.totals:
                con.execute(
                    f"insert into raw.{quote_identifier(FILE_TOTALS_TABLE)} (source, file_name, file_sha256, "
                    "column_name, total, lines, checked_at) values (?, ?, ?, ?, ?, ?, ?)",
                    [source, rel, sha, check.column, check.total, check.lines, loaded_at],
                )
            _forget_failed_attempts(con, source, sha)
            _insert_manifest(con, source, rel, sha, size, result.rows_in, rows_loaded, rows_quarantined,
                             LOADED, message, loaded_at)
            con.commit()
        except BaseException:
            _rollback(con)
            raise
    finally:
        for view in views:
            con.unregister(view)
        con.execute(f"set preserve_insertion_order = {'true' if previous else 'false'}")


def load_source(
    con: duckdb.DuckDBPyConnection, landing_root: Path, source: str, progress: Progress | None = None
) -> SourceReport:
    """Load every new export of ``landing_root/source``; one FileReport per export and per ignored entry."""
    if source not in CANONICAL:
        raise ValueError(f"unknown source {source!r}; known: {', '.join(SOURCES)}")
    landing_root = Path(landing_root)
    create_loader_tables(con)
    files, ignored = scan_source(landing_root, source)
    report = SourceReport(source)
    for entry in ignored:
        if progress:
            progress(entry.message)
        report.files.append(entry)
    known = _known_hashes(con, source)
    for i, path in enumerate(files, start=1):
        if progress:
            progress(f"{source}: loading {_relative(path, landing_root)} ({i}/{len(files)})")
        file_report = load_file(con, landing_root, source, path, known)
        if file_report.status in (LOADED, REJECTED):  # an identical copy later in this run
            known.setdefault(file_report.sha256, (file_report.status, file_report.message))
        report.files.append(file_report)
    return report


def load_landing(
    con: duckdb.DuckDBPyConnection, landing_root: Path, progress: Progress | None = None
) -> list[SourceReport]:
    """Load every source folder in SOURCES; unknown sub-folders and stray files are reported, not loaded."""
    landing_root = Path(landing_root)
    create_loader_tables(con)
    reports = [load_source(con, landing_root, source, progress) for source in SOURCES]
    if landing_root.is_dir():
        for entry in sorted(landing_root.iterdir()):
            if entry.name.startswith((".", "~$")) or entry.name in SOURCES:
                continue
            kind = "link" if entry.is_symlink() else ("folder" if entry.is_dir() else "file")
            note = (f"unknown landing {kind} {entry.name!r} not loaded; expected one of: {', '.join(SOURCES)}")
            if progress:
                progress(note)
            reports.append(SourceReport(source=entry.name, notes=[note]))
    return reports
