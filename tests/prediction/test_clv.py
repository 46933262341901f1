"""Per-customer predictions: the discounted sum by hand over a short horizon, the undiscounted sum
telescoping to the expected purchases over the whole horizon, the 90/365-day windows in weeks, the rank."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from prediction import bgnbd
from prediction.clv import ClvSettings, score_customers

BGNBD = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
GAMMA_GAMMA = {"p": 6.25, "q": 3.74, "gamma": 15.44}
MONTH_WEEKS = 365.25 / 12 / 7


def _summary() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "customer_id": ["a", "b", "c"],
            "frequency": [0.0, 2.0, 6.0],
            "recency": [0.0, 10.0, 30.0],
            "tenure": [20.0, 25.0, 32.0],
            "monetary": [np.nan, 30.0, 40.0],
        }
    )


def _expected(weeks: float, summary: pd.DataFrame) -> np.ndarray:
    return bgnbd.expected_purchases(
        BGNBD,
        weeks,
        summary["frequency"].to_numpy(),
        summary["recency"].to_numpy(),
        summary["tenure"].to_numpy(),
    )


def test_discounted_clv_over_two_months_by_hand() -> None:
    summary = _summary()
    scored = score_customers(
        summary, BGNBD, GAMMA_GAMMA, ClvSettings(horizon_months=2, annual_discount_rate=0.1)
    )
    monthly = 1.1 ** (1 / 12) - 1
    first, second = _expected(MONTH_WEEKS, summary), _expected(2 * MONTH_WEEKS, summary)
    spend = np.array(
        [6.25 * 15.44 / 2.74, 6.25 * (15.44 + 60) / (12.5 + 2.74), 6.25 * (15.44 + 240) / (37.5 + 2.74)]
    )
    np.testing.assert_allclose(scored["expected_avg_spend"], spend)
    np.testing.assert_allclose(
        scored["predicted_clv"],
        spend * (first / (1 + monthly) + (second - first) / (1 + monthly) ** 2),
        rtol=1e-10,
    )


def test_undiscounted_clv_is_spend_times_the_horizons_expected_purchases() -> None:
    summary = _summary()
    scored = score_customers(
        summary, BGNBD, GAMMA_GAMMA, ClvSettings(horizon_months=36, annual_discount_rate=0.0)
    )
    np.testing.assert_allclose(
        scored["predicted_clv"],
        scored["expected_avg_spend"] * _expected(36 * MONTH_WEEKS, summary),
        rtol=1e-9,
    )
    np.testing.assert_allclose(scored["expected_purchases_90d"], _expected(90 / 7, summary))
    np.testing.assert_allclose(scored["expected_purchases_365d"], _expected(365 / 7, summary))
    assert list(scored["clv_rank"]) == list(scored["predicted_clv"].rank(ascending=False).astype(int))
    assert scored.loc[scored["clv_rank"] == 1, "customer_id"].item() == "c"


def test_time_unit_day_gives_the_same_predictions() -> None:
    weekly = score_customers(_summary(), BGNBD, GAMMA_GAMMA, ClvSettings())
    in_days = _summary().assign(recency=lambda f: f["recency"] * 7, tenure=lambda f: f["tenure"] * 7)
    daily_params = {**BGNBD, "alpha": BGNBD["alpha"] * 7}  # α is a time scale: weeks -> days
    daily = score_customers(in_days, daily_params, GAMMA_GAMMA, ClvSettings(time_unit="day"))
    for column in ("p_alive", "expected_purchases_90d", "expected_purchases_365d", "predicted_clv"):
        np.testing.assert_allclose(daily[column], weekly[column], rtol=1e-9)


def test_settings_are_checked() -> None:
    with pytest.raises(ValueError, match="horizon_months"):
        ClvSettings(horizon_months=0)
    with pytest.raises(ValueError, match="unknown time unit"):
        ClvSettings(time_unit="fortnight")
