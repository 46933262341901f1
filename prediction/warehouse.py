"""The predictive-CLV marts, computed from ``marts.repurchase_purchases`` of the warehouse as of its as_of
and written beside the dbt marts (schema ``marts``), so the serving copy publishes them:

- ``customer_clv_predicted``: one row per identified customer with a purchase up to as_of;
- ``clv_predicted_by_segment``: the same aggregated by RFM segment and lifecycle stage (and overall),
  beside the heuristic ``clv`` of ``clv_by_segment``;
- ``clv_model_fit``: every fitted parameter with its standard error, the log-likelihood, convergence
  and warnings (the as_of fit and the holdout's calibration fit);
- ``clv_holdout_check``: the holdout comparison (:mod:`prediction.holdout`).

A model that cannot be fitted (too little data) or whose fit does not converge is no error of the run:
the tables are written without its predictions (no rows without a BG/NBD fit, no spend and CLV without a
Gamma-Gamma fit) and ``clv_model_fit`` says why. No personal data: customers are their surrogate
``customer_id``. Their columns are declared (and documented) in
``dbt/models/marts/repurchase/_clv_predicted__sources.yml``, which the serving copy reads.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import duckdb
import numpy as np
import pandas as pd

from core.warehouse import MARTS_SCHEMA, quote_identifier

from . import bgnbd, gamma_gamma
from .clv import ClvSettings, score_customers
from .holdout import HOLDOUT_COLUMNS, holdout_check
from .mle import FitError, FitResult
from .summary import daily_transactions, summarize_daily

CUSTOMER_CLV_PREDICTED = "customer_clv_predicted"
CLV_PREDICTED_BY_SEGMENT = "clv_predicted_by_segment"
CLV_MODEL_FIT = "clv_model_fit"
CLV_HOLDOUT_CHECK = "clv_holdout_check"

# Each table's columns and their DuckDB types, in order (the yml documents the same columns).
TABLES: dict[str, dict[str, str]] = {
    CUSTOMER_CLV_PREDICTED: {
        "customer_id": "varchar",
        "segment": "varchar",
        "segment_code": "varchar",
        "lifecycle_stage": "varchar",
        "repeat_purchases": "integer",
        "recency": "double",
        "tenure": "double",
        "time_unit": "varchar",
        "p_alive": "double",
        "expected_purchases_90d": "double",
        "expected_purchases_365d": "double",
        "expected_avg_spend": "double",
        "predicted_clv": "double",
        "clv_rank": "bigint",
        "horizon_months": "integer",
        "annual_discount_rate": "double",
        "as_of_date": "date",
    },
    CLV_PREDICTED_BY_SEGMENT: {
        "dimension": "varchar",
        "dimension_value": "varchar",
        "segment_code": "varchar",
        "customers": "bigint",
        "mean_p_alive": "double",
        "expected_purchases_365d": "double",
        "predicted_clv_total": "double",
        "predicted_clv_per_customer": "double",
        "heuristic_clv": "double",
        "horizon_months": "integer",
        "as_of_date": "date",
    },
    CLV_MODEL_FIT: {
        "as_of_date": "date",
        "fit": "varchar",
        "calibration_end": "date",
        "model": "varchar",
        "parameter": "varchar",
        "estimate": "double",
        "standard_error": "double",
        "log_likelihood": "double",
        "customers": "bigint",
        "converged": "boolean",
        "warnings": "varchar",
        "frequency_monetary_correlation": "double",
        "time_unit": "varchar",
    },
    CLV_HOLDOUT_CHECK: {
        **{
            column: {
                "section": "varchar",
                "bucket": "varchar",
                "period_start": "date",
                "period_end": "date",
                "customers": "bigint",
            }.get(column, "double")
            for column in HOLDOUT_COLUMNS
        },
        "calibration_end": "date",
        "holdout_days": "integer",
        "as_of_date": "date",
    },
}
FIT_AS_OF = "as_of"
FIT_HOLDOUT = "holdout_calibration"


@dataclass
class ClvMarts:
    as_of: dt.date
    frames: dict[str, pd.DataFrame]
    fits: dict[str, FitResult] = field(default_factory=dict)  # "<fit>/<model>" -> result
    problems: list[str] = field(default_factory=list)  # fits that failed, and every fit warning


def read_purchases(con: duckdb.DuckDBPyConnection) -> tuple[pd.DataFrame, dt.date]:
    """The identified purchases up to as_of as daily transactions, and as_of."""
    as_of = con.execute(f"select as_of_date from {MARTS_SCHEMA}.repurchase_as_of").fetchone()
    if as_of is None or as_of[0] is None:
        raise ValueError(f"{MARTS_SCHEMA}.repurchase_as_of is empty: build the dbt marts first")
    purchases = con.execute(
        f"select customer_id, purchase_date, net_amount from {MARTS_SCHEMA}.repurchase_purchases "
        "where customer_id is not null"
    ).df()
    return daily_transactions(purchases, "customer_id", "purchase_date", "net_amount"), as_of[0]


def _optional_table(con: duckdb.DuckDBPyConnection, sql: str, table: str) -> pd.DataFrame | None:
    exists = con.execute(
        "select count(*) from information_schema.tables where table_schema = ? and table_name = ?",
        [MARTS_SCHEMA, table],
    ).fetchone()[0]
    return con.execute(sql).df() if exists else None


def _fit_rows(fit_name: str, calibration_end: dt.date, result: FitResult, time_unit: str) -> list[dict]:
    correlation = result.extra.get("frequency_monetary_correlation", np.nan)
    return [
        {
            "fit": fit_name,
            "calibration_end": calibration_end,
            "model": result.model,
            "parameter": name,
            "estimate": value,
            "standard_error": result.standard_errors[name],
            "log_likelihood": result.log_likelihood,
            "customers": result.customers,
            "converged": result.converged,
            "warnings": "; ".join(result.warnings) or None,
            "frequency_monetary_correlation": correlation,
            "time_unit": time_unit,
        }
        for name, value in result.parameters.items()
    ]


def _failed_fit_row(
    fit_name: str, calibration_end: dt.date, model: str, error: Exception, time_unit: str
) -> dict:
    return {
        "fit": fit_name, "calibration_end": calibration_end, "model": model, "parameter": None,
        "estimate": np.nan, "standard_error": np.nan, "log_likelihood": np.nan, "customers": 0,
        "converged": False, "warnings": str(error), "frequency_monetary_correlation": np.nan,
        "time_unit": time_unit,
    }  # fmt: skip


def build_clv_marts(
    daily: pd.DataFrame,
    as_of: dt.date,
    settings: ClvSettings,
    *,
    segments: pd.DataFrame | None = None,
    heuristic: pd.DataFrame | None = None,
) -> ClvMarts:
    """The four tables from daily transactions (``customer_id``, ``day``, ``amount``) up to ``as_of``.

    ``segments``: ``customer_rfm``'s customer_id, segment, segment_code, lifecycle_stage (optional);
    ``heuristic``: ``clv_by_segment``'s segment_code and clv (optional)."""
    unit = settings.time_unit
    marts = ClvMarts(as_of=as_of, frames={})
    fit_rows: list[dict] = []
    summary = summarize_daily(daily, as_of, unit)
    x = summary["frequency"].to_numpy(float)
    bgnbd_fit = gg_fit = None
    try:
        bgnbd_fit = bgnbd.fit(x, summary["recency"].to_numpy(float), summary["tenure"].to_numpy(float))
        fit_rows += _fit_rows(FIT_AS_OF, as_of, bgnbd_fit, unit)
        marts.fits[f"{FIT_AS_OF}/{bgnbd.MODEL}"] = bgnbd_fit
    except FitError as error:
        fit_rows.append(_failed_fit_row(FIT_AS_OF, as_of, bgnbd.MODEL, error, unit))
        marts.problems.append(str(error))
    try:
        gg_fit = gamma_gamma.fit(x, summary["monetary"].to_numpy(float))
        fit_rows += _fit_rows(FIT_AS_OF, as_of, gg_fit, unit)
        marts.fits[f"{FIT_AS_OF}/{gamma_gamma.MODEL}"] = gg_fit
    except FitError as error:
        fit_rows.append(_failed_fit_row(FIT_AS_OF, as_of, gamma_gamma.MODEL, error, unit))
        marts.problems.append(str(error))

    if bgnbd_fit is not None and not bgnbd_fit.converged:
        marts.problems.append(f"{bgnbd.MODEL}: the fit did not converge: no per-customer predictions written")
    usable = bgnbd_fit if bgnbd_fit is not None and bgnbd_fit.converged else None
    predicted = _predicted(summary, usable, gg_fit, settings, segments, as_of)
    marts.frames[CUSTOMER_CLV_PREDICTED] = predicted
    marts.frames[CLV_PREDICTED_BY_SEGMENT] = _by_segment(predicted, heuristic, settings, as_of)

    calibration_end = as_of - dt.timedelta(days=settings.holdout_days)
    try:
        check = holdout_check(daily, as_of, settings.holdout_days, unit)
        fit_rows += _fit_rows(FIT_HOLDOUT, calibration_end, check.fit, unit)
        marts.fits[f"{FIT_HOLDOUT}/{bgnbd.MODEL}"] = check.fit
        holdout = check.table.assign(
            calibration_end=calibration_end, holdout_days=settings.holdout_days, as_of_date=as_of
        )
    except FitError as error:
        fit_rows.append(_failed_fit_row(FIT_HOLDOUT, calibration_end, bgnbd.MODEL, error, unit))
        marts.problems.append(f"holdout check: {error}")
        holdout = pd.DataFrame(columns=list(TABLES[CLV_HOLDOUT_CHECK]))
    marts.frames[CLV_HOLDOUT_CHECK] = holdout
    for result in marts.fits.values():
        marts.problems.extend(result.warnings)
    marts.frames[CLV_MODEL_FIT] = pd.DataFrame(
        fit_rows, columns=[c for c in TABLES[CLV_MODEL_FIT] if c != "as_of_date"]
    ).assign(as_of_date=as_of)
    return marts


