"""The BG/NBD model of repeat purchases (Fader, Hardie & Lee 2005, "Counting your customers the easy way:
an alternative to the Pareto/NBD model", Marketing Science 24(2)).

While alive a customer buys at Poisson rate λ ~ Gamma(r, α); after each purchase he drops out with
probability p ~ Beta(a, b). A customer is summarised by x (repeat purchases), t_x (time of the last
purchase) and T (time since the first purchase), all measured from his first purchase.

The likelihood's equation numbers refer to the paper: (6) the individual likelihood, (9) the
unconditional expected number of purchases, (10) the conditional expectation, and P(alive) from the note
"Computing P(alive) using the BG/NBD model" (Fader, Hardie & Lee 2008).
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
from scipy.special import betaln, digamma, gammaln, hyp2f1

from .mle import FitError, FitResult, fit_log_parameters
from .summary import aggregate_rows

MODEL = "bgnbd"
PARAMETERS = ("r", "alpha", "a", "b")
START = (1.0, 1.0, 1.0, 1.0)


class _Rows:
    """Customers (or weighted distinct rows) of a fit, with what does not depend on the parameters
    computed once; the terms that depend on x alone are computed once per distinct x."""

    def __init__(
        self,
        frequency: np.ndarray,
        recency: np.ndarray,
        tenure: np.ndarray,
        weights: np.ndarray | None = None,
    ) -> None:
        self.recency = np.asarray(recency, dtype=float)
        self.tenure = np.asarray(tenure, dtype=float)
        self.weights = np.ones(len(self.recency)) if weights is None else np.asarray(weights, dtype=float)
        distinct, position = np.unique(np.asarray(frequency, dtype=float), return_inverse=True)
        self.distinct, self.position = distinct, position.ravel()
        self.frequency = distinct[self.position]
        self.distinct_weights = np.bincount(self.position, weights=self.weights, minlength=len(distinct))

    def _terms(self, params: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(ln of the x-only factor per distinct x, ln of the still-alive term, ln of the dropped-out term)."""
        r, alpha, a, b = params
        distinct = self.distinct
        base = gammaln(r + distinct) - gammaln(r) + r * np.log(alpha) + betaln(a, b + distinct) - betaln(a, b)
        with np.errstate(divide="ignore"):
            repeat = np.where(distinct > 0, np.log(a) - np.log(np.maximum(b + distinct - 1, 1e-300)), -np.inf)
        rx = r + self.frequency
        still_alive = -rx * np.log(alpha + self.tenure)
        dropped_out = repeat[self.position] - rx * np.log(alpha + self.recency)
        return base, still_alive, dropped_out

    def log_likelihood(self, params: np.ndarray) -> np.ndarray:
        base, still_alive, dropped_out = self._terms(params)
        return base[self.position] + np.logaddexp(still_alive, dropped_out)

    def weighted(self, params: np.ndarray) -> tuple[float, np.ndarray]:
        """Σ weights · ln L and its gradient with respect to (r, α, a, b)."""
        r, alpha, a, b = params
        distinct, w = self.distinct, self.weights
        base, still_alive, dropped_out = self._terms(params)
        log_sum = np.logaddexp(still_alive, dropped_out)
        total = float(self.distinct_weights @ base + w @ log_sum)
        alive_share = np.exp(still_alive - log_sum)  # 1 when x = 0
        w_alive = w * alive_share
        w_dropped = w - w_alive
        log_t = np.log(alpha + self.tenure)
        log_tx = np.log(alpha + self.recency)
        rx = r + self.frequency
        dw = self.distinct_weights
        with np.errstate(divide="ignore"):
            inverse_b = np.where(distinct > 0, 1 / np.maximum(b + distinct - 1, 1e-300), 0.0)
        dropped_by_x = np.bincount(self.position, weights=w_dropped, minlength=len(distinct))
        gradient = np.array(
            [
                dw @ (digamma(r + distinct) - digamma(r) + np.log(alpha))
                - w_alive @ log_t
                - w_dropped @ log_tx,
                dw.sum() * r / alpha
                - w_alive @ (rx / (alpha + self.tenure))
                - w_dropped @ (rx / (alpha + self.recency)),
                dw @ (digamma(a + b) - digamma(a + b + distinct)) + dropped_by_x.sum() / a,
                dw @ (digamma(b + distinct) - digamma(a + b + distinct) - digamma(b) + digamma(a + b))
                - dropped_by_x @ inverse_b,
            ]
        )
        return total, gradient


def log_likelihood(
    params: np.ndarray, frequency: np.ndarray, recency: np.ndarray, tenure: np.ndarray
) -> np.ndarray:
    """Per-customer log-likelihood, equation (6), computed in logs:
    ``ln L = ln B(a, b+x)/B(a, b) + ln Γ(r+x) α^r / Γ(r) + ln[(α+T)^-(r+x) + δ(x>0) a/(b+x-1) (α+t_x)^-(r+x)]``.
    """
    return _Rows(frequency, recency, tenure).log_likelihood(np.asarray(params, dtype=float))


