"""Read-only look at the warehouse after a run: which mart tables exist and how many rows each has."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb

from core.warehouse import MARTS_SCHEMA, quote_identifier


def schema_row_counts(warehouse: Path, schema: str = MARTS_SCHEMA) -> dict[str, int]:
    """Row count of every table and view in ``schema`` (empty when the warehouse or schema is missing)."""
    if not warehouse.exists():
        return {}
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        names = [
            row[0]
            for row in con.execute(
                "select table_name from information_schema.tables where table_schema = ? order by table_name",
                [schema],
            ).fetchall()
        ]
        return {
            name: con.execute(
                f"select count(*) from {quote_identifier(schema)}.{quote_identifier(name)}"
            ).fetchone()[0]
            for name in names
        }
    finally:
        con.close()


def purchase_date_range(warehouse: Path) -> tuple[dt.date | None, dt.date | None]:
    """First and last purchase day known to the warehouse's ``marts.fct_orders`` (None before a build)."""
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        exists = con.execute(
            "select count(*) from information_schema.tables where table_schema = ? and table_name = ?",
            [MARTS_SCHEMA, "fct_orders"],
        ).fetchone()[0]
        if not exists:
            return None, None
        first, last = con.execute(
            f"select min(cast(ordered_at as date)), max(cast(ordered_at as date)) "
            f"from {quote_identifier(MARTS_SCHEMA)}.fct_orders where is_purchase"
        ).fetchone()
        return first, last
    finally:
        con.close()
