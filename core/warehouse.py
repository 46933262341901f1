"""Names every layer shares about the warehouse: its schemas and how to quote an identifier.

Table and schema names in SQL come from code (dbt's manifest, these constants), never from file
contents; :func:`quote_identifier` still quotes them, so an odd model name cannot break a statement.
"""

from __future__ import annotations

RAW_SCHEMA = "raw"
MARTS_SCHEMA = "marts"  # what BI reads: published to the serving copy, snapshotted by the backfill
RESTRICTED_SCHEMA = "restricted"  # personal data: never published


def quote_identifier(name: str) -> str:
    """``name`` as a double-quoted SQL identifier (embedded quotes doubled)."""
    return '"' + name.replace('"', '""') + '"'
