"""What the platform reported, kept as reported: the KPIs of the as_of period, appended after every good
run (no Dagster here).

A backfill (``repurchase backfill``) recomputes a past day with today's knowledge: later refunds are netted,
later identity merges applied, so its August may read 404 purchasing customers where the run of Aug 31
reported 406. Both are honest answers to different questions. This module keeps the second kind — what
was *reported* on a day — so it can be compared with the *restated* figures of a backfill:

    <data dir>/history/reported/kpi_monthly/as_of=<as_of>/kpis.parquet
    <data dir>/history/reported/kpi_quarterly/as_of=<as_of>/kpis.parquet

Each file holds the rows of ``marts.kpi_<grain>`` for the period containing as_of (every dimension), with
``as_of_date``, ``reported_at`` (UTC) and ``run_id`` in front. A run for the same as_of replaces that
as_of's file (the latest report of that day wins); other days are never touched. Files are written to a
temporary name and renamed, so readers (``read_parquet('.../kpi_monthly/*/*.parquet',
hive_partitioning = true, union_by_name = true)``) never see half a file and never hold a lock the
pipeline needs.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import duckdb

from core.warehouse import MARTS_SCHEMA, quote_identifier

REPORTED_DIR = Path("history") / "reported"
GRAINS = ("kpi_monthly", "kpi_quarterly")


def reported_path(root: Path, grain: str, as_of: dt.date) -> Path:
    return root / REPORTED_DIR / grain / f"as_of={as_of.isoformat()}" / "kpis.parquet"


def append_reported_kpis(con: duckdb.DuckDBPyConnection, root: Path, run_id: str | None) -> dict[str, int]:
    """Write the as_of period's rows of each KPI mart under ``root``; returns rows written per grain."""
    as_of = con.execute(f"select as_of_date from {MARTS_SCHEMA}.repurchase_as_of").fetchone()[0]
    reported_at = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    written: dict[str, int] = {}
    for grain in GRAINS:
        target = reported_path(root, grain, as_of)
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
        relation = f"{MARTS_SCHEMA}.{quote_identifier(grain)}"
        query = (
            f"select cast(? as date) as as_of_date, cast(? as timestamp) as reported_at, "
            f"cast(? as varchar) as run_id, kpis.* from {relation} as kpis "
            "where ? between kpis.period_start and kpis.period_end "
            "order by kpis.dimension, kpis.dimension_value"
        )
        params = [as_of, reported_at, run_id, as_of]
        rows = con.execute(f"select count(*) from ({query})", params).fetchone()[0]
        escaped = str(tmp).replace("'", "''")
        con.execute(f"copy ({query}) to '{escaped}' (format parquet)", params)
        os.replace(tmp, target)
        written[grain] = int(rows)
    return written