def _predicted(
    summary: pd.DataFrame,
    bgnbd_fit: FitResult | None,
    gg_fit: FitResult | None,
    settings: ClvSettings,
    segments: pd.DataFrame | None,
    as_of: dt.date,
) -> pd.DataFrame:
    if bgnbd_fit is None:
        return pd.DataFrame(columns=list(TABLES[CUSTOMER_CLV_PREDICTED]))
    # Without a spend model the purchase predictions stand and spend and CLV are unknown.
    spend_params = gg_fit.parameters if gg_fit is not None else {"p": np.nan, "q": 0.0, "gamma": np.nan}
    scored = score_customers(summary, bgnbd_fit.parameters, spend_params, settings)
    if gg_fit is None:
        scored["expected_avg_spend"] = np.nan
        scored["predicted_clv"] = np.nan
        scored["clv_rank"] = pd.array([pd.NA] * len(scored), dtype="Int64")
    scored = scored.rename(columns={"frequency": "repeat_purchases"})
    scored["repeat_purchases"] = scored["repeat_purchases"].astype(int)
    if segments is not None:
        scored = scored.merge(
            segments[["customer_id", "segment", "segment_code", "lifecycle_stage"]],
            on="customer_id",
            how="left",
        )
    else:
        scored = scored.assign(segment=None, segment_code=None, lifecycle_stage=None)
    scored = scored.assign(
        time_unit=settings.time_unit,
        horizon_months=settings.horizon_months,
        annual_discount_rate=settings.annual_discount_rate,
        as_of_date=as_of,
    )
    return scored.sort_values(["clv_rank", "customer_id"], kind="stable").loc[
        :, list(TABLES[CUSTOMER_CLV_PREDICTED])
    ]


