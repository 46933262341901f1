"""The Gamma-Gamma model of spend per transaction (Fader & Hardie 2013, "The Gamma-Gamma model of
monetary value"; Fader, Hardie & Lee 2005, "RFM and CLV: using iso-value curves for customer base
analysis", Journal of Marketing Research 42(4)).

A customer's transactions are Gamma(p, ν) with ν ~ Gamma(q, γ) across customers; his mean spend z̄ over
x transactions is then Gamma(px, νx). Fitted on the customers with x >= 1 (their mean repeat spend);
assumes spend is independent of purchase frequency, so the fit reports their Pearson correlation.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
from scipy.special import digamma, gammaln

from .mle import FitError, FitResult, fit_log_parameters

MODEL = "gamma_gamma"
PARAMETERS = ("p", "q", "gamma")
START = (1.0, 1.0, 1.0)
# |Pearson correlation| between frequency and mean spend above which the independence the model assumes
# is reported as doubtful.
STRONG_CORRELATION = 0.3


def log_likelihood(params: np.ndarray, frequency: np.ndarray, monetary: np.ndarray) -> np.ndarray:
    """Per-customer log-likelihood of mean spend z̄ = ``monetary`` over x = ``frequency`` transactions:
    ``ln Γ(px+q) - ln Γ(px) - ln Γ(q) + q ln γ + (px-1) ln z̄ + px ln x - (px+q) ln(γ + x z̄)``."""
    return _Rows(frequency, monetary).log_likelihood(np.asarray(params, dtype=float))


def score(params: np.ndarray, frequency: np.ndarray, monetary: np.ndarray) -> np.ndarray:
    """Gradient of :func:`log_likelihood` with respect to (p, q, γ), one row per customer."""
    return _Rows(frequency, monetary).score(np.asarray(params, dtype=float))


class _Rows:
    """The customers of a fit, with what does not depend on the parameters computed once; the terms
    that depend on x alone (the gamma functions) are computed per distinct x."""

    def __init__(self, frequency: np.ndarray, monetary: np.ndarray) -> None:
        self.frequency = np.asarray(frequency, dtype=float)
        self.monetary = np.asarray(monetary, dtype=float)
        distinct, position = np.unique(self.frequency, return_inverse=True)
        self.distinct, self.position = distinct, position.ravel()
        self.log_monetary = np.log(self.monetary)
        self.log_frequency = np.log(self.frequency)
        self.spend = self.frequency * self.monetary  # x z̄

    def log_likelihood(self, params: np.ndarray) -> np.ndarray:
        p, q, gamma = params
        px_distinct = p * self.distinct
        x_only = gammaln(px_distinct + q) - gammaln(px_distinct) - gammaln(q) + q * np.log(gamma)
        px = p * self.frequency
        return (
            x_only[self.position]
            + (px - 1) * self.log_monetary
            + px * self.log_frequency
            - (px + q) * np.log(gamma + self.spend)
        )

    def weighted(self, params: np.ndarray) -> tuple[float, np.ndarray]:
        """Σ ln L and its gradient with respect to (p, q, γ)."""
        return float(self.log_likelihood(params).sum()), self.score(params).sum(axis=0)

    def score(self, params: np.ndarray) -> np.ndarray:
        p, q, gamma = params
        px_distinct = p * self.distinct
        common = digamma(px_distinct + q)
        d_p_x_only = (common - digamma(px_distinct))[self.position]
        d_q_x_only = (common - digamma(q) + np.log(gamma))[self.position]
        total = gamma + self.spend
        log_total = np.log(total)
        px = p * self.frequency
        return np.column_stack(
            [
                self.frequency * (d_p_x_only + self.log_monetary + self.log_frequency - log_total),
                d_q_x_only - log_total,
                q / gamma - (px + q) / total,
            ]
        )


def frequency_monetary_correlation(frequency: np.ndarray, monetary: np.ndarray) -> float:
    """Pearson correlation of x and z̄ among the customers the model is fitted on (nan if undefined)."""
    if len(frequency) < 2 or np.std(frequency) == 0 or np.std(monetary) == 0:
        return float("nan")
    return float(np.corrcoef(frequency, monetary)[0, 1])


def fit(frequency: np.ndarray, monetary: np.ndarray, *, start: tuple[float, ...] = START) -> FitResult:
    """Maximum-likelihood Gamma-Gamma on the customers with ``frequency >= 1`` and ``monetary > 0``
    (others are left out and counted in a warning)."""
    frequency = np.asarray(frequency, dtype=float)
    monetary = np.asarray(monetary, dtype=float)
    repeaters = frequency >= 1
    usable = repeaters & np.isfinite(monetary) & (monetary > 0)
    left_out = int(repeaters.sum() - usable.sum())
    x = frequency[usable]
    z = monetary[usable]
    if len(x) < len(PARAMETERS) + 1:
        raise FitError(
            f"{MODEL}: {len(x)} customer(s) with a repeat purchase and positive spend: too few to fit the "
            "spend model"
        )

    rows = _Rows(x, z)
    result = fit_log_parameters(MODEL, PARAMETERS, rows.weighted, float(len(x)), start, len(x))
    warnings = list(result.warnings)
    converged = result.converged
    if left_out:
        warnings.append(f"{MODEL}: {left_out} repeat customer(s) with zero or negative mean spend left out")
    if result.parameters["q"] <= 1:
        converged = False
        warnings.append(
            f"{MODEL}: q = {result.parameters['q']:.3g} <= 1: the population's mean spend p·γ/(q-1) is "
            "infinite (degenerate fit); expected spend falls back to each customer's observed mean"
        )
    correlation = frequency_monetary_correlation(x, z)
    if np.isfinite(correlation) and abs(correlation) > STRONG_CORRELATION:
        warnings.append(
            f"{MODEL}: spend and purchase frequency are correlated (Pearson r = {correlation:.2f}); the model "
            "assumes they are independent, so expected spend is biased"
        )
    extra = {"frequency_monetary_correlation": correlation}
    return replace(result, converged=converged, warnings=warnings, extra=extra)


def expected_average_spend(
    params: dict[str, float], frequency: np.ndarray, monetary: np.ndarray
) -> np.ndarray:
    """E[Z | x, z̄] = (q-1)/(px+q-1) · pγ/(q-1) + px/(px+q-1) · z̄ = p(γ + x z̄)/(px + q - 1): a weighted
    mean of the population's mean spend and the customer's own. Customers without a repeat purchase (or
    without a positive mean) get the population mean pγ/(q-1); with q <= 1 (infinite population mean)
    the customer's own mean, and nan when he has none."""
    p, q, gamma = (params[name] for name in PARAMETERS)
    frequency = np.asarray(frequency, dtype=float)
    monetary = np.asarray(monetary, dtype=float)
    own = (frequency >= 1) & np.isfinite(monetary) & (monetary > 0)
    safe_monetary = np.where(own, monetary, 0.0)
    safe_frequency = np.where(own, frequency, 0.0)
    if q <= 1:
        return np.where(own, safe_monetary, np.nan)
    population = p * gamma / (q - 1)
    conditional = p * (gamma + safe_frequency * safe_monetary) / (p * safe_frequency + q - 1)
    return np.where(own, conditional, population)
