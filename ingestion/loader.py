"""Load landing files into DuckDB: raw.<source>, raw._quarantine and the raw._files manifest.

- Idempotent by file sha256: a file whose hash is already in raw._files as ``loaded`` adds nothing
  (status ``already_loaded``, not recorded again). A rejected file is recorded (status ``rejected`` with
  its message) and is tried again only when its bytes change (new hash).
- Atomic per file: one transaction inserts the rows, the quarantine rows and the manifest row; an error
  inside it rolls everything of that file back and propagates.
- Whole-file problems (unsupported type, empty, undecodable, missing required column, corrupt xlsx, a
  WeChat Pay bill that does not reconcile) reject that file with a message naming it and the problem;
  every other file still loads.
- Data goes in through registered Arrow tables (``INSERT … BY NAME SELECT … FROM``), never through SQL
  assembled from file contents.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow as pa

from core.paths import SOURCES
from ingestion.adapters import get_adapter
from ingestion.adapters.base import ParseResult, file_sha256
from ingestion.errors import FileRejected
from ingestion.read import SUPPORTED_SUFFIXES
from ingestion.schemas import CANONICAL, LINEAGE, create_raw_tables

Progress = Callable[[str], None]


@dataclass(frozen=True)
class FileReport:
    source: str
    file_name: str  # relative to the landing root, e.g. pos/pos_2025-03.csv
    sha256: str
    status: str  # loaded / rejected / already_loaded
    rows_in: int
    rows_loaded: int
    rows_quarantined: int
    message: str


@dataclass
class SourceReport:
    source: str
    files: list[FileReport] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # e.g. an unknown landing sub-folder

    @property
    def new_files(self) -> int:
        return sum(1 for f in self.files if f.status != "already_loaded")

    @property
    def rows_loaded(self) -> int:
        return sum(f.rows_loaded for f in self.files)

    @property
    def rows_quarantined(self) -> int:
        return sum(f.rows_quarantined for f in self.files)

    @property
    def files_rejected(self) -> int:
        return sum(1 for f in self.files if f.status == "rejected")

    @property
    def files_already_loaded(self) -> int:
        return sum(1 for f in self.files if f.status == "already_loaded")


def _visible(path: Path, root: Path) -> bool:
    parts = path.relative_to(root).parts
    return not any(p.startswith((".", "~$")) for p in parts)


def landing_files(landing_root: Path, source: str) -> list[Path]:
    """Every visible file under ``landing_root/source`` (hidden files and ~$ Excel lock files ignored)."""
    folder = landing_root / source
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.rglob("*") if p.is_file() and _visible(p, landing_root))


def _relative(path: Path, landing_root: Path) -> str:
    return path.relative_to(landing_root).as_posix()


def _known_hashes(con: duckdb.DuckDBPyConnection, source: str) -> dict[str, tuple[str, str]]:
    """sha256 → (status, message) already recorded for ``source`` (empty if raw._files is missing)."""
    exists = con.execute(
        "select count(*) from information_schema.tables where table_schema = 'raw' and table_name = '_files'"
    ).fetchone()[0]
    if not exists:
        return {}
    rows = con.execute(
        "select sha256, status, message from raw._files where source = ? order by loaded_at", [source]
    ).fetchall()
    known: dict[str, tuple[str, str]] = {}
    for sha, status, message in rows:
        if known.get(sha, ("",))[0] != "loaded":
            known[sha] = (status, message)
    return known


def pending_files(con: duckdb.DuckDBPyConnection, landing_root: Path, source: str) -> list[Path]:
    """Files of ``source`` whose sha256 is not yet in raw._files (loaded or rejected)."""
    known = _known_hashes(con, source)
    return [p for p in landing_files(Path(landing_root), source) if file_sha256(p) not in known]


def _summarise_reasons(reasons: pd.Series, limit: int = 3) -> str:
    counts = Counter(r.split(" (")[0] for r in reasons.astype(str))
    return ", ".join(f"{r} ×{c}" for r, c in counts.most_common(limit))


def _insert_rows(
    con: duckdb.DuckDBPyConnection, source: str, frame: pd.DataFrame, sha: str, file_name: str,
    loaded_at: dt.datetime,
) -> None:
    if frame.empty:
        return
    name = f"_ingest_rows_{uuid.uuid4().hex}"
    constant = ("_file_sha256", "_file_name")  # one value per file: parameters, not a million copies
    data = frame.drop(columns=list(constant))
    con.register(name, pa.Table.from_pandas(data, preserve_index=False))
    try:
        columns = ", ".join(f'"{c}"' for c in data.columns)  # canonical names from schemas.py
        con.execute(
            f"insert into raw.\"{source}\" by name select {columns}, ?::varchar as _file_sha256, "
            f"?::varchar as _file_name, ?::timestamp as _loaded_at from \"{name}\"",
            [sha, file_name, loaded_at],
        )
    finally:
        con.unregister(name)


def _insert_quarantine(
    con: duckdb.DuckDBPyConnection, source: str, file_name: str, sha: str, rejects: pd.DataFrame,
    loaded_at: dt.datetime,
) -> None:
    if rejects.empty:
        return
    name = f"_ingest_rejects_{uuid.uuid4().hex}"
    table = pa.table({
        "row_number": pa.array(rejects["row_number"].astype("int32").to_numpy()),
        "raw_row": pa.array(rejects["raw_row"].astype(object).tolist(), type=pa.string()),
        "reason": pa.array(rejects["reason"].astype(object).tolist(), type=pa.string()),
    })
    con.register(name, table)
    try:
        con.execute(
            "insert into raw._quarantine by name select ? as source, ? as file_name, ? as file_sha256, "
            f'row_number, raw_row, reason, ?::timestamp as quarantined_at from "{name}"',
            [source, file_name, sha, loaded_at],
        )
    finally:
        con.unregister(name)


def _insert_manifest(
    con: duckdb.DuckDBPyConnection, source: str, file_name: str, sha: str, size: int, rows_in: int,
    rows_loaded: int, rows_quarantined: int, status: str, message: str, loaded_at: dt.datetime,
) -> None:
    con.execute(
        "insert into raw._files (source, file_name, sha256, size_bytes, rows_in, rows_loaded, rows_quarantined,"
        " status, message, loaded_at) values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [source, file_name, sha, size, rows_in, rows_loaded, rows_quarantined, status, message, loaded_at],
    )


def _check_frame(source: str, result: ParseResult) -> None:
    expected = [*CANONICAL[source], *[c for c in LINEAGE if c != "_loaded_at"]]
    if list(result.frame.columns) != expected:
        raise AssertionError(f"{source}: adapter frame columns {list(result.frame.columns)} != {expected}")
    if result.rows_in != len(result.frame) + len(result.rejects):
        raise AssertionError(f"{source}: rows_in {result.rows_in} != loaded + quarantined")


def load_file(
    con: duckdb.DuckDBPyConnection, landing_root: Path, source: str, path: Path,
    known: dict[str, tuple[str, str]] | None = None,
) -> FileReport:
    """Load one file atomically (see the module docstring); returns what happened."""
    landing_root = Path(landing_root)
    rel = _relative(path, landing_root)
    sha = file_sha256(path)
    size = path.stat().st_size
    known = _known_hashes(con, source) if known is None else known
    if sha in known:
        status, message = known[sha]
        if status == "loaded":
            return FileReport(source, rel, sha, "already_loaded", 0, 0, 0,
                              f"{rel}: already loaded (same sha256), nothing added")
        return FileReport(source, rel, sha, "rejected", 0, 0, 0,
                          f"already rejected with the same bytes: {message}")
    loaded_at = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    result: ParseResult | None = None
    suffix = path.suffix.lower()
    try:
        if suffix not in SUPPORTED_SUFFIXES:
            raise FileRejected(
                f"{rel}: unsupported file type {suffix or '(no extension)'}; expected .csv/.xlsx"
            )
        if size == 0:
            raise FileRejected(f"{rel}: empty file")
        result = get_adapter(source).parse(path, relative_name=rel, sha256=sha)
        _check_frame(source, result)
    except FileRejected as exc:
        message = exc.message
    except Exception as exc:  # noqa: BLE001 - one unreadable file must not stop the others
        message = f"{rel}: could not be parsed ({type(exc).__name__}: {exc})"
    if result is None:
        con.begin()
        try:
            _insert_manifest(con, source, rel, sha, size, 0, 0, 0, "rejected", message, loaded_at)
            con.commit()
        except BaseException:
            con.rollback()
            raise
        return FileReport(source, rel, sha, "rejected", 0, 0, 0, message)

    rows_loaded, rows_quarantined = len(result.frame), len(result.rejects)
    assert result.rows_in == rows_loaded + rows_quarantined
    message = f"{rel}: loaded {rows_loaded} rows"
    if rows_quarantined:
        message += f", quarantined {rows_quarantined} ({_summarise_reasons(result.rejects['reason'])})"
    if result.notes:
        message += "; " + "; ".join(result.notes)
    # Row order in raw tables carries no meaning (_row_number does): let DuckDB insert in parallel.
    previous = con.execute("select current_setting('preserve_insertion_order')").fetchone()[0]
    con.execute("set preserve_insertion_order = false")
    try:
        _insert_file(con, source, rel, sha, size, result, message, loaded_at)
    finally:
        con.execute(f"set preserve_insertion_order = {'true' if previous else 'false'}")
    return FileReport(source, rel, sha, "loaded", result.rows_in, rows_loaded, rows_quarantined, message)


def _insert_file(
    con: duckdb.DuckDBPyConnection, source: str, rel: str, sha: str, size: int, result: ParseResult,
    message: str, loaded_at: dt.datetime,
) -> None:
    """One transaction: the rows, the quarantine rows and the manifest row of one file, or nothing."""
    rows_loaded, rows_quarantined = len(result.frame), len(result.rejects)
    con.begin()
    try:
        _insert_rows(con, source, result.frame, sha, rel, loaded_at)
        _insert_quarantine(con, source, rel, sha, result.rejects, loaded_at)
        _insert_manifest(con, source, rel, sha, size, result.rows_in, rows_loaded, rows_quarantined,
                         "loaded", message, loaded_at)
        con.commit()
    except BaseException:
        con.rollback()
        raise


def load_source(
    con: duckdb.DuckDBPyConnection, landing_root: Path, source: str, progress: Progress | None = None
) -> SourceReport:
    """Load every new file of ``landing_root/source``; one FileReport per visible file."""
    if source not in CANONICAL:
        raise ValueError(f"unknown source {source!r}; known: {', '.join(SOURCES)}")
    landing_root = Path(landing_root)
    create_raw_tables(con)
    files = landing_files(landing_root, source)
    report = SourceReport(source)
    known = _known_hashes(con, source)
    for i, path in enumerate(files, start=1):
        if progress:
            progress(f"{source}: loading {_relative(path, landing_root)} ({i}/{len(files)})")
        file_report = load_file(con, landing_root, source, path, known)
        if file_report.status in ("loaded", "rejected"):  # an identical copy later in this run
            known.setdefault(file_report.sha256, (file_report.status, file_report.message))
        report.files.append(file_report)
    return report


def load_landing(
    con: duckdb.DuckDBPyConnection, landing_root: Path, progress: Progress | None = None
) -> list[SourceReport]:
    """Load every source folder in SOURCES; unknown sub-folders and stray files are reported, not loaded."""
    landing_root = Path(landing_root)
    create_raw_tables(con)
    reports = [load_source(con, landing_root, source, progress) for source in SOURCES]
    if landing_root.is_dir():
        for entry in sorted(landing_root.iterdir()):
            if entry.name.startswith((".", "~$")) or entry.name in SOURCES:
                continue
            kind = "folder" if entry.is_dir() else "file"
            note = (f"unknown landing {kind} {entry.name!r} not loaded; expected one of: {', '.join(SOURCES)}")
            if progress:
                progress(note)
            reports.append(SourceReport(source=entry.name, notes=[note]))
    return reports
