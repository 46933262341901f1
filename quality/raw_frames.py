"""What a raw gate reads from the warehouse: the table as a DataFrame (or a sample), the manifest's counts,
when the source's files arrived (freshness), and the rejected or over-quarantined files still in the
landing folder. No Dagster here.

Scale: GX validates a pandas DataFrame (DuckDB through SQLAlchemy needs duckdb-engine, not installed).
A table of at most ``max_rows`` rows (default :data:`SAMPLE_ROWS`) is validated whole; a bigger one is
validated on a repeatable reservoir sample of ``max_rows`` rows, and the row count against the manifest,
which a sample cannot judge, is computed exactly in SQL instead (a manifest rule of the gate).

Freshness is judged per feed on when its files ARRIVED, like dbt's source freshness, never on business
events (a member list is a snapshot: nobody registering lately is not a stale feed; one sale dated 2099
must not move anything): a file's arrival is the export time its name states (a 14-digit
``YYYYMMDDHHMMSS`` in Beijing time, e.g. ``ExportOrderList20261031123456.csv``), else when the loader
first saw it (``raw._files.loaded_at``, UTC). Title rows such as ``导出时间：2026-10-31 10:00`` are not
used: the reader skips them without keeping their text. The newest arrival of the source's loaded files is
compared with the wall clock (UTC) and the registry's ``warn_after_days`` / ``error_after_days``; no other
source takes part.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import stat
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import duckdb
import pandas as pd

from core.sources import Freshness, get_source
from ingestion.adapters.base import file_sha256

SAMPLE_ROWS = 200_000
SAMPLE_SEED = 42

# Freshness: file arrival.
NAME_TIMESTAMP = re.compile(r"(?<!\d)(\d{14})(?!\d)")  # 20261031123456, not part of a longer number
BEIJING_UTC_OFFSET = dt.timedelta(hours=8)  # export times in names are Beijing time (no DST)
OLDEST_EXPORT_YEAR = 2000  # a 14-digit number read as an earlier "date" is an id, not an export time
# An export time may lie a little after loaded_at (the merchant's PC clock runs ahead); beyond this it is
# not an export time (a future date, an id that happens to parse) and loaded_at dates the file instead.
CLOCK_SKEW = dt.timedelta(hours=1)
DATED_BY_NAME = "export time in the file name"
DATED_BY_LOADED_AT = "loaded_at (when the loader first saw it)"
FRESH, WARN, ERROR, NO_FILE = "fresh", "warn", "error", "no file loaded yet"


def utc_now() -> dt.datetime:
    """The wall clock, UTC, naive (as ``raw._files.loaded_at`` is stored)."""
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def export_time_from_name(file_name: str) -> dt.datetime | None:
    """The export time a file's name states, converted to UTC (naive), or None: the first 14-digit run of
    the name (not of its folders) that is a real Beijing date and time ``YYYYMMDDHHMMSS``."""
    for match in NAME_TIMESTAMP.finditer(PurePosixPath(file_name).name):
        try:
            beijing = dt.datetime.strptime(match.group(1), "%Y%m%d%H%M%S")
        except ValueError:
            continue
        if beijing.year >= OLDEST_EXPORT_YEAR:
            return beijing - BEIJING_UTC_OFFSET
    return None


@dataclass(frozen=True)
class FileArrival:
    file_name: str  # relative to the landing folder, e.g. tmall/tmall_2026-10.csv
    arrived_at: dt.datetime  # UTC
    dated_by: str  # DATED_BY_NAME / DATED_BY_LOADED_AT
    loaded_at: dt.datetime  # UTC
    note: str | None = None  # why a time in the name was not used


def file_arrival(file_name: str, loaded_at: dt.datetime) -> FileArrival:
    """When a file arrived: the export time in its name, unless it is later than the file was loaded (a
    file cannot be exported after it arrived: then the name's number is no export time), else loaded_at."""
    exported = export_time_from_name(file_name)
    if exported is None:
        return FileArrival(file_name, loaded_at, DATED_BY_LOADED_AT, loaded_at)
    if exported > loaded_at + CLOCK_SKEW:
        note = f"the time in its name ({exported:%Y-%m-%d %H:%M} UTC) is after it was loaded: not used"
        return FileArrival(file_name, loaded_at, DATED_BY_LOADED_AT, loaded_at, note)
    return FileArrival(file_name, exported, DATED_BY_NAME, loaded_at)


def newest_arrival(con: duckdb.DuckDBPyConnection, source: str) -> FileArrival | None:
    """The newest arrival among the files of ``source`` the manifest recorded as loaded (rejected and
    set-aside files delivered nothing), or None when none was."""
    rows = con.execute(
        "select file_name, loaded_at from raw._files where source = ? and status = 'loaded' "
        "and loaded_at is not null",
        [source],
    ).fetchall()
    arrivals = [file_arrival(name, loaded_at) for name, loaded_at in rows]
    return max(arrivals, key=lambda a: (a.arrived_at, a.file_name), default=None)


@dataclass(frozen=True)
class FreshnessVerdict:
    source: str
    policy: Freshness
    now: dt.datetime  # UTC
    arrival: FileArrival | None
    verdict: str  # FRESH / WARN / ERROR / NO_FILE

    @property
    def age_days(self) -> float | None:
        if self.arrival is None:
            return None
        return (self.now - self.arrival.arrived_at).total_seconds() / 86_400

    @property
    def message(self) -> str | None:
        """What is wrong and what to do (None unless WARN or ERROR)."""
        if self.verdict not in (WARN, ERROR) or self.arrival is None:
            return None
        a = self.arrival
        limit = self.policy.error_after_days if self.verdict == ERROR else self.policy.warn_after_days
        level = "error_after_days" if self.verdict == ERROR else "warn_after_days"
        if self.verdict == ERROR:
            consequence = "the marts would go on as if nothing had been sold since"
        elif self.policy.error_after_days is None:
            consequence = "a warning only: this feed never blocks"
        else:
            consequence = f"a warning only; it blocks after {self.policy.error_after_days} days"
        return (
            f"{self.source}: no new file for {self.age_days:.1f} days: the newest, {a.file_name}, arrived "
            f"{a.arrived_at:%Y-%m-%d %H:%M} UTC (dated by {a.dated_by}), more than {level} = {limit} "
            f"(core/sources.py): {consequence}. Remedy: drop a fresh {self.source} export into "
            f"landing/{self.source}/, then run `repurchase run`"
        )


def judge_freshness(
    source: str, policy: Freshness, arrival: FileArrival | None, now: dt.datetime
) -> FreshnessVerdict:
    """The verdict on one feed from its own newest arrival only: ERROR when older than
    ``error_after_days``, WARN when older than ``warn_after_days``, else FRESH; NO_FILE without a loaded
    file (a merchant without that channel: nothing to judge)."""
    if arrival is None:
        return FreshnessVerdict(source, policy, now, None, NO_FILE)
    age = now - arrival.arrived_at
    if policy.error_after_days is not None and age > dt.timedelta(days=policy.error_after_days):
        verdict = ERROR
    elif policy.warn_after_days is not None and age > dt.timedelta(days=policy.warn_after_days):
        verdict = WARN
    else:
        verdict = FRESH
    return FreshnessVerdict(source, policy, now, arrival, verdict)


def newest_event_time(con: duckdb.DuckDBPyConnection, source: str) -> dt.datetime | None:
    """The newest business event of ``raw.<source>`` (information shown by the gate, judges nothing)."""
    column = get_source(source).event_time
    return con.execute(f'select max("{column}") from raw."{source}"').fetchone()[0]


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
        path = landed_file(landing, name)
        if path is not None and file_sha256(path) == sha:
            found.append(RejectedFile(file_name=name, message=message))
    return found


def landed_file(landing: Path, name: str) -> Path | None:
    """``landing/<name>`` when it is a regular file inside the landing folder, else None: a symlink (or a
    path through a symlinked folder) is never opened, wherever it points."""
    path = landing / name
    try:
        if not stat.S_ISREG(os.lstat(path).st_mode):
            return None
    except OSError:
        return None
    if not path.resolve().is_relative_to(landing.resolve()):
        return None
    return path


@dataclass(frozen=True)
class OverQuarantinedFile:
    file_name: str
    rows_in: int
    rows_quarantined: int
    message: str
    first_rows: tuple[str, ...] = ()  # "row 5: <reason>" from raw._quarantine, the first few


QUARANTINE_ROWS_SHOWN = 3


def _first_quarantined_rows(con: duckdb.DuckDBPyConnection, sha: str) -> tuple[str, ...]:
    """The first quarantined rows of a file as "row N: reason" (the reason's cell values, in parentheses,
    left out: they stay in raw._quarantine)."""
    rows = con.execute(
        "select row_number, reason from raw._quarantine where file_sha256 = ? order by row_number limit ?",
        [sha, QUARANTINE_ROWS_SHOWN],
    ).fetchall()
    return tuple(f"row {number}: {str(reason).split(' (')[0]}" for number, reason in rows)


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
        path = landed_file(landing, name)
        if path is not None and file_sha256(path) == sha:
            found.append(
                OverQuarantinedFile(name, rows_in, quarantined, message, _first_quarantined_rows(con, sha))
            )
    return found
