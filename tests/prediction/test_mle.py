"""The convergence rule of the shared maximum-likelihood fitter (prediction/mle.py): the gradient at the
estimate decides, not only the optimizer's status."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.optimize import OptimizeResult

from prediction import mle

# log-likelihood of a product of two gamma-like factors with its maximum at θ = (2, 5):
# l(θ) = Σ k_i log θ_i - k_i θ_i / m_i, maximal where θ_i = m_i
MAXIMUM = np.array([2.0, 5.0])
K = np.array([3.0, 4.0])


def log_likelihood(params: np.ndarray) -> tuple[float, np.ndarray]:
    total = float(np.sum(K * np.log(params) - K * params / MAXIMUM))
    return total, K / params - K / MAXIMUM


def fit() -> mle.FitResult:
    return mle.fit_log_parameters("toy", ["a", "b"], log_likelihood, total_weight=1.0, start=[1.0, 1.0], customers=1)


def test_a_clean_fit_finds_the_maximum() -> None:
    result = fit()
    assert result.converged and not result.warnings
    assert result.parameters["a"] == pytest.approx(2.0, rel=1e-6)
    assert result.parameters["b"] == pytest.approx(5.0, rel=1e-6)


@pytest.mark.parametrize(
    ("stopped_at", "converged"),
    [
        (np.log(MAXIMUM), True),  # line search stalled at the optimum: floating-point noise, converged
        (np.log([1.0, 1.0]), False),  # stalled far from it: not converged, and said so
    ],
)
def test_an_abnormal_line_search_stop_counts_only_at_the_optimum(
    monkeypatch: pytest.MonkeyPatch, stopped_at: np.ndarray, converged: bool
) -> None:
    # What L-BFGS-B returns when its line search finds no lower point (status 2, "ABNORMAL: ...").
    def stalled(objective, x0, **kwargs) -> OptimizeResult:  # noqa: ANN001, ARG001
        value, _ = objective(stopped_at)
        return OptimizeResult(x=stopped_at, fun=value, success=False, status=2, message="ABNORMAL: ", nit=7)

    monkeypatch.setattr(mle, "minimize", stalled)
    result = fit()
    assert result.converged is converged
    stopped_warning = [w for w in result.warnings if "stopped without converging" in w]
    assert bool(stopped_warning) is not converged
