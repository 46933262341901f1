"""Maximum likelihood on log-parameters, shared by the BG/NBD and Gamma-Gamma fits.

Every parameter of both models is positive, so the optimizer works on their logarithms (no bounds to
hit at zero). Standard errors come from a central finite-difference Hessian of the negative
log-likelihood in log-parameters (differences of the analytic gradient), mapped back by the delta method
(``se(θ) = θ · se(log θ)``).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
from scipy.optimize import minimize

# Log-parameters are kept in [-LOG_BOUND, LOG_BOUND] (parameters from ~3e-7 to ~3e6); an estimate beyond
# ±EXTREME_LOG (below 1e-5 or above 1e5) is heading for the edge: a degenerate fit, not a number to report.
LOG_BOUND = 15.0
EXTREME_LOG = math.log(1e5)
# The fitted gradient of the mean log-likelihood must be below this (per log-parameter) to be converged.
GRADIENT_TOLERANCE = 1e-4


class FitError(ValueError):
    """A model could not be fitted: too little data, or the likelihood could not be maximised."""


@dataclass(frozen=True)
class FitResult:
    model: str
    parameters: dict[str, float]
    standard_errors: dict[str, float]  # nan when the Hessian is not positive definite
    log_likelihood: float
    customers: int
    converged: bool
    iterations: int
    message: str
    warnings: list[str] = field(default_factory=list)
    extra: dict[str, float] = field(default_factory=dict)  # model-specific figures (a correlation)


def hessian_from_gradient(
    gradient: Callable[[np.ndarray], np.ndarray], point: np.ndarray, step: float = 1e-5
) -> np.ndarray:
    """Central finite differences of an analytic ``gradient`` at ``point``, symmetrised."""
    k = len(point)
    hessian = np.empty((k, k))
    for j in range(k):
        e_j = np.zeros(k)
        e_j[j] = step
        hessian[:, j] = (gradient(point + e_j) - gradient(point - e_j)) / (2 * step)
    return (hessian + hessian.T) / 2


def fit_log_parameters(
    model: str,
    names: Sequence[str],
    log_likelihood: Callable[[np.ndarray], tuple[float, np.ndarray]],
    total_weight: float,
    start: Sequence[float],
    customers: int,
) -> FitResult:
    """Maximise a log-likelihood over positive parameters.

    ``log_likelihood`` maps the parameter vector (natural scale) to the log-likelihood of the data and
    its gradient; ``total_weight`` is the number of customers it sums over. The optimizer sees the
    *mean* so its tolerances do not depend on the number of customers.
    """
    if total_weight <= 0:
        raise FitError(f"{model}: no customers to fit")

    def objective(log_params: np.ndarray) -> tuple[float, np.ndarray]:
        params = np.exp(log_params)
        with np.errstate(all="ignore"):
            total, gradient = log_likelihood(params)
            gradient = gradient * params  # d/d log θ = θ · d/dθ
        if not np.isfinite(total) or not np.all(np.isfinite(gradient)):
            return np.inf, np.zeros(len(params))
        return -total / total_weight, -gradient / total_weight

    def mean_gradient(log_params: np.ndarray) -> np.ndarray:
        return objective(log_params)[1]

    x0 = np.log(np.asarray(start, dtype=float))
    bounds = [(-LOG_BOUND, LOG_BOUND)] * len(names)
    result = minimize(objective, x0, jac=True, method="L-BFGS-B", bounds=bounds,
                      options={"maxiter": 1000, "ftol": 1e-14, "gtol": 1e-10})  # fmt: skip
    if not np.isfinite(result.fun):
        raise FitError(f"{model}: the log-likelihood is not finite at any parameter tried ({result.message})")
    estimate = result.x
    warnings: list[str] = []
    at_bound = [name for name, value in zip(names, estimate, strict=True) if abs(value) >= EXTREME_LOG]
    gradient_size = float(np.max(np.abs(mean_gradient(estimate))))
    # L-BFGS-B reports ABNORMAL when its line search finds no lower point: at the optimum, where the tight
    # ftol leaves only floating-point noise, that is convergence (how often depends on the CPU's floating
    # point: seen on one machine and not on another with the same data). The gradient decides.
    stalled_at_optimum = (
        not result.success and str(result.message).startswith("ABNORMAL") and gradient_size < GRADIENT_TOLERANCE
    )
    converged = (bool(result.success) or stalled_at_optimum) and not at_bound and gradient_size < GRADIENT_TOLERANCE
    if at_bound:
        warnings.append(
            f"{model}: {', '.join(at_bound)} ran to the edge of the parameter space "
            f"(degenerate fit: the data do not identify the model)"
        )
    if not result.success and not stalled_at_optimum:
        warnings.append(f"{model}: the optimizer stopped without converging: {result.message}")
    elif gradient_size >= GRADIENT_TOLERANCE:
        warnings.append(f"{model}: the gradient at the estimate is not zero ({gradient_size:.2g})")
    parameters = np.exp(estimate)
    standard_errors = np.full(len(names), np.nan)
    hessian = hessian_from_gradient(mean_gradient, estimate) * total_weight
    if np.all(np.isfinite(hessian)) and np.all(np.linalg.eigvalsh(hessian) > 0):
        covariance = np.linalg.inv(hessian)
        standard_errors = parameters * np.sqrt(np.diag(covariance))
    else:
        converged = False
        warnings.append(
            f"{model}: the Hessian is not positive definite at the estimate (standard errors unknown)"
        )
    return FitResult(
        model=model,
        parameters={name: float(value) for name, value in zip(names, parameters, strict=True)},
        standard_errors={name: float(value) for name, value in zip(names, standard_errors, strict=True)},
        log_likelihood=-float(result.fun) * total_weight,
        customers=customers,
        converged=converged,
        iterations=int(result.nit),
        message=str(result.message),
        warnings=warnings,
    )
