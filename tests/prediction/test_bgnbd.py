"""BG/NBD: the likelihood against an independent evaluation of FHL (2005) equation (6), the gradient
against finite differences, P(alive) by hand, the conditional expectation against the unconditional one
where they must agree, and recovery of known parameters from simulated customers."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pytest
from scipy.integrate import quad
from scipy.optimize import approx_fprime

from prediction import bgnbd
from prediction.mle import FitError
from prediction.simulate import simulate_transactions
from prediction.summary import summarize_transactions

PARAMS = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
VECTOR = np.array([PARAMS[k] for k in ("r", "alpha", "a", "b")])


def _fhl_likelihood(r: float, alpha: float, a: float, b: float, x: int, t_x: float, big_t: float) -> float:
    """Equation (6) as printed, in plain floats (no logs):
    L = B(a, b+x)/B(a, b) · Γ(r+x) α^r / (Γ(r) (α+T)^(r+x))
        + δ(x>0) B(a+1, b+x-1)/B(a, b) · Γ(r+x) α^r / (Γ(r) (α+t_x)^(r+x))."""

    def beta(u: float, v: float) -> float:
        return math.gamma(u) * math.gamma(v) / math.gamma(u + v)

    common = math.gamma(r + x) * alpha**r / math.gamma(r)
    value = beta(a, b + x) / beta(a, b) * common / (alpha + big_t) ** (r + x)
    if x > 0:
        value += beta(a + 1, b + x - 1) / beta(a, b) * common / (alpha + t_x) ** (r + x)
    return value


@pytest.mark.parametrize(
    ("x", "t_x", "big_t"), [(0, 0.0, 38.86), (1, 12.0, 30.0), (2, 10.5, 32.0), (7, 29.4, 35.0)]
)
def test_log_likelihood_matches_equation_6(x: int, t_x: float, big_t: float) -> None:
    expected = math.log(_fhl_likelihood(*VECTOR, x, t_x, big_t))
    got = bgnbd.log_likelihood(VECTOR, np.array([x]), np.array([t_x]), np.array([big_t]))[0]
    assert got == pytest.approx(expected, rel=1e-10)


def test_weighted_gradient_matches_finite_differences() -> None:
    x = np.array([0, 1, 2, 5, 0, 3.0])
    t_x = np.array([0, 3, 10, 20, 0, 5.0])
    big_t = np.array([30, 31, 32, 40, 10, 6.0])
    weights = np.array([1, 2, 3, 1, 5, 2.0])
    rows = bgnbd._Rows(x, t_x, big_t, weights)
    total, gradient = rows.weighted(VECTOR)
    assert total == pytest.approx(float(weights @ bgnbd.log_likelihood(VECTOR, x, t_x, big_t)))
    numeric = approx_fprime(VECTOR, lambda v: rows.weighted(v)[0], 1e-7)
    np.testing.assert_allclose(gradient, numeric, rtol=1e-5)


def test_probability_alive_by_hand() -> None:
    # x = 2, t_x = 10, T = 20: 1 / (1 + a/(b+1) · ((α+20)/(α+10))^(r+2)).
    odds = 0.793 / 3.426 * ((4.414 + 20) / (4.414 + 10)) ** 2.243
    got = bgnbd.probability_alive(PARAMS, np.array([2.0, 0.0]), np.array([10.0, 0.0]), np.array([20.0, 5.0]))
    np.testing.assert_allclose(got, [1 / (1 + odds), 1.0])


def test_expected_purchases_of_a_customer_just_acquired_is_the_unconditional_mean() -> None:
    # With x = 0 and T = 0 nothing is known beyond the first purchase: equation (10) must equal (9), and
    # (9) equals its definition as the integral of the purchase rate over the Beta and Gamma mixtures,
    # E[X(t)] = E_p,λ[(1 - e^{-λpt})/p] evaluated here by quadrature (independent of the ₂F₁ form).
    t = 52.0
    conditional = bgnbd.expected_purchases(PARAMS, t, np.array([0.0]), np.array([0.0]), np.array([0.0]))[0]
    unconditional = bgnbd.expected_purchases_new_customer(PARAMS, t)
    r, alpha, a, b = VECTOR

    def given_p(p: float) -> float:
        # E_λ[(1 - e^{-λpt})] / p with λ ~ Gamma(r, α): 1 - (α/(α+pt))^r.
        return (1 - (alpha / (alpha + p * t)) ** r) / p * p ** (a - 1) * (1 - p) ** (b - 1)

    integral = quad(given_p, 0, 1, limit=200)[0] / math.exp(
        math.lgamma(a) + math.lgamma(b) - math.lgamma(a + b)
    )
    assert conditional == pytest.approx(unconditional, rel=1e-9)
    assert unconditional == pytest.approx(integral, rel=1e-6)


def test_fit_recovers_known_parameters() -> None:
    truth = {"r": 0.9, "alpha": 10.0, "a": 0.8, "b": 2.5}
    transactions = simulate_transactions(
        20000, bgnbd_params=truth, gamma_gamma_params={"p": 6.0, "q": 4.0, "gamma": 20.0},
        first_day=dt.date(2024, 1, 1), acquisition_days=365, end_day=dt.date(2025, 12, 31), seed=7,
    )  # fmt: skip
    summary = summarize_transactions(
        transactions, customer_column="customer_id", date_column="purchase_date", amount_column="amount",
        calibration_end=dt.date(2025, 12, 31),
    )  # fmt: skip
    fit = bgnbd.fit(summary["frequency"], summary["recency"], summary["tenure"])
    assert fit.converged and fit.warnings == []
    for name, value in truth.items():
        # Within 4 standard errors (plus 3% for dating continuous purchases to days).
        assert abs(fit.parameters[name] - value) < 4 * fit.standard_errors[name] + 0.03 * value, name
    assert fit.customers == 20000


def test_fit_refuses_what_it_cannot_fit() -> None:
    with pytest.raises(FitError, match="no customers"):
        bgnbd.fit(np.array([]), np.array([]), np.array([]))
    with pytest.raises(FitError, match="recency must lie between 0 and tenure"):
        bgnbd.fit(np.array([1.0]), np.array([5.0]), np.array([4.0]))


def test_a_fit_without_repeat_purchases_is_flagged_degenerate() -> None:
    fit = bgnbd.fit(np.zeros(50), np.zeros(50), np.linspace(1, 50, 50))
    assert not fit.converged
    assert any("no customer made a repeat purchase" in w for w in fit.warnings)
    assert any("edge of the parameter space" in w for w in fit.warnings)
