"""What every source writer needs: the timeline, the simulated data, where to write, what was emitted."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from .emitted import Emitted
from .orders import Orders
from .people import Timeline

XLSX_MAX_ROWS = 10_000  # openpyxl is slow (~20k cells/s): larger exports are written as CSV


@dataclass
class Ctx:
    landing: Path
    tl: Timeline
    people: pd.DataFrame
    orders: Orders
    emitted: Emitted
    rng: np.random.Generator
    daily_days: int = 0  # the last N days of the order exports are written one file per day (a daily delivery)
    files: dict[str, list[str]] = field(default_factory=dict)
    rows: dict[str, int] = field(default_factory=dict)
    notes: dict[str, object] = field(default_factory=dict)

    @property
    def start_month(self) -> np.datetime64:
        return self.tl.start.astype("datetime64[M]")

    @property
    def n_months(self) -> int:
        last = (self.tl.start + np.timedelta64(self.tl.end_s, "s")).astype("datetime64[M]")
        return int((last - self.start_month).astype(int)) + 1

    def month_of(self, seconds: np.ndarray) -> np.ndarray:
        dt = self.tl.to_dt(seconds).astype("datetime64[M]")
        return (dt - self.start_month).astype(np.int64)

    def month_bounds(self, months: np.ndarray) -> np.ndarray:
        """Row bounds of each month in rows sorted by time: month m is rows[b[m]:b[m + 1]]."""
        months = np.asarray(months)
        if months.size and (np.diff(months) < 0).any():
            raise ValueError("rows must be sorted by time before splitting them into monthly files")
        return np.searchsorted(months, np.arange(self.n_months + 1), side="left")

    def month_label(self, m: int) -> str:
        return str(self.start_month + np.timedelta64(m, "M"))

    # Order exports are split into files: one per month, except that with ``daily_days`` the last days are
    # written one file per day (what a merchant's daily export delivers). File f < n_months is month f (its
    # days before the daily ones); file n_months + d is the d-th daily day.

    @property
    def daily_from(self) -> np.datetime64:
        """The first day written as a daily file (after the last day when there is none)."""
        last = (self.tl.start + np.timedelta64(self.tl.end_s, "s")).astype("datetime64[D]")
        return last + np.timedelta64(1 - self.daily_days, "D")

    @property
    def n_files(self) -> int:
        return self.n_months + self.daily_days

    def file_of(self, seconds: np.ndarray) -> np.ndarray:
        """The file each row goes to (monotone in time, like month_of)."""
        day = self.tl.to_dt(seconds).astype("datetime64[D]")
        daily = (day - self.daily_from).astype(np.int64)
        return np.where(daily >= 0, self.n_months + daily, self.month_of(seconds))

    def file_bounds(self, files: np.ndarray) -> np.ndarray:
        """Row bounds of each file in rows sorted by time: file f is rows[b[f]:b[f + 1]]."""
        files = np.asarray(files)
        if files.size and (np.diff(files) < 0).any():
            raise ValueError("rows must be sorted by time before splitting them into files")
        return np.searchsorted(files, np.arange(self.n_files + 1), side="left")

    def file_month(self, f: int) -> int:
        """The month a file's rows belong to (a daily file: its day's month)."""
        if f < self.n_months:
            return f
        day = self.daily_from + np.timedelta64(f - self.n_months, "D")
        return int((day.astype("datetime64[M]") - self.start_month).astype(int))

    def file_label(self, f: int) -> str:
        """``YYYY-MM`` of a monthly file, ``YYYY-MM-DD`` of a daily one."""
        if f < self.n_months:
            return self.month_label(f)
        return str(self.daily_from + np.timedelta64(f - self.n_months, "D"))

    def month_range(self, m: int) -> tuple[str, str]:
        first = (self.start_month + np.timedelta64(m, "M")).astype("datetime64[D]")
        last = (self.start_month + np.timedelta64(m + 1, "M")).astype("datetime64[D]") - np.timedelta64(1, "D")
        first = max(first, self.tl.start.astype("datetime64[D]"))
        return str(first), str(last)

    def export_line(self, minutes: int) -> str:
        t = self.tl.export_at + np.timedelta64(minutes, "m")
        return "导出时间：" + str(t).replace("T", " ")[:16]

    def record(self, source: str, name: str, rows: int) -> None:
        self.files.setdefault(source, []).append(name)
        self.rows[source] = self.rows.get(source, 0) + rows

    def path(self, source: str, name: str) -> Path:
        p = self.landing / source / name
        p.parent.mkdir(parents=True, exist_ok=True)
        return p
