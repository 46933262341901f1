"""Gamma-Gamma: the likelihood against its definition (a Gamma mean spend mixed over a Gamma rate,
integrated numerically), the gradient against finite differences, the conditional expected spend by hand,
and the warnings a doubtful fit must carry."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.integrate import quad
from scipy.optimize import approx_fprime
from scipy.stats import gamma as gamma_distribution

from prediction import gamma_gamma
from prediction.mle import FitError

PARAMS = {"p": 6.25, "q": 3.74, "gamma": 15.44}
VECTOR = np.array([6.25, 3.74, 15.44])


@pytest.mark.parametrize(("x", "mean_spend"), [(1, 20.0), (3, 35.5), (10, 12.0)])
def test_log_likelihood_is_the_mixture_of_its_definition(x: int, mean_spend: float) -> None:
    # z̄ | ν ~ Gamma(shape p·x, rate ν·x); ν ~ Gamma(shape q, rate γ).
    p, q, rate = VECTOR

    def integrand(nu: float) -> float:
        return gamma_distribution.pdf(mean_spend, p * x, scale=1 / (nu * x)) * gamma_distribution.pdf(
            nu, q, scale=1 / rate
        )

    density = quad(integrand, 0, np.inf, limit=200)[0]
    got = gamma_gamma.log_likelihood(VECTOR, np.array([float(x)]), np.array([mean_spend]))[0]
    assert got == pytest.approx(math.log(density), rel=1e-7)


def test_gradient_matches_finite_differences() -> None:
    x = np.array([1.0, 3.0, 7.0, 3.0])
    z = np.array([10.0, 20.0, 5.0, 44.0])
    gradient = gamma_gamma.score(VECTOR, x, z).sum(axis=0)
    numeric = approx_fprime(VECTOR, lambda v: gamma_gamma.log_likelihood(v, x, z).sum(), 1e-7)
    np.testing.assert_allclose(gradient, numeric, rtol=1e-5)


def test_expected_average_spend_by_hand() -> None:
    # x = 2, z̄ = 30: p(γ + x z̄)/(px + q - 1) = 6.25 (15.44 + 60) / (12.5 + 2.74); no repeat: pγ/(q - 1).
    got = gamma_gamma.expected_average_spend(PARAMS, np.array([2.0, 0.0]), np.array([30.0, np.nan]))
    np.testing.assert_allclose(got, [6.25 * 75.44 / 15.24, 6.25 * 15.44 / 2.74])
    # q <= 1: no finite population mean; the customer's own mean, unknown without one.
    infinite = gamma_gamma.expected_average_spend({"p": 2.0, "q": 0.8, "gamma": 3.0}, np.array([2.0, 0.0]),
                                                  np.array([30.0, np.nan]))  # fmt: skip
    assert infinite[0] == 30.0 and np.isnan(infinite[1])


def test_fit_recovers_known_parameters() -> None:
    rng = np.random.default_rng(3)
    customers = 20000
    x = rng.integers(1, 10, customers).astype(float)
    nu = rng.gamma(4.0, 1 / 20.0, customers)
    mean_spend = rng.gamma(6.0 * x, 1 / (nu * x))
    fit = gamma_gamma.fit(x, mean_spend)
    assert fit.converged and fit.warnings == []
    for name, value in {"p": 6.0, "q": 4.0, "gamma": 20.0}.items():
        assert abs(fit.parameters[name] - value) < 4 * fit.standard_errors[name], name
    assert abs(fit.extra["frequency_monetary_correlation"]) < 0.05


def test_spend_correlated_with_frequency_is_reported() -> None:
    rng = np.random.default_rng(5)
    x = rng.integers(1, 20, 3000).astype(float)
    mean_spend = 5.0 * x * rng.gamma(20.0, 1 / 20.0, 3000)
    fit = gamma_gamma.fit(x, mean_spend)
    assert fit.extra["frequency_monetary_correlation"] > 0.3
    assert any("correlated (Pearson r = " in warning for warning in fit.warnings)


def test_q_at_most_one_is_a_degenerate_fit() -> None:
    # Spend rates ν ~ Gamma(q = 0.6): mean spend has an infinite population mean; the fit must say so.
    rng = np.random.default_rng(11)
    x = rng.integers(1, 6, 5000).astype(float)
    nu = rng.gamma(0.6, 1 / 2.0, 5000)
    fit = gamma_gamma.fit(x, rng.gamma(3.0 * x, 1 / (nu * x)))
    assert fit.parameters["q"] <= 1
    assert not fit.converged
    assert any("infinite (degenerate fit)" in warning for warning in fit.warnings)


def test_too_few_repeat_customers() -> None:
    with pytest.raises(FitError, match="too few to fit the spend model"):
        gamma_gamma.fit(np.array([0.0, 1.0, 2.0]), np.array([np.nan, 10.0, -3.0]))
