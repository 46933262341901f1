"""Transactions -> (x, t_x, T, monetary): the literature's conventions on hand-computed fixtures."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from prediction.summary import SummaryError, aggregate_rows, summarize_transactions

CALIBRATION_END = dt.date(2026, 1, 29)


def _transactions() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "cust": ["a", "a", "a", "a", "b", "c", "c", "d"],
            "day": ["2026-01-01", "2026-01-01", "2026-01-08", "2026-01-15", "2026-01-22", "2026-01-01",
                    "2026-01-01", "2026-02-05"],
            "amount": [10.0, 5.0, 20.0, 30.0, 7.0, 3.0, 4.0, 99.0],
        }
    )  # fmt: skip


def _summarize(frame: pd.DataFrame, *, amount: str = "amount", **options: object) -> pd.DataFrame:
    return summarize_transactions(
        frame, customer_column="cust", date_column="day", amount_column=amount,
        **{"calibration_end": CALIBRATION_END, **options},
    )  # fmt: skip


def test_same_day_purchases_are_one_transaction_and_times_are_in_weeks() -> None:
    summary = _summarize(_transactions()).set_index("customer_id")
    # d's only purchase is after the calibration end: not a customer yet.
    assert list(summary.index) == ["a", "b", "c"]
    # a: days Jan 1 (two purchases, one transaction), Jan 8, Jan 15 -> 2 repeats; last repeat 14 days
    # after the first = 2 weeks; tenure Jan 1 .. Jan 29 = 28 days = 4 weeks; repeat spend (20 + 30) / 2.
    assert summary.loc["a", "frequency"] == 2
    assert summary.loc["a", "recency"] == pytest.approx(2.0)
    assert summary.loc["a", "tenure"] == pytest.approx(4.0)
    assert summary.loc["a", "monetary"] == pytest.approx(25.0)
    assert summary.loc["a", "first_purchase_date"] == dt.date(2026, 1, 1)
    # b: one purchase 7 days before the end.
    assert (summary.loc["b", "frequency"], summary.loc["b", "recency"]) == (0, 0)
    assert summary.loc["b", "tenure"] == pytest.approx(1.0)
    assert np.isnan(summary.loc["b", "monetary"])
    # c: two purchases on one day are one transaction, no repeat.
    assert summary.loc["c", "frequency"] == 0
    assert np.isnan(summary.loc["c", "monetary"])


def test_day_unit_and_a_later_calibration_end() -> None:
    summary = _summarize(_transactions(), calibration_end=dt.date(2026, 2, 5), time_unit="day").set_index(
        "customer_id"
    )
    assert summary.loc["a", "recency"] == 14 and summary.loc["a", "tenure"] == 35
    assert summary.loc["d", "frequency"] == 0 and summary.loc["d", "tenure"] == 0


def test_unreadable_values_name_the_column_and_row() -> None:
    bad = _transactions()
    bad.loc[3, "day"] = "not a day"
    with pytest.raises(SummaryError, match=r"column 'day', row 4 \(value 'not a day'\) is not a date"):
        _summarize(bad)
    with pytest.raises(SummaryError, match="column\\(s\\) spend not found"):
        _summarize(bad, amount="spend")
    with pytest.raises(SummaryError, match="unknown time unit 'fortnight'"):
        _summarize(_transactions(), time_unit="fortnight")


def test_aggregate_rows_counts_identical_rows() -> None:
    (x, t), counts = aggregate_rows(np.array([1.0, 0, 1, 1, 0]), np.array([2.0, 0, 2, 3, 0]))
    assert sorted(zip(x, t, counts, strict=True)) == [(0, 0, 2), (1, 2, 2), (1, 3, 1)]
