"""The read-only serving copy of the marts for BI tools (knows nothing of Dagster).

DuckDB allows one writing process per file, and the pipeline holds the warehouse's write lock while it
runs. BI tools therefore never open ``warehouse.duckdb``: they read a serving copy published after a good
run, laid out under ``<data dir>/serving/``::

    versions/<version>/parquet/<table>.parquet   one Parquet file per mart (schema ``marts`` only)
    versions/<version>/serving.duckdb            a self-contained DuckDB file: the same tables + _serving_version
                                                 (DuckDB 1.0 storage format: 1.x BI drivers open it)
    versions/<version>/manifest.json             the version's tables and their Parquet paths (and the
                                                 files written beside them, e.g. report.html)
    versions/<version>/report.html               what the caller's ``add_files`` wrote (the HTML report)
    serving.duckdb                               hard link to the current version's serving.duckdb
    manifest.json                                hard link to the current version's manifest.json
    current -> versions/<version>                symlink to the current version

A published version is immutable: its files are read-only (0444) and a WAL a client may have left beside
``serving.duckdb`` by opening it read-write is removed at the next switch, never replayed. Parquet readers
read ``manifest.json`` once and then the versioned paths it lists (or resolve ``current`` once), so one
session reads one version even while a new one is published.

Publishing writes a complete new version beside the old ones, then switches ``serving.duckdb`` and
``current`` with ``os.replace`` (an atomic rename on POSIX): a reader opening ``serving/serving.duckdb``
(``read_only=True``) sees the old version or the new one, never a mix, and a reader that already has the
old file open keeps reading it (the rename never touches an open file's inode). The publisher never opens
the stable path for writing, so readers and the pipeline never contend for a lock.

Retention keeps the newest ``keep`` versions (at least 2, so the version that was current just before a
publish survives it: a Parquet reader that resolved ``current`` just before the switch can finish). An
older version is deleted only after a newer one has been current for a whole publish cycle; DuckDB readers
that still hold its ``serving.duckdb`` open keep reading the unlinked inode.

``_serving_version`` (one row per table: version, run id, published_at, table, rows, checksum) lets a
reader check that what it reads is complete and consistent.

Which columns are published is declared in the dbt yml of the marts (the models, and the sources declared
in schema ``marts`` for the tables Python writes there), not guessed from their names: a
column marked ``config: {meta: {pii: true}}`` is personal data and left out; a column the yml lists
without it is published; a column the yml does not list at all stops the publish (nothing is switched),
so a new column reaches BI tools only after someone has said what it holds. Every mart enforces its
contract, so the yml lists exactly the columns the model builds. A column marked
``config: {meta: {bookkeeping: true}}`` is the pipeline's own state kept in a mart's rows (when the row was
written, the as_of and settings it was computed with: DECISIONLOG "Customer state is a model") and is left
out as well: it says nothing about customers and differs between an incremental build and a full one.

The same yml's descriptions become the table and column comments of ``serving.duckdb`` (``COMMENT ON``,
which BI tools show beside the names; ``duckdb_tables()`` / ``duckdb_columns()`` read them back).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import shutil
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

from transform.dbt import DbtManifestError, prepare_dbt_manifest

SERVED_SCHEMA = "marts"
SERVING_DB = "serving.duckdb"
MANIFEST = "manifest.json"
# The serving file is written in DuckDB 1.0's storage format: DuckDB 2.0 writes v69 by default, which
# DuckDB 1.x clients (most BI drivers) refuse to open; every reader from 1.0 on reads this one.
STORAGE_VERSION = "v1.0.0"
READ_ONLY = 0o444
CURRENT_LINK = "current"
VERSIONS_DIR = "versions"
PARQUET_DIR = "parquet"
VERSION_TABLE = "_serving_version"
DEFAULT_KEEP_VERSIONS = 3
MIN_KEEP_VERSIONS = 2
# The column meta key (in the marts' dbt yml) that marks personal data, left out of the serving copy.
PII_META_KEY = "pii"
# The column meta key that marks pipeline bookkeeping in a mart's rows, also left out.
BOOKKEEPING_META_KEY = "bookkeeping"
# dbt resources whose declared columns say what may be published: the marts models, and sources declared
# in the served schema for tables Python writes there (dbt/models/marts/repurchase/_clv_predicted__sources.yml).
PUBLISHED_RESOURCE_TYPES = ("model", "source")
_VERSION_PATTERN = re.compile(r"^[0-9A-Za-z][0-9A-Za-z_.-]{0,120}$")


class ServingError(RuntimeError):
    """The serving copy could not be published (nothing was switched)."""


@dataclass(frozen=True)
class PublishedVersion:
    version: str
    path: Path  # versions/<version>
    database: Path  # the stable serving.duckdb
    tables: dict[str, int]  # table -> rows
    dropped_columns: dict[str, list[str]]  # table -> columns declared personal data or bookkeeping, left out
    bytes_written: int
    seconds: float
    removed_versions: list[str]


def quote_identifier(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def new_version_id(run_id: str | None = None, now: dt.datetime | None = None) -> str:
    """A version id that sorts by publish time: ``<UTC timestamp>`` plus the run id's first 8 characters."""
    moment = (now or dt.datetime.now(dt.UTC)).strftime("%Y%m%dT%H%M%S%fZ")
    return f"{moment}_{run_id[:8]}" if run_id else moment


