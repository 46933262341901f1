"""Fit both models on a per-customer summary and report the estimates as plain data (what
``repurchase clv-fit`` prints as JSON)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import pandas as pd

from . import bgnbd, gamma_gamma
from .mle import FitError, FitResult


def _model_report(result: FitResult) -> dict[str, Any]:
    return {
        **{name: round(value, 6) for name, value in result.parameters.items()},
        "standard_errors": {name: _number(value) for name, value in result.standard_errors.items()},
        "log_likelihood": round(result.log_likelihood, 4),
        "customers": result.customers,
        "converged": result.converged,
        "iterations": result.iterations,
        "warnings": list(result.warnings),
        **{name: _number(value) for name, value in result.extra.items()},
    }


def _number(value: float) -> float | None:
    return round(float(value), 6) if np.isfinite(value) else None


def fit_summary(summary: pd.DataFrame, *, calibration_end: dt.date, time_unit: str) -> dict[str, Any]:
    """BG/NBD and Gamma-Gamma fitted on a per-customer summary
    (:func:`prediction.summary.summarize_transactions` up to ``calibration_end``):
    ``{"bgnbd": {r, alpha, a, b, standard_errors, log_likelihood, ...}, "gamma_gamma": {p, q, gamma, ...},
    "customers", "repeat_customers", "repeat_transactions", ...}``. Raises ``FitError`` when a model
    cannot be fitted."""
    if summary.empty:
        raise FitError(f"no transaction on or before the calibration end {calibration_end}")
    x = summary["frequency"].to_numpy(float)
    bgnbd_fit = bgnbd.fit(x, summary["recency"].to_numpy(float), summary["tenure"].to_numpy(float))
    gg_fit = gamma_gamma.fit(x, summary["monetary"].to_numpy(float))
    return {
        "calibration_end": calibration_end.isoformat(),
        "time_unit": time_unit,
        "customers": len(summary),
        "repeat_customers": int((x > 0).sum()),
        "repeat_transactions": int(x.sum()),
        "bgnbd": _model_report(bgnbd_fit),
        "gamma_gamma": _model_report(gg_fit),
    }
