"""Per-customer predictions from fitted BG/NBD and Gamma-Gamma parameters.

The discounted CLV over a horizon of H months is the standard discrete sum (Fader, Hardie & Lee 2005,
"RFM and CLV"; lifetimes' ``customer_lifetime_value``): the expected purchases in each month m of the
horizon, times the expected spend per purchase, discounted by the monthly rate d_m = (1 + annual)^(1/12) - 1:
``CLV = E[spend] · Σ_{m=1..H} (E[Y(m)] - E[Y(m-1)]) / (1 + d_m)^m``, with E[Y(t)] the conditional expected
purchases in (T, T + t] (a month = 365.25/12 days, converted into the time unit).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from . import bgnbd, gamma_gamma
from .summary import TIME_UNIT_DAYS, distinct_rows, unit_days

DAYS_PER_MONTH = TIME_UNIT_DAYS["month"]
PREDICTION_DAYS = (90, 365)  # expected_purchases_<n>d


@dataclass(frozen=True)
class ClvSettings:
    time_unit: str = "week"
    horizon_months: int = 36
    annual_discount_rate: float = 0.10
    holdout_days: int = 182

    def __post_init__(self) -> None:
        unit_days(self.time_unit)
        if self.horizon_months < 1:
            raise ValueError(f"horizon_months must be at least 1, not {self.horizon_months}")
        if not 0 <= self.annual_discount_rate < 1:
            raise ValueError(f"annual_discount_rate must be in [0, 1), not {self.annual_discount_rate}")
        if self.holdout_days < 1:
            raise ValueError(f"holdout_days must be at least 1, not {self.holdout_days}")


def _columns(summary: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return tuple(summary[name].to_numpy(dtype=float) for name in ("frequency", "recency", "tenure"))


def expected_purchases_over(
    params: dict[str, float], days: float, summary: pd.DataFrame, time_unit: str
) -> np.ndarray:
    """Expected purchases of each customer of ``summary`` in the next ``days`` days (evaluated once per
    distinct (x, T), times each customer's P(alive))."""
    x, t_x, big_t = _columns(summary)
    (distinct_x, distinct_t), position, _ = distinct_rows(x, big_t)
    if_alive = bgnbd.expected_purchases_if_alive(params, days / unit_days(time_unit), distinct_x, distinct_t)
    return if_alive[position] * bgnbd.probability_alive(params, x, t_x, big_t)


def discounted_expected_purchases(
    params: dict[str, float], summary: pd.DataFrame, settings: ClvSettings
) -> np.ndarray:
    """Σ_m (E[Y(m)] - E[Y(m-1)]) / (1 + d_m)^m over the horizon's months, per customer."""
    x, t_x, big_t = _columns(summary)
    (distinct_x, distinct_t), position, _ = distinct_rows(x, big_t)
    monthly_rate = (1 + settings.annual_discount_rate) ** (1 / 12) - 1
    month = DAYS_PER_MONTH / unit_days(settings.time_unit)
    discounted = np.zeros(len(distinct_x))
    previous = np.zeros(len(distinct_x))
    for m in range(1, settings.horizon_months + 1):
        cumulative = bgnbd.expected_purchases_if_alive(params, m * month, distinct_x, distinct_t)
        discounted += (cumulative - previous) / (1 + monthly_rate) ** m
        previous = cumulative
    return discounted[position] * bgnbd.probability_alive(params, x, t_x, big_t)


def score_customers(
    summary: pd.DataFrame,
    bgnbd_params: dict[str, float],
    gamma_gamma_params: dict[str, float],
    settings: ClvSettings,
) -> pd.DataFrame:
    """One row per customer of ``summary``: ``customer_id``, ``frequency``, ``recency``, ``tenure``,
    ``p_alive``, ``expected_purchases_90d``, ``expected_purchases_365d``, ``expected_avg_spend``,
    ``predicted_clv`` and ``clv_rank`` (1 = highest predicted CLV; ties share the better rank)."""
    x, t_x, big_t = _columns(summary)
    spend = gamma_gamma.expected_average_spend(
        gamma_gamma_params, x, summary["monetary"].to_numpy(dtype=float)
    )
    scored = pd.DataFrame(
        {
            "customer_id": summary["customer_id"].to_numpy(),
            "frequency": x,
            "recency": t_x,
            "tenure": big_t,
            "p_alive": bgnbd.probability_alive(bgnbd_params, x, t_x, big_t),
        }
    )
    for days in PREDICTION_DAYS:
        scored[f"expected_purchases_{days}d"] = expected_purchases_over(
            bgnbd_params, days, summary, settings.time_unit
        )
    scored["expected_avg_spend"] = spend
    scored["predicted_clv"] = spend * discounted_expected_purchases(bgnbd_params, summary, settings)
    scored["clv_rank"] = scored["predicted_clv"].rank(method="min", ascending=False).astype("Int64")
    return scored