def mart_tables(con: duckdb.DuckDBPyConnection, schema: str = SERVED_SCHEMA) -> list[str]:
    """Tables and views of ``schema`` in the connected warehouse, by name."""
    rows = con.execute(
        "select table_name from information_schema.tables where table_schema = ? order by table_name",
        [schema],
    ).fetchall()
    return [row[0] for row in rows]


def declared_columns(manifest: Mapping[str, Any], schema: str = SERVED_SCHEMA) -> dict[str, dict[str, bool]]:
    """What the dbt yml declares about the columns of every model in ``schema``, from a dbt manifest:
    ``{table: {column: left_out}}``. ``left_out`` is the column's ``meta.pii`` (``config: {meta: {pii:
    true}}``: personal data) or its ``meta.bookkeeping`` (the pipeline's own state); false or absent is
    documented and publishable. Columns the yml does not list
    are absent, and so are tables of other schemas (``restricted.customer_pii``). Besides models, a dbt
    *source* declared in ``schema`` counts: tables written into the marts by Python (the predictive-CLV
    marts) are declared that way."""
    tables: dict[str, dict[str, bool]] = {}
    for node in [*manifest["nodes"].values(), *manifest.get("sources", {}).values()]:
        if node.get("resource_type") not in PUBLISHED_RESOURCE_TYPES or node.get("schema") != schema:
            continue
        table = node.get("alias") or node.get("identifier") or node["name"]
        columns: dict[str, bool] = {}
        for name, column in node.get("columns", {}).items():
            meta = {**(column.get("meta") or {}), **((column.get("config") or {}).get("meta") or {})}
            flags = {key: meta.get(key, False) for key in (PII_META_KEY, BOOKKEEPING_META_KEY)}
            for key, flag in flags.items():
                if not isinstance(flag, bool):
                    raise ServingError(
                        f"{node.get('patch_path') or node['original_file_path']}: column {table}.{name} has "
                        f"meta {key}: {flag!r}; write true (not published) or false"
                    )
            columns[name] = any(flags.values())
        tables[table] = columns
    return tables


# {table: (table description, {column: description})}, from the dbt yml (rendered doc blocks).
Descriptions = Mapping[str, tuple[str, Mapping[str, str]]]


def declared_descriptions(manifest: Mapping[str, Any], schema: str = SERVED_SCHEMA) -> dict:
    """The descriptions the dbt yml gives each table of ``schema`` and its columns (doc blocks rendered
    by dbt), whitespace collapsed; empty descriptions are left out."""
    described: dict[str, tuple[str, dict[str, str]]] = {}
    for node in [*manifest["nodes"].values(), *manifest.get("sources", {}).values()]:
        if node.get("resource_type") not in PUBLISHED_RESOURCE_TYPES or node.get("schema") != schema:
            continue
        table = node.get("alias") or node.get("identifier") or node["name"]
        columns = {
            name: " ".join(str(column.get("description") or "").split())
            for name, column in node.get("columns", {}).items()
        }
        described[table] = (
            " ".join(str(node.get("description") or "").split()),
            {name: text for name, text in columns.items() if text},
        )
    return described


def _project_manifest() -> dict[str, Any]:
    try:
        manifest = prepare_dbt_manifest()
    except DbtManifestError as error:
        raise ServingError(f"cannot tell which columns are personal data: {error}") from error
    return json.loads(manifest.read_text(encoding="utf-8"))


def project_declared_columns(schema: str = SERVED_SCHEMA) -> dict[str, dict[str, bool]]:
    """:func:`declared_columns` of the dbt project as it is on disk (parsed first when its manifest is
    missing or older than the project)."""
    return declared_columns(_project_manifest(), schema)


def project_descriptions(schema: str = SERVED_SCHEMA) -> dict:
    """:func:`declared_descriptions` of the dbt project as it is on disk."""
    return declared_descriptions(_project_manifest(), schema)


