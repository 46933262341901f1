"""Hand-written raw rows for identity tests: insert dicts into raw.<source> (missing columns are null)."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from pathlib import Path

import duckdb
import pandas as pd

from ingestion.schemas import create_raw_tables, raw_table_columns

LOADED_AT = dt.datetime(2025, 6, 1, 0, 0, 0)


def insert_raw(con: duckdb.DuckDBPyConnection, source: str, file_name: str, rows: list[dict]) -> None:
    """Append rows to raw.<source> as if one landed file held them (row numbers 2.., lineage filled)."""
    columns = raw_table_columns(source)
    unknown = set().union(*(row.keys() for row in rows)) - set(columns)
    if unknown:
        raise ValueError(f"raw.{source} has no column(s) {sorted(unknown)}")
    sha = hashlib.sha256(f"{source}/{file_name}".encode()).hexdigest()
    records = []
    for number, row in enumerate(rows, start=2):
        record = {name: row.get(name) for name in columns}
        record.update(
            _file_sha256=sha,
            _file_name=f"{source}/{file_name}",
            _row_number=number,
            _extra=json.dumps({}),
            _loaded_at=row.get("_loaded_at", LOADED_AT),
        )
        records.append(record)
    frame = pd.DataFrame.from_records(records, columns=list(columns))
    con.register("_rows", frame)
    try:
        select_list = ", ".join(f'cast("{name}" as {dtype}) as "{name}"' for name, dtype in columns.items())
        con.execute(f'insert into raw."{source}" select {select_list} from _rows')
    finally:
        con.unregister("_rows")


def open_warehouse(data_dir: Path) -> duckdb.DuckDBPyConnection:
    data_dir.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(data_dir / "warehouse.duckdb"))
    create_raw_tables(con)
    return con


def ts(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text)
