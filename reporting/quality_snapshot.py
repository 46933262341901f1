"""The data-quality facts the report shows, recorded with each serving version (``quality.json``).

The serving copy holds the marts only; the ingestion manifest (``raw._files``) and the run's check
results live in the warehouse and in Dagster. At publish time they are summarised here into a small
JSON-able dict written beside the marts, so the report of a version (drawn then or later by
``repurchase report``) shows the quality of the run that published it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any

import duckdb

from core.warehouse import RAW_SCHEMA

# raw._files.status values (ingestion.loader / ingestion.set_aside).
_FILES_SQL = f"""
    select source,
        count(*) filter (where status = 'loaded') as files_loaded,
        count(*) filter (where status = 'loaded' and rows_quarantined > 0) as files_with_quarantine,
        count(*) filter (where status = 'rejected') as files_rejected,
        count(*) filter (where status = 'set_aside') as files_set_aside,
        coalesce(sum(rows_loaded) filter (where status = 'loaded'), 0) as rows_loaded,
        coalesce(sum(rows_quarantined) filter (where status = 'loaded'), 0) as rows_quarantined
    from {RAW_SCHEMA}._files
    group by source
    order by source
"""


def ingestion_files(con: duckdb.DuckDBPyConnection) -> list[dict[str, Any]]:
    """Files loaded / with quarantined rows / rejected / set aside, and rows, per source of
    ``raw._files`` (empty when the warehouse has no manifest)."""
    present = con.execute(
        "select count(*) from information_schema.tables where table_schema = ? and table_name = '_files'",
        [RAW_SCHEMA],
    ).fetchone()[0]
    if not present:
        return []
    cursor = con.execute(_FILES_SQL)
    names = [column[0] for column in cursor.description]
    return [
        {
            name: (int(value) if isinstance(value, int) else value)
            for name, value in zip(names, row, strict=True)
        }
        for row in cursor.fetchall()
    ]


def quality_snapshot(
    con: duckdb.DuckDBPyConnection, gates: Iterable[Mapping[str, Any]], *, run_id: str | None = None
) -> dict[str, Any]:
    """``{"run_id", "recorded_at", "files": [...per source], "gates": [{name, passed, blocking}]}``."""
    return {
        "run_id": run_id,
        "recorded_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "files": ingestion_files(con),
        "gates": [dict(gate) for gate in gates],
    }