def split_columns(
    schema: str,
    table_columns: Mapping[str, list[str]],
    declared: Mapping[str, Mapping[str, bool]],
) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    """``(published, dropped)``: for each table, its columns in order, split by what the yml declares.

    Raises ``ServingError`` naming every column the yml does not document (a table the yml does not
    know has all its columns undocumented)."""
    undocumented = [
        f"{table}.{column}"
        for table, columns in table_columns.items()
        for column in columns
        if column not in declared.get(table, {})
    ]
    if undocumented:
        raise ServingError(
            f"{len(undocumented)} column(s) of schema {schema!r} are not documented in the dbt yml of the "
            "marts, so nothing was published: list each under its model in dbt/models/marts/**/_*.yml "
            f"(with config: {{meta: {{{PII_META_KEY}: true}}}} for personal data): " + ", ".join(undocumented)
        )
    published = {
        table: [column for column in columns if not declared[table][column]]
        for table, columns in table_columns.items()
    }
    if empty := sorted(table for table, kept in published.items() if not kept):
        raise ServingError(f"every column of {', '.join(empty)} is declared personal data: nothing to serve")
    dropped = {
        table: pii
        for table, columns in table_columns.items()
        if (pii := [c for c in columns if declared[table][c]])
    }
    return published, dropped


def _table_columns(con: duckdb.DuckDBPyConnection, schema: str, tables: list[str]) -> dict[str, list[str]]:
    rows = con.execute(
        "select table_name, column_name from information_schema.columns where table_schema = ? "
        "order by table_name, ordinal_position",
        [schema],
    ).fetchall()
    columns: dict[str, list[str]] = {table: [] for table in tables}
    for table, column in rows:
        if table in columns:
            columns[table].append(column)
    return columns


def publish_serving_copy(
    warehouse: Path,
    serving_dir: Path,
    *,
    version: str | None = None,
    run_id: str | None = None,
    keep: int = DEFAULT_KEEP_VERSIONS,
    schema: str = SERVED_SCHEMA,
    columns: Mapping[str, Mapping[str, bool]] | None = None,
    add_files: Callable[[Path], Iterable[str]] | None = None,
    descriptions: Descriptions | None = None,
) -> PublishedVersion:
    """Copy every table of ``schema`` from ``warehouse`` (opened read-only) to a new serving version,
    without the columns declared personal data, then switch ``serving.duckdb`` and ``current`` to it
    atomically and prune old versions.

    ``columns`` is what is declared about each table's columns (``{table: {column: pii}}``, see
    :func:`declared_columns`); by default the dbt project's yml (:func:`project_declared_columns`), whose
    descriptions then also become the tables' and columns' comments (``descriptions``, see
    :func:`declared_descriptions`; none when ``columns`` is given without them).

    ``add_files`` (e.g. the HTML report) is called with the new version's folder once its
    ``serving.duckdb`` and Parquet files are complete, before anything is made read-only or switched; it
    writes its files there and returns their names relative to the folder, which the manifest lists under
    ``files``. They are then read-only and switched with the marts they were drawn from. If it raises,
    nothing is switched.

    Raises ``ServingError`` (and switches nothing) when the warehouse or the schema is missing or empty,
    or when a column of a served table is not declared.
    """
    started = time.perf_counter()
    keep = max(keep, MIN_KEEP_VERSIONS)
    version = version or new_version_id(run_id)
    if not _VERSION_PATTERN.match(version):
        raise ServingError(f"serving version id {version!r} must be letters, digits, '_', '-' or '.'")
    if not warehouse.exists():
        raise ServingError(f"no warehouse at {warehouse}: run the pipeline before publishing")
    versions_dir = serving_dir / VERSIONS_DIR
    final_dir = versions_dir / version
    if final_dir.exists():
        raise ServingError(f"serving version {version} already exists at {final_dir}")
    if columns is None:
        declared = project_declared_columns(schema)
        if descriptions is None:
            descriptions = project_descriptions(schema)
    else:
        declared = columns
    staging_dir = versions_dir / f".{version}.partial"
    if staging_dir.exists():
        shutil.rmtree(staging_dir)
    (staging_dir / PARQUET_DIR).mkdir(parents=True)
    try:
        tables, dropped = _write_version(
            warehouse, staging_dir, schema, declared, version, run_id, add_files, descriptions or {}
        )
        # The version directory appears complete or not at all.
        os.replace(staging_dir, final_dir)
    except BaseException:
        shutil.rmtree(staging_dir, ignore_errors=True)
        raise
    _switch(serving_dir, final_dir)
    removed = prune_versions(serving_dir, keep=keep)
    size = sum(path.stat().st_size for path in final_dir.rglob("*") if path.is_file())
    return PublishedVersion(
        version=version,
        path=final_dir,
        database=serving_dir / SERVING_DB,
        tables=tables,
        dropped_columns=dropped,
        bytes_written=size,
        seconds=time.perf_counter() - started,
        removed_versions=removed,
    )