def _by_segment(
    predicted: pd.DataFrame, heuristic: pd.DataFrame | None, settings: ClvSettings, as_of: dt.date
) -> pd.DataFrame:
    groups = [("overall", pd.Series("all", index=predicted.index), pd.Series("all", index=predicted.index))]
    groups.append(("rfm_segment", predicted["segment"], predicted["segment_code"]))
    groups.append(
        (
            "lifecycle_stage",
            predicted["lifecycle_stage"],
            pd.Series(None, index=predicted.index, dtype=object),
        )
    )
    frames = []
    for dimension, value, code in groups:
        frame = pd.DataFrame(
            {
                "dimension_value": value,
                "segment_code": code,
                "p_alive": predicted["p_alive"].astype(float),
                "expected_purchases_365d": predicted["expected_purchases_365d"].astype(float),
                "predicted_clv": predicted["predicted_clv"].astype(float),
            }
        ).dropna(subset=["dimension_value"])
        aggregated = (
            frame.groupby(["dimension_value"], sort=True, dropna=False)
            .agg(
                segment_code=("segment_code", "first"),
                customers=("p_alive", "size"),
                mean_p_alive=("p_alive", "mean"),
                expected_purchases_365d=("expected_purchases_365d", "sum"),
                predicted_clv_total=("predicted_clv", lambda s: s.sum(min_count=1)),
                predicted_clv_per_customer=("predicted_clv", "mean"),
            )
            .reset_index()
        )
        aggregated.insert(0, "dimension", dimension)
        frames.append(aggregated)
    result = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    if heuristic is not None and not result.empty:
        clv = dict(zip(heuristic["segment_code"], heuristic["clv"], strict=True))
        result["heuristic_clv"] = [
            clv.get(code) if dimension != "lifecycle_stage" else np.nan
            for dimension, code in zip(result["dimension"], result["segment_code"], strict=True)
        ]
    else:
        result["heuristic_clv"] = np.nan
    result = result.assign(horizon_months=settings.horizon_months, as_of_date=as_of)
    return result.reindex(columns=list(TABLES[CLV_PREDICTED_BY_SEGMENT]))