def fit(
    frequency: np.ndarray,
    recency: np.ndarray,
    tenure: np.ndarray,
    *,
    start: tuple[float, ...] = START,
) -> FitResult:
    """Maximum-likelihood BG/NBD on per-customer (x, t_x, T); customers sharing all three are one
    weighted row, so millions of customers with day-resolution dates fit in seconds."""
    frequency = np.asarray(frequency, dtype=float)
    recency = np.asarray(recency, dtype=float)
    tenure = np.asarray(tenure, dtype=float)
    _check_summary(frequency, recency, tenure)
    (x, t_x, big_t), weights = aggregate_rows(frequency, recency, tenure)
    rows = _Rows(x, t_x, big_t, weights)
    result = fit_log_parameters(MODEL, PARAMETERS, rows.weighted, float(weights.sum()), start, len(frequency))
    warnings = list(result.warnings)
    if not np.any(frequency > 0):
        warnings.append(f"{MODEL}: no customer made a repeat purchase: the fit says nothing about them")
    return replace(result, warnings=warnings)


def _check_summary(frequency: np.ndarray, recency: np.ndarray, tenure: np.ndarray) -> None:
    if len(frequency) == 0:
        raise FitError(f"{MODEL}: no customers to fit")
    if not (len(frequency) == len(recency) == len(tenure)):
        raise FitError(f"{MODEL}: frequency, recency and tenure differ in length")
    if np.any(frequency < 0) or np.any(frequency != np.round(frequency)):
        raise FitError(f"{MODEL}: frequency must be whole numbers >= 0")
    if np.any(recency < 0) or np.any(recency > tenure + 1e-9):
        raise FitError(f"{MODEL}: recency must lie between 0 and tenure")
    if np.any((frequency == 0) & (recency != 0)):
        raise FitError(f"{MODEL}: a customer without repeat purchases must have recency 0")
    if np.all(tenure <= 0):
        raise FitError(f"{MODEL}: every customer has tenure 0 (all first purchases on the calibration end)")


def probability_alive(
    params: dict[str, float], frequency: np.ndarray, recency: np.ndarray, tenure: np.ndarray
) -> np.ndarray:
    """P(alive at T | x, t_x, T) = 1 / (1 + δ(x>0) a/(b+x-1) ((α+T)/(α+t_x))^(r+x))."""
    r, alpha, a, b = (params[name] for name in PARAMETERS)
    frequency = np.asarray(frequency, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        log_odds = (
            np.log(a)
            - np.log(b + frequency - 1)
            + (r + frequency) * (np.log(alpha + tenure) - np.log(alpha + recency))
        )
    odds = np.where(frequency > 0, np.exp(np.minimum(log_odds, 700)), 0.0)
    return 1.0 / (1.0 + odds)


def expected_purchases_if_alive(
    params: dict[str, float], horizon: float | np.ndarray, frequency: np.ndarray, tenure: np.ndarray
) -> np.ndarray:
    """The numerator of equation (10): expected purchases in (T, T + horizon] of a customer known to be
    alive at T, ``(a+b+x-1)/(a-1) · [1 - ((α+T)/(α+T+t))^(r+x) ₂F₁(r+x, b+x; a+b+x-1; t/(α+T+t))]``.
    It depends on x and T only (not on t_x), so callers evaluate it once per distinct (x, T)."""
    r, alpha, a, b = (params[name] for name in PARAMETERS)
    frequency = np.asarray(frequency, dtype=float)
    tenure = np.asarray(tenure, dtype=float)
    horizon = np.asarray(horizon, dtype=float)
    rx = r + frequency
    z = horizon / (alpha + tenure + horizon)
    ratio = np.exp(rx * (np.log(alpha + tenure) - np.log(alpha + tenure + horizon)))
    hyper = hyp2f1(rx, b + frequency, a + b + frequency - 1, z)
    return (a + b + frequency - 1) / (a - 1) * (1 - ratio * hyper)


def expected_purchases(
    params: dict[str, float],
    horizon: float | np.ndarray,
    frequency: np.ndarray,
    recency: np.ndarray,
    tenure: np.ndarray,
) -> np.ndarray:
    """Expected purchases in (T, T + horizon] given (x, t_x, T), equation (10): P(alive) times
    :func:`expected_purchases_if_alive`."""
    return expected_purchases_if_alive(params, horizon, frequency, tenure) * probability_alive(
        params, frequency, recency, tenure
    )


def expected_purchases_new_customer(params: dict[str, float], elapsed: float | np.ndarray) -> np.ndarray:
    """E[X(t)], equation (9): expected repeat purchases in the first ``elapsed`` time units after a
    customer's first purchase, ``(a+b-1)/(a-1) · [1 - (α/(α+t))^r ₂F₁(r, b; a+b-1; t/(α+t))]``."""
    r, alpha, a, b = (params[name] for name in PARAMETERS)
    elapsed = np.asarray(elapsed, dtype=float)
    z = elapsed / (alpha + elapsed)
    ratio = np.exp(r * (np.log(alpha) - np.log(alpha + elapsed)))
    return (a + b - 1) / (a - 1) * (1 - ratio * hyp2f1(r, b, a + b - 1, z))