def _write_version(
    warehouse: Path,
    target: Path,
    schema: str,
    declared: Mapping[str, Mapping[str, bool]],
    version: str,
    run_id: str | None,
    add_files: Callable[[Path], Iterable[str]] | None = None,
    descriptions: Descriptions | None = None,
) -> tuple[dict[str, int], dict[str, list[str]]]:
    source = duckdb.connect(str(warehouse), read_only=True)
    try:
        # One read transaction: the catalog and every table come from the same committed state.
        source.execute("begin transaction")
        tables = mart_tables(source, schema)
        if not tables:
            raise ServingError(f"schema {schema!r} of {warehouse} has no tables: nothing to publish")
        published, dropped = split_columns(schema, _table_columns(source, schema, tables), declared)
        for table in tables:
            parquet = target / PARQUET_DIR / f"{table}.parquet"
            # The declared columns by name, never `*`: a column added meanwhile is not published.
            columns = ", ".join(quote_identifier(column) for column in published[table])
            source.execute(
                f"copy (select {columns} from {quote_identifier(schema)}.{quote_identifier(table)}) "
                f"to '{_sql_path(parquet)}' (format parquet, compression zstd)"
            )
        source.execute("commit")
    finally:
        source.close()
    rows, published_at = _build_database(target, published, version, run_id, descriptions or {})
    files = sorted(add_files(target)) if add_files is not None else []
    _write_manifest(target, version, run_id, published_at, rows, files)
    # A published version is never written again: read-only files, no WAL beside them.
    for path in target.rglob("*"):
        if path.is_file():
            os.chmod(path, READ_ONLY)
    return rows, dropped


def _sql_path(path: Path) -> str:
    """A path as a SQL string literal body; our own generated paths (validated version id, table names
    read from the catalog) only, with quotes doubled."""
    return str(path).replace("'", "''")


def _sql_text(text: str) -> str:
    """A description as a SQL string literal. ``COMMENT ON`` takes no bound parameter, so this is the one
    place text from the dbt yml enters a statement: quotes doubled (DuckDB's strings have no backslash
    escapes), control characters refused; it never ends the literal (a test publishes a description
    written as an injection and reads it back as text)."""
    if any(ord(char) < 32 for char in text):
        raise ServingError(f"description {text[:60]!r}... holds a control character: write it on one line")
    return "'" + text.replace("'", "''") + "'"


def _comment(
    con: duckdb.DuckDBPyConnection, table: str, columns: list[str], descriptions: Descriptions
) -> None:
    """The yml's descriptions of ``table`` and of its published ``columns`` as their comments."""
    table_text, column_texts = descriptions.get(table, ("", {}))
    if table_text:
        con.execute(f"comment on table {quote_identifier(table)} is {_sql_text(table_text)}")
    for column in columns:
        if text := column_texts.get(column):
            con.execute(
                f"comment on column {quote_identifier(table)}.{quote_identifier(column)} is {_sql_text(text)}"
            )


def _build_database(
    target: Path,
    published: Mapping[str, list[str]],
    version: str,
    run_id: str | None,
    descriptions: Descriptions,
) -> tuple[dict[str, int], dt.datetime]:
    """The version's self-contained DuckDB file, written in the storage format of :data:`STORAGE_VERSION`
    so that DuckDB 1.x clients (most BI drivers) open it too; the yml's descriptions as comments."""
    tables = list(published)
    database = target / SERVING_DB
    con = duckdb.connect()
    try:
        con.execute(f"attach '{_sql_path(database)}' as served (storage_version '{STORAGE_VERSION}')")
        con.execute("use served")
        rows: dict[str, int] = {}
        checksums: dict[str, int] = {}
        for table in tables:
            parquet = target / PARQUET_DIR / f"{table}.parquet"
            con.execute(
                f"create table {quote_identifier(table)} as select * from read_parquet(?)", [str(parquet)]
            )
            count, checksum = con.execute(
                f"select count(*), coalesce(sum(hash(t)), 0) % 1000000007 from {quote_identifier(table)} t"
            ).fetchone()
            rows[table] = int(count)
            checksums[table] = int(checksum)
            _comment(con, table, published[table], descriptions)
        con.execute(
            f"create table {VERSION_TABLE} (version varchar not null, run_id varchar, "
            "published_at timestamp not null, table_name varchar not null, row_count bigint not null, "
            "checksum bigint not null)"
        )
        published_at = dt.datetime.now(dt.UTC).replace(tzinfo=None)
        con.executemany(
            f"insert into {VERSION_TABLE} values (?, ?, ?, ?, ?, ?)",
            [(version, run_id, published_at, table, rows[table], checksums[table]) for table in tables],
        )
        con.execute("checkpoint served")
        con.execute("use memory")
        con.execute("detach served")
    finally:
        con.close()
    return rows, published_at