def write_clv_marts(con: duckdb.DuckDBPyConnection, marts: ClvMarts) -> dict[str, int]:
    """Replace the four tables in schema ``marts`` in one transaction; returns their row counts."""
    rows: dict[str, int] = {}
    con.execute("begin transaction")
    try:
        for table, columns in TABLES.items():
            frame = marts.frames[table].reindex(columns=list(columns))
            view = f"_clv_frame_{table}"
            con.register(view, frame)
            select = ", ".join(
                f"cast({quote_identifier(column)} as {sql_type}) as {quote_identifier(column)}"
                for column, sql_type in columns.items()
            )
            con.execute(
                f"create or replace table {MARTS_SCHEMA}.{quote_identifier(table)} as select {select} from {view}"
            )
            con.unregister(view)
            rows[table] = len(frame)
        con.execute("commit")
    except BaseException:
        con.execute("rollback")
        raise
    return rows


def refresh_clv_marts(con: duckdb.DuckDBPyConnection, settings: ClvSettings) -> ClvMarts:
    """Read the purchases, segments and heuristic CLV from the warehouse, compute and write the tables."""
    daily, as_of = read_purchases(con)
    segments = _optional_table(
        con,
        f"select customer_id, segment, segment_code, lifecycle_stage from {MARTS_SCHEMA}.customer_rfm",
        "customer_rfm",
    )
    heuristic = _optional_table(
        con, f"select segment_code, clv from {MARTS_SCHEMA}.clv_by_segment", "clv_by_segment"
    )
    marts = build_clv_marts(daily, as_of, settings, segments=segments, heuristic=heuristic)
    write_clv_marts(con, marts)
    return marts
