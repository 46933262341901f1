"""Customers drawn from known BG/NBD and Gamma-Gamma parameters: the benchmark's data and the
recovery tests' truth.

Each customer makes a first purchase on a day of an acquisition window, buys at Poisson rate
λ ~ Gamma(r, scale 1/α) (per time unit) while alive and drops out after each repeat purchase with
probability p ~ Beta(a, b) (the BG/NBD story, Fader, Hardie & Lee 2005, section 3); each transaction
spends Gamma(p_spend, scale 1/ν) with ν ~ Gamma(q, scale 1/γ) (Gamma-Gamma). Drawn per customer without
a Python loop: the repeat purchases before the end are x = min(K, N), with N ~ Poisson(λT) arrivals in the
observation window and K ~ Geometric(p) the purchase after which he drops out; the x purchase times are
then order statistics of uniform points (the Poisson process given its count).
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from .summary import unit_days


def simulate_transactions(
    customers: int,
    *,
    bgnbd_params: dict[str, float],
    gamma_gamma_params: dict[str, float],
    first_day: dt.date,
    acquisition_days: int,
    end_day: dt.date,
    time_unit: str = "week",
    seed: int = 0,
) -> pd.DataFrame:
    """Transactions (``customer_id``, ``purchase_date`` as datetime64[D], ``amount``) of ``customers``
    simulated customers, first purchases uniform over ``acquisition_days`` days from ``first_day``,
    observed to ``end_day``. Purchase times are drawn in continuous time and dated to the day they end (a
    repeat purchase is never on the first purchase's day, which would merge the two)."""
    rng = np.random.default_rng(seed)
    r, alpha, a, b = (bgnbd_params[k] for k in ("r", "alpha", "a", "b"))
    p_spend, q, gamma = (gamma_gamma_params[k] for k in ("p", "q", "gamma"))
    per_unit = unit_days(time_unit)
    birth = np.datetime64(first_day, "D") + rng.integers(0, acquisition_days, customers)
    window = (np.datetime64(end_day, "D") - birth).astype(float) / per_unit  # T, in time units
    rate = rng.gamma(r, 1 / alpha, customers)
    dropout = rng.beta(a, b, customers)
    arrivals = rng.poisson(rate * window)
    survives_for = rng.geometric(dropout)  # the K-th repeat purchase is his last
    repeats = np.minimum(arrivals, survives_for)
    # Time of the last repeat purchase: the x-th of N uniform points on [0, T] (x = N: the maximum).
    last = np.where(repeats > 0, window * rng.beta(np.maximum(repeats, 1), arrivals - repeats + 1), 0.0)
    # The other x - 1 repeat purchases are uniform on [0, t_x].
    owner = np.repeat(np.arange(customers), repeats)
    is_last = np.zeros(len(owner), dtype=bool)
    ends = np.cumsum(repeats)
    is_last[ends[repeats > 0] - 1] = True
    times = np.where(is_last, last[owner], rng.uniform(0, 1, len(owner)) * last[owner])
    repeat_days = birth[owner] + np.ceil(times * per_unit).astype("timedelta64[D]")
    spend_rate = rng.gamma(q, 1 / gamma, customers)
    ids = np.concatenate([np.arange(customers), owner])
    days = np.concatenate([birth, repeat_days])
    amounts = rng.gamma(p_spend, 1 / spend_rate[ids])
    return pd.DataFrame({"customer_id": ids, "purchase_date": days, "amount": amounts})