def _write_manifest(
    target: Path,
    version: str,
    run_id: str | None,
    published_at: dt.datetime,
    rows: Mapping[str, int],
    files: Iterable[str] = (),
) -> None:
    """``manifest.json`` of a version: its tables with their Parquet paths relative to the serving folder
    (``versions/<version>/parquet/<table>.parquet``), so a Parquet reader that resolves the manifest once
    reads every table from one version, whatever is published meanwhile; ``files`` are the other files
    of the version (the report), by the same kind of path."""
    manifest = {
        "version": version,
        "run_id": run_id,
        "published_at": published_at.isoformat(),
        "tables": {
            table: {"path": f"{VERSIONS_DIR}/{version}/{PARQUET_DIR}/{table}.parquet", "rows": count}
            for table, count in rows.items()
        },
        "files": {name: f"{VERSIONS_DIR}/{version}/{name}" for name in files},
    }
    (target / MANIFEST).write_text(json.dumps(manifest, indent=2, ensure_ascii=False), encoding="utf-8")


def _switch(serving_dir: Path, version_dir: Path) -> None:
    """Point ``serving.duckdb`` (hard link), ``manifest.json`` (hard link) and ``current`` (relative
    symlink) at ``version_dir``. A WAL left beside the stable path by a client that opened it read-write
    is removed first: it belongs to the old file and must never be replayed into the new one."""
    (serving_dir / f"{SERVING_DB}.wal").unlink(missing_ok=True)
    for name in (SERVING_DB, MANIFEST):
        stable = serving_dir / name
        tmp = serving_dir / f".{name}.{os.getpid()}.tmp"
        tmp.unlink(missing_ok=True)
        try:
            os.link(version_dir / name, tmp)
        except OSError:  # a file system without hard links: a copy, still switched by one rename
            shutil.copyfile(version_dir / name, tmp)
            os.chmod(tmp, READ_ONLY)
        os.replace(tmp, stable)
    tmp_link = serving_dir / f".{CURRENT_LINK}.{os.getpid()}.tmp"
    tmp_link.unlink(missing_ok=True)
    tmp_link.symlink_to(Path(VERSIONS_DIR) / version_dir.name, target_is_directory=True)
    os.replace(tmp_link, serving_dir / CURRENT_LINK)


def list_versions(serving_dir: Path) -> list[str]:
    """Complete versions, oldest first (version ids sort by publish time)."""
    versions_dir = serving_dir / VERSIONS_DIR
    if not versions_dir.is_dir():
        return []
    return sorted(
        entry.name
        for entry in versions_dir.iterdir()
        if entry.is_dir() and not entry.name.startswith(".") and (entry / SERVING_DB).exists()
    )


def current_version(serving_dir: Path) -> str | None:
    link = serving_dir / CURRENT_LINK
    if not link.is_symlink():
        return None
    return Path(os.readlink(link)).name


def prune_versions(serving_dir: Path, *, keep: int = DEFAULT_KEEP_VERSIONS) -> list[str]:
    """Delete all but the newest ``keep`` (at least 2) versions, never the current one, and the left-overs
    of an interrupted publish. Returns the version ids removed."""
    keep = max(keep, MIN_KEEP_VERSIONS)
    versions = list_versions(serving_dir)
    current = current_version(serving_dir)
    removable: Iterable[str] = versions[:-keep] if len(versions) > keep else []
    removed = []
    # Left-overs of an interrupted publish (runs are one at a time, so none is in progress now).
    versions_dir = serving_dir / VERSIONS_DIR
    if versions_dir.is_dir():
        for stale in versions_dir.glob(".*.partial"):
            shutil.rmtree(stale, ignore_errors=True)
    for stale in serving_dir.glob(".*.tmp"):
        stale.unlink(missing_ok=True)
    for version in removable:
        if version == current:
            continue
        shutil.rmtree(serving_dir / VERSIONS_DIR / version, ignore_errors=True)
        removed.append(version)
    return removed
