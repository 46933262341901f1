"""The holdout check: fit BG/NBD on the purchases up to ``as_of - holdout_days`` (calibration), predict
the holdout period, and compare with what the same customers did.

Three views, as in Fader, Hardie & Lee (2005), figures 2-4, one table:

- ``total``: all calibration customers' repeat purchases in the holdout, actual vs predicted;
- ``by_calibration_frequency``: customers grouped by their repeat purchases in calibration (0, 1, ..., 7+),
  actual vs conditional expected purchases per customer in the holdout (the conditional-expectation plot);
- ``tracking``: repeat purchases of the calibration cohort week by week over calibration and holdout,
  actual vs the model's unconditional expectation (equation 9 summed over customers by first-purchase
  day), with cumulative sums (the tracking plots).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd

from . import bgnbd
from .mle import FitResult
from .summary import summarize_daily, unit_days

FREQUENCY_BUCKETS = 7  # 0 .. 6, then "7+"
TRACKING_DAYS = 7
HOLDOUT_COLUMNS = (
    "section", "bucket", "period_start", "period_end", "customers", "actual_purchases",
    "predicted_purchases", "actual_per_customer", "predicted_per_customer", "actual_cumulative",
    "predicted_cumulative",
)  # fmt: skip


@dataclass(frozen=True)
class HoldoutCheck:
    calibration_end: dt.date
    as_of: dt.date
    fit: FitResult
    table: pd.DataFrame  # HOLDOUT_COLUMNS


def _bucket(frequency: np.ndarray) -> np.ndarray:
    labels = np.array([str(i) for i in range(FREQUENCY_BUCKETS)] + [f"{FREQUENCY_BUCKETS}+"])
    return labels[np.minimum(frequency.astype(int), FREQUENCY_BUCKETS)]


def holdout_check(
    daily: pd.DataFrame, as_of: dt.date, holdout_days: int, time_unit: str = "week"
) -> HoldoutCheck:
    """The check on :func:`prediction.summary.daily_transactions` rows (``customer_id``, ``day``,
    ``amount``). Raises ``prediction.mle.FitError`` when the calibration data cannot be fitted."""
    calibration_end = as_of - dt.timedelta(days=holdout_days)
    calibration = summarize_daily(daily, calibration_end, time_unit)
    fit = bgnbd.fit(
        calibration["frequency"].to_numpy(float),
        calibration["recency"].to_numpy(float),
        calibration["tenure"].to_numpy(float),
    )
    in_holdout = (daily["day"] > pd.Timestamp(calibration_end)) & (daily["day"] <= pd.Timestamp(as_of))
    actual_counts = daily.loc[in_holdout].groupby("customer_id").size()
    actual = actual_counts.reindex(calibration["customer_id"]).fillna(0).to_numpy(dtype=float)
    predicted = bgnbd.expected_purchases(
        fit.parameters,
        holdout_days / unit_days(time_unit),
        calibration["frequency"].to_numpy(float),
        calibration["recency"].to_numpy(float),
        calibration["tenure"].to_numpy(float),
    )
    holdout_start, holdout_end = calibration_end + dt.timedelta(days=1), as_of
    rows = [_comparison("total", "all", holdout_start, holdout_end, actual, predicted)]
    buckets = _bucket(calibration["frequency"].to_numpy(float))
    for label in [str(i) for i in range(FREQUENCY_BUCKETS)] + [f"{FREQUENCY_BUCKETS}+"]:
        chosen = buckets == label
        rows.append(
            _comparison(
                "by_calibration_frequency",
                label,
                holdout_start,
                holdout_end,
                actual[chosen],
                predicted[chosen],
            )
        )
    table = pd.concat(
        [pd.DataFrame(rows), _tracking(daily, calibration, fit.parameters, as_of, time_unit)],
        ignore_index=True,
    )
    return HoldoutCheck(
        calibration_end=calibration_end, as_of=as_of, fit=fit, table=table.loc[:, HOLDOUT_COLUMNS]
    )


def _comparison(
    section: str, bucket: str, start: dt.date, end: dt.date, actual: np.ndarray, predicted: np.ndarray
) -> dict[str, object]:
    customers = len(actual)
    return {
        "section": section,
        "bucket": bucket,
        "period_start": start,
        "period_end": end,
        "customers": customers,
        "actual_purchases": float(actual.sum()),
        "predicted_purchases": float(predicted.sum()),
        "actual_per_customer": float(actual.mean()) if customers else np.nan,
        "predicted_per_customer": float(predicted.mean()) if customers else np.nan,
        "actual_cumulative": np.nan,
        "predicted_cumulative": np.nan,
    }


def _tracking(
    daily: pd.DataFrame, calibration: pd.DataFrame, params: dict[str, float], as_of: dt.date, time_unit: str
) -> pd.DataFrame:
    """Week-by-week repeat purchases of the calibration cohort from its first purchase day to ``as_of``."""
    cohort = calibration[["customer_id", "first_purchase_date"]]
    births = pd.to_datetime(cohort["first_purchase_date"]).to_numpy(dtype="datetime64[D]")
    start = births.min()
    end = np.datetime64(as_of, "D")
    period_starts = np.arange(start, end + 1, np.timedelta64(TRACKING_DAYS, "D"))
    period_ends = np.minimum(period_starts + np.timedelta64(TRACKING_DAYS - 1, "D"), end)
    # Actual: the cohort's transaction days after each customer's first, per period.
    first_day = pd.Series(births, index=cohort["customer_id"].to_numpy())
    rows = daily[daily["customer_id"].isin(first_day.index) & (daily["day"] <= pd.Timestamp(as_of))]
    days = rows["day"].to_numpy(dtype="datetime64[D]")
    repeat_days = days[days > first_day.reindex(rows["customer_id"]).to_numpy(dtype="datetime64[D]")]
    period = ((repeat_days - start) // np.timedelta64(TRACKING_DAYS, "D")).astype(int)
    actual = np.bincount(period, minlength=len(period_starts)).astype(float)[: len(period_starts)]
    # Predicted: E[X(t)] at each period's end (end of day), summed over the cohort by first-purchase day.
    birth_days, born = np.unique(births, return_counts=True)
    elapsed_days = (period_ends[:, None] - birth_days[None, :]).astype(float)
    elapsed = np.clip(elapsed_days, 0, None) / unit_days(time_unit)
    cumulative = (bgnbd.expected_purchases_new_customer(params, elapsed) * born[None, :]).sum(axis=1)
    predicted = np.diff(cumulative, prepend=0.0)
    return pd.DataFrame(
        {
            "section": "tracking",
            "bucket": [f"week {i + 1}" for i in range(len(period_starts))],
            "period_start": pd.to_datetime(period_starts).date,
            "period_end": pd.to_datetime(period_ends).date,
            "customers": [int((births <= s).sum()) for s in period_ends],
            "actual_purchases": actual,
            "predicted_purchases": predicted,
            "actual_per_customer": np.nan,
            "predicted_per_customer": np.nan,
            "actual_cumulative": np.cumsum(actual),
            "predicted_cumulative": cumulative,
        }
    )
