"""What a raw gate reads from the warehouse: the table as a DataFrame (or a sample), the manifest's counts,
the freshness reference, and the rejected files still in the landing folder. No Dagster here.

Scale: GX validates a pandas DataFrame (DuckDB through SQLAlchemy needs duckdb-engine, not installed).
A table of at most ``max_rows`` rows (default :data:`SAMPLE_ROWS`) is validated whole; a bigger one is
validated on a repeatable reservoir sample of ``max_rows`` rows, and the aggregate rules that a sample
cannot judge are computed exactly in SQL instead: the row count against the manifest (a manifest rule of
the gate) and the newest event time (the freshness parameter is compared with the SQL maximum, so the
sample's maximum is not used).
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pandas as pd

from core.sources import REGISTRY, Freshness, get_source
from ingestion.adapters.base import file_sha256

SAMPLE_ROWS = 200_000
SAMPLE_SEED = 42

# Freshness: the newest event of a source may lie ``freshness.error_after_days`` (the source registry,
# core/sources.py) before the freshness reference (the newest event of all raw tables, or the configured
# as_of) at least. A small shop's feed is also quiet for longer between orders: the allowed gap widens to
# the gap a live feed at its own average rate leaves with less than 0.1% probability (Poisson:
# P(no event in t) = exp(-t / mean gap) = 0.001, t = ln(1000) x mean gap; see allowed_gap_days).
QUIET_GAP_FACTOR = math.log(1000)  # gaps a live feed leaves with probability < 0.1%


@dataclass(frozen=True)
class EventSpan:
    first: dt.datetime | None
    last: dt.datetime | None
    events: int

    @property
    def mean_gap_days(self) -> float | None:
        """Average days between events (None with fewer than two events)."""
        if self.first is None or self.last is None or self.events < 2:
            return None
        return (self.last - self.first).total_seconds() / 86_400 / (self.events - 1)


def event_span(con: duckdb.DuckDBPyConnection, source: str) -> EventSpan:
    """First and last event time of ``raw.<source>`` and how many rows have one (exact, SQL)."""
    column = get_source(source).event_time
    first, last, events = con.execute(
        f'select min("{column}"), max("{column}"), count("{column}") from raw."{source}"'
    ).fetchone()
    return EventSpan(first=first, last=last, events=int(events))


def allowed_gap_days(min_days: int, span: EventSpan) -> float:
    """Days the newest event may lie before the reference: ``min_days``, or more for a sparse feed."""
    mean_gap = span.mean_gap_days
    return max(float(min_days), QUIET_GAP_FACTOR * mean_gap) if mean_gap is not None else float(min_days)


@dataclass(frozen=True)
class RawFrame:
    frame: pd.DataFrame
    table_rows: int  # exact, from SQL
    sampled: bool


def read_raw_frame(con: duckdb.DuckDBPyConnection, source: str, max_rows: int = SAMPLE_ROWS) -> RawFrame:
    """``raw.<source>`` as a DataFrame with stable dtypes (nullable integers and booleans), or a repeatable
    reservoir sample of ``max_rows`` rows when the table is bigger."""
    get_source(source)  # raises on an unknown source: the name goes into SQL
    table_rows = int(con.execute(f'select count(*) from raw."{source}"').fetchone()[0])
    sampled = table_rows > max_rows
    if sampled:
        query = (
            f'select * from raw."{source}" using sample reservoir({int(max_rows)} rows) '
            f"repeatable ({SAMPLE_SEED})"
        )
    else:
        query = f'select * from raw."{source}"'
    frame = con.execute(query).df()
    for column in frame.columns:
        dtype = str(frame[column].dtype)
        if dtype in ("int32", "int64"):
            frame[column] = frame[column].astype(dtype.capitalize())
        elif dtype == "bool":
            frame[column] = frame[column].astype("boolean")
    return RawFrame(frame=frame, table_rows=table_rows, sampled=sampled)


def manifest_rows_loaded(con: duckdb.DuckDBPyConnection, source: str) -> int:
    """Rows the manifest says were loaded into ``raw.<source>`` (sum over its files)."""
    row = con.execute(
        "select coalesce(sum(rows_loaded), 0) from raw._files where source = ? and status = 'loaded'",
        [source],
    ).fetchone()
    return int(row[0])


def newest_event_times(con: duckdb.DuckDBPyConnection) -> dict[str, dt.datetime | None]:
    """The newest event time of every raw table (None when empty)."""
    found: dict[str, dt.datetime | None] = {}
    for source in REGISTRY:
        found[source.name] = con.execute(
            f'select max("{source.event_time}") from raw."{source.name}"'
        ).fetchone()[0]
    return found


def freshness_reference(newest: dict[str, dt.datetime | None], as_of: dt.date | None) -> dt.datetime | None:
    """The moment feeds are judged against: the end of ``as_of`` when given, else the newest event of all
    raw tables (the data's own "now"; the wall clock would fail every replayed or demo history)."""
    if as_of is not None:
        return dt.datetime.combine(as_of, dt.time.max).replace(microsecond=0)
    times = [value for value in newest.values() if value is not None]
    return max(times) if times else None


def fresh_since(reference: dt.datetime | None, days: float) -> dt.datetime | None:
    if reference is None:
        return None
    return (reference - dt.timedelta(days=days)).replace(microsecond=0)


def freshness_warning(
    policy: Freshness,
    event_time: str,
    newest: dt.datetime | None,
    reference: dt.datetime | None,
    span: EventSpan,
    error_days: int | None = None,
) -> str | None:
    """The non-blocking freshness warning of a feed whose newest event is older than the policy's
    ``warn_after_days`` allow (widened for a sparse feed like the error threshold), or None: no warn
    threshold (or one not below ``error_days``, default the policy's), fresh enough, or stale beyond the
    error threshold (which blocks instead)."""
    warn_days = policy.warn_after_days
    error_days = policy.error_after_days if error_days is None else error_days
    if warn_days is None or warn_days >= error_days or newest is None or reference is None:
        return None
    warn_allowed = allowed_gap_days(warn_days, span)
    warn_since = fresh_since(reference, warn_allowed)
    error_since = fresh_since(reference, allowed_gap_days(error_days, span))
    if newest >= warn_since or newest < error_since:
        return None
    return (
        f"newest {event_time} {newest} is older than {warn_since} ({warn_allowed:.1f} days before the "
        f"reference: warn after {warn_days})"
    )


@dataclass(frozen=True)
class RejectedFile:
    file_name: str
    message: str


def rejected_files_in_landing(
    con: duckdb.DuckDBPyConnection, landing: Path, source: str
) -> list[RejectedFile]:
    """Files of ``landing/<source>`` whose bytes the manifest recorded as rejected: broken exports still
    waiting to be replaced. A rejected file since removed or replaced (other bytes) no longer counts."""
    rows = con.execute(
        "select sha256, file_name, message from raw._files where source = ? and status = 'rejected' "
        "order by file_name",
        [source],
    ).fetchall()
    found = []
    for sha, name, message in rows:
        path = landing / name
        if path.is_file() and file_sha256(path) == sha:
            found.append(RejectedFile(file_name=name, message=message))
    return found


@dataclass(frozen=True)
class OverQuarantinedFile:
    file_name: str
    rows_in: int
    rows_quarantined: int
    message: str


def over_quarantined_files(
    con: duckdb.DuckDBPyConnection, landing: Path, source: str, max_share: float
) -> list[OverQuarantinedFile]:
    """Loaded files still in ``landing/<source>`` that sent more than ``max_share`` of their rows to
    quarantine: a systemic break (a money column of text, a shifted column), not the odd bad row. Their
    loaded rows would give marts a silently partial picture, so the gate blocks until the file is fixed."""
    rows = con.execute(
        "select sha256, file_name, rows_in, rows_quarantined, message from raw._files "
        "where source = ? and status = 'loaded' and rows_in > 0 and rows_quarantined > ? * rows_in "
        "order by file_name",
        [source, max_share],
    ).fetchall()
    found = []
    for sha, name, rows_in, quarantined, message in rows:
        path = landing / name
        if path.is_file() and file_sha256(path) == sha:
            found.append(OverQuarantinedFile(name, rows_in, quarantined, message))
    return found
