"""Transactions -> one row per customer: what the BG/NBD and Gamma-Gamma models read.

Conventions of the customer-base literature (Fader, Hardie & Lee 2005; Fader & Hardie's CDNOW notes):

- purchases on one calendar day are one transaction (their amounts summed);
- ``frequency`` x = repeat transactions (transaction days after the first), ``recency`` t_x = time from
  the first to the last transaction, ``tenure`` T = time from the first transaction to the calibration
  end, in the time unit (a week = 7 days; fractional);
- ``monetary`` = mean spend of the repeat transactions (the first is left out, as in Fader & Hardie's
  "The Gamma-Gamma model of monetary value"); NaN when x = 0.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

TIME_UNIT_DAYS: dict[str, float] = {"day": 1.0, "week": 7.0, "month": 365.25 / 12}
SUMMARY_COLUMNS = ("customer_id", "first_purchase_date", "frequency", "recency", "tenure", "monetary")


class SummaryError(ValueError):
    """The transactions cannot be summarised (a missing column, an unparseable date or amount)."""


def unit_days(time_unit: str) -> float:
    """Days in ``time_unit`` (day, week, month = 365.25/12 days)."""
    try:
        return TIME_UNIT_DAYS[time_unit]
    except KeyError:
        raise SummaryError(
            f"unknown time unit {time_unit!r}: use one of {', '.join(TIME_UNIT_DAYS)}"
        ) from None


def daily_transactions(
    transactions: pd.DataFrame, customer_column: str, date_column: str, amount_column: str
) -> pd.DataFrame:
    """One row per customer and day (``customer_id``, ``day`` as datetime64, ``amount`` summed).

    Raises ``SummaryError`` naming the column and the first row (0-based) whose value is not a date, not
    a number, or missing."""
    days = pd.to_datetime(transactions[date_column], errors="coerce")
    amounts = pd.to_numeric(transactions[amount_column], errors="coerce")
    for column, parsed, what in (
        (customer_column, transactions[customer_column], "a customer id"),
        (date_column, days, "a date (YYYY-MM-DD)"),
        (amount_column, amounts, "a number"),
    ):
        bad = parsed.isna().to_numpy()
        if bad.any():
            row = int(np.flatnonzero(bad)[0])
            raise SummaryError(
                f"column {column!r}, row {row + 1} (value {transactions[column].iloc[row]!r}) is not {what}; "
                f"{int(bad.sum())} such row(s): fix or drop them"
            )
    frame = pd.DataFrame(
        {
            "customer_id": transactions[customer_column].to_numpy(),
            "day": days.dt.normalize().to_numpy(),
            "amount": amounts.to_numpy(dtype=float),
        }
    )
    return frame.groupby(["customer_id", "day"], sort=True, as_index=False)["amount"].sum()


def summarize_daily(daily: pd.DataFrame, calibration_end: dt.date, time_unit: str = "week") -> pd.DataFrame:
    """:data:`SUMMARY_COLUMNS` from :func:`daily_transactions` rows, for the transactions on or before
    ``calibration_end`` (customers whose first purchase is later are left out)."""
    per_unit = unit_days(time_unit)
    end = pd.Timestamp(calibration_end)
    daily = daily[daily["day"] <= end]
    if daily.empty:
        return pd.DataFrame({column: [] for column in SUMMARY_COLUMNS})
    daily = daily.sort_values(["customer_id", "day"], kind="stable")
    grouped = daily.groupby("customer_id", sort=True)
    first = grouped["day"].transform("min")
    is_repeat = daily["day"] > first
    stats = grouped.agg(first_day=("day", "min"), last_day=("day", "max"), days=("day", "size"))
    repeat_spend = daily.loc[is_repeat].groupby("customer_id", sort=True)["amount"].mean()
    day_ns = np.timedelta64(1, "D")
    summary = pd.DataFrame(
        {
            "customer_id": stats.index.to_numpy(),
            "first_purchase_date": stats["first_day"].dt.date.to_numpy(),
            "frequency": (stats["days"] - 1).to_numpy(dtype=float),
            "recency": ((stats["last_day"] - stats["first_day"]) / day_ns).to_numpy(dtype=float) / per_unit,
            "tenure": ((end - stats["first_day"]) / day_ns).to_numpy(dtype=float) / per_unit,
            "monetary": repeat_spend.reindex(stats.index).to_numpy(dtype=float),
        }
    )
    return summary


def summarize_transactions(
    transactions: pd.DataFrame,
    *,
    customer_column: str,
    date_column: str,
    amount_column: str,
    calibration_end: dt.date,
    time_unit: str = "week",
) -> pd.DataFrame:
    """:data:`SUMMARY_COLUMNS`, one row per customer with a purchase on or before ``calibration_end``."""
    missing = [c for c in (customer_column, date_column, amount_column) if c not in transactions.columns]
    if missing:
        raise SummaryError(
            f"column(s) {', '.join(missing)} not found; the columns are: {', '.join(map(str, transactions.columns))}"
        )
    daily = daily_transactions(transactions, customer_column, date_column, amount_column)
    return summarize_daily(daily, calibration_end, time_unit)


def distinct_rows(*columns: np.ndarray) -> tuple[tuple[np.ndarray, ...], np.ndarray, np.ndarray]:
    """The distinct rows of ``columns`` (equal-length float arrays), each row's position among them and
    how many times each occurs.

    Each column is factorised on its own (a 1-D sort), then the codes are combined into one integer key:
    much faster than a row-wise unique on millions of rows."""
    key = np.zeros(len(columns[0]), dtype=np.int64)
    for column in columns:
        distinct, codes = np.unique(np.asarray(column, dtype=float), return_inverse=True)
        if len(distinct) and (int(key.max(initial=0)) + 1) > np.iinfo(np.int64).max // len(distinct):
            raise OverflowError("too many distinct rows to aggregate")
        key = key * len(distinct) + codes.ravel()
    _, first, position, counts = np.unique(key, return_index=True, return_inverse=True, return_counts=True)
    rows = tuple(np.asarray(column, dtype=float)[first] for column in columns)
    return rows, position.ravel(), counts.astype(float)


def aggregate_rows(*columns: np.ndarray) -> tuple[tuple[np.ndarray, ...], np.ndarray]:
    """The distinct rows of ``columns`` and how many times each occurs (see :func:`distinct_rows`)."""
    rows, _, counts = distinct_rows(*columns)
    return rows, counts
