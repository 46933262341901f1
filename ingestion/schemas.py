"""Schema of every raw table: ``raw.<source>``, ``raw._quarantine`` and ``raw._files``.

Adapters turn a native export into a frame with exactly the columns of ``CANONICAL[source]`` (plus the
lineage columns in ``LINEAGE``); the loader creates the tables from these definitions. The canonical
columns and their types are the source registry's (``core/sources.py``, which also says how values are
written: native categorical values, text ids, DECIMAL(18,2) money, naive Beijing time, normalised phones
with ``phone_masked`` / ``phone_issue``); the lineage, quarantine and manifest columns are defined here.
"""

from __future__ import annotations

from core.sources import REGISTRY

# Lineage columns every raw table carries, in this order, after the canonical columns.
LINEAGE: dict[str, str] = {
    "_file_sha256": "VARCHAR",  # sha256 of the file's bytes: idempotency key (with _row_number)
    "_file_name": "VARCHAR",  # path relative to the landing folder, e.g. pos/pos_2025-03.csv
    "_row_number": "INTEGER",  # 1-based row in the file as a person sees it (Excel row / text line)
    "_extra": "JSON",  # native columns the adapter could not map, {native header: value}
    "_loaded_at": "TIMESTAMP",  # UTC load time
}
# Lineage columns the loader always fills (_extra is null when there is nothing to keep).
LINEAGE_NOT_NULL: tuple[str, ...] = ("_file_sha256", "_file_name", "_row_number", "_loaded_at")

# Canonical columns and DuckDB types of every raw.<source>, from the source registry.
CANONICAL: dict[str, dict[str, str]] = {source.name: source.column_types for source in REGISTRY}

QUARANTINE: dict[str, str] = {
    "source": "VARCHAR",
    "file_name": "VARCHAR",
    "file_sha256": "VARCHAR",
    "row_number": "INTEGER",
    "raw_row": "JSON",  # {native header: cell text}
    "reason": "VARCHAR",  # e.g. "订单编号: id destroyed by Excel (1.23457E+18)"
    "quarantined_at": "TIMESTAMP",
}

FILES: dict[str, str] = {
    "source": "VARCHAR",
    "file_name": "VARCHAR",  # relative to the landing folder
    "sha256": "VARCHAR",
    "size_bytes": "BIGINT",
    "rows_in": "INTEGER",  # data rows found (title, header, total and blank rows excluded)
    "rows_loaded": "INTEGER",
    "rows_quarantined": "INTEGER",
    "status": "VARCHAR",  # loaded / rejected
    "message": "VARCHAR",  # what happened, in words a person can act on
    "loaded_at": "TIMESTAMP",
}


# The automated touch's send log: one row per trigger touch exported (reporting/trigger_exports.py appends
# a day's rows, replacing that as_of's earlier rows); dbt reads it back as source raw._touch_send_log for
# the next days' frequency cap.
TOUCH_SEND_LOG: dict[str, str] = {
    "as_of_date": "DATE",  # the trigger day whose lists were exported
    "customer_id": "VARCHAR",
    "trigger_code": "VARCHAR",
    "channel": "VARCHAR",  # sms / wecom / email
    "exported_at": "TIMESTAMP",
}


def raw_table_columns(source: str) -> dict[str, str]:
    """All columns of raw.<source>: canonical columns then lineage columns."""
    return {**CANONICAL[source], **LINEAGE}


def create_raw_tables(con) -> None:
    """Create the raw schema and every raw table if missing (names come from this module, never files)."""
    con.execute("create schema if not exists raw")
    tables = {source: raw_table_columns(source) for source in CANONICAL}
    tables["_quarantine"] = QUARANTINE
    tables["_files"] = FILES
    tables["_touch_send_log"] = TOUCH_SEND_LOG
    for table, columns in tables.items():
        cols = ", ".join(f'"{name}" {dtype}' for name, dtype in columns.items())
        con.execute(f'create table if not exists raw."{table}" ({cols})')
        # a warehouse created before a column joined the registry (e.g. 生日) gets it, null for old rows
        for name, dtype in columns.items():
            con.execute(f'alter table raw."{table}" add column if not exists "{name}" {dtype}')
