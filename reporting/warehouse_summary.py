"""Read-only look at the warehouse after a run: which mart tables exist and how many rows each has."""

from __future__ import annotations

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
