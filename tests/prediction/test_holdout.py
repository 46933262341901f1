"""The holdout check: the actual side counted independently from the transactions, the predicted side
consistent across its views."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from prediction.holdout import holdout_check
from prediction.simulate import simulate_transactions
from prediction.summary import daily_transactions

AS_OF = dt.date(2025, 12, 31)
HOLDOUT_DAYS = 182


@pytest.fixture(scope="module")
def transactions() -> pd.DataFrame:
    return simulate_transactions(
        3000, bgnbd_params={"r": 0.9, "alpha": 10.0, "a": 0.8, "b": 2.5},
        gamma_gamma_params={"p": 6.0, "q": 4.0, "gamma": 20.0},
        first_day=dt.date(2024, 7, 1), acquisition_days=180, end_day=AS_OF, seed=2,
    )  # fmt: skip


def test_holdout_check(transactions: pd.DataFrame) -> None:
    daily = daily_transactions(transactions, "customer_id", "purchase_date", "amount")
    check = holdout_check(daily, AS_OF, HOLDOUT_DAYS)
    calibration_end = AS_OF - dt.timedelta(days=HOLDOUT_DAYS)
    assert check.calibration_end == calibration_end and check.fit.converged
    table = check.table.set_index(["section", "bucket"])

    # Independently: distinct purchase days per customer, split at the calibration end.
    days = transactions.assign(day=pd.to_datetime(transactions["purchase_date"])).drop_duplicates(
        ["customer_id", "day"]
    )
    in_calibration = days[days["day"] <= pd.Timestamp(calibration_end)]
    cohort = in_calibration.groupby("customer_id").size() - 1  # repeat days in calibration
    holdout_days = days[
        (days["day"] > pd.Timestamp(calibration_end)) & days["customer_id"].isin(cohort.index)
    ]
    in_holdout = holdout_days.groupby("customer_id").size().reindex(cohort.index, fill_value=0)

    total = table.loc[("total", "all")]
    assert total["customers"] == len(cohort)
    assert total["actual_purchases"] == in_holdout.sum()
    buckets = cohort.clip(upper=7).map(lambda x: "7+" if x == 7 else str(x))
    for label, actual in in_holdout.groupby(buckets).mean().items():
        assert table.loc[("by_calibration_frequency", label), "actual_per_customer"] == pytest.approx(actual)
    by_frequency = table.loc["by_calibration_frequency"]
    assert by_frequency["customers"].sum() == len(cohort)
    assert by_frequency["predicted_purchases"].sum() == pytest.approx(total["predicted_purchases"])
    # The model's holdout total is within 10% of what happened (simulated from the model itself).
    assert total["predicted_purchases"] == pytest.approx(total["actual_purchases"], rel=0.1)

    tracking = table.loc["tracking"]
    cohort_days = days[days["customer_id"].isin(cohort.index)]
    repeat_days = len(cohort_days) - len(cohort)  # every transaction day after each customer's first
    assert tracking["actual_cumulative"].iloc[-1] == repeat_days
    assert tracking["actual_purchases"].sum() == repeat_days
    assert tracking["period_end"].iloc[-1] == AS_OF
    np.testing.assert_allclose(tracking["predicted_purchases"].cumsum(), tracking["predicted_cumulative"])
    assert tracking["predicted_cumulative"].iloc[-1] == pytest.approx(repeat_days, rel=0.1)
