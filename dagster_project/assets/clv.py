"""The predictive-CLV marts (thin over ``prediction.warehouse``): BG/NBD and Gamma-Gamma fitted on
``marts.repurchase_purchases`` as of the run's as_of, written into schema ``marts`` after dbt and before
the serving copy publishes it."""

# No `from __future__ import annotations`: Dagster inspects the asset function's annotations.

from collections.abc import Iterator

from dagster import (
    AssetExecutionContext,
    AssetKey,
    AssetSpec,
    Config,
    MaterializeResult,
    MetadataValue,
    asset,
    multi_asset,
)
from pydantic import Field

from prediction.churn_risk import CHURN_RISK_TABLE, ChurnRiskSettings, refresh_churn_risk_triggers
from prediction.clv import ClvSettings
from prediction.summary import TIME_UNIT_DAYS
from prediction.warehouse import (
    CLV_HOLDOUT_CHECK,
    CLV_MODEL_FIT,
    CLV_PREDICTED_BY_SEGMENT,
    CUSTOMER_CLV_PREDICTED,
    TABLES,
    refresh_clv_marts,
)
from transform.dbt import project_var

from ..resources import WarehouseResource

CLV_GROUP = "prediction"
CLV_ASSET_KEYS = [AssetKey(["marts", table]) for table in TABLES]
# Defaults from dbt/dbt_project.yml, where every other threshold lives (vars clv_*); a run can override
# them in the launchpad.
_DEFAULTS = ClvSettings(
    time_unit=project_var("clv_time_unit"),
    horizon_months=project_var("clv_horizon_months"),
    annual_discount_rate=project_var("clv_annual_discount_rate"),
    holdout_days=project_var("clv_holdout_days"),
)
_UPSTREAM = [
    AssetKey(["marts", name])
    for name in ("repurchase_purchases", "repurchase_as_of", "customer_rfm", "clv_by_segment")
]
_DESCRIPTIONS = {
    CUSTOMER_CLV_PREDICTED: "Per customer: P(alive), expected purchases in 90/365 days, expected spend, "
    "discounted predicted CLV and its rank (BG/NBD + Gamma-Gamma, maximum likelihood).",
    CLV_PREDICTED_BY_SEGMENT: "Predicted CLV by RFM segment and lifecycle stage beside clv_by_segment's heuristic clv.",
    CLV_MODEL_FIT: "Fitted parameters, standard errors, log-likelihood, convergence and warnings.",
    CLV_HOLDOUT_CHECK: "Holdout check: actual vs predicted repeat purchases (total, by calibration "
    "frequency, weekly tracking).",
}


class ClvConfig(Config):
    """The predictive-CLV settings (defaults: the clv_* vars of ``dbt/dbt_project.yml``)."""

    time_unit: str = Field(
        default=_DEFAULTS.time_unit, description=f"unit of recency and tenure: {', '.join(TIME_UNIT_DAYS)}"
    )
    horizon_months: int = Field(
        default=_DEFAULTS.horizon_months, ge=1, description="months of the discounted CLV"
    )
    annual_discount_rate: float = Field(
        default=_DEFAULTS.annual_discount_rate, ge=0, lt=1, description="annual discount rate of the CLV"
    )
    holdout_days: int = Field(
        default=_DEFAULTS.holdout_days, ge=1, description="days before as_of held out to check the model"
    )

    def settings(self) -> ClvSettings:
        return ClvSettings(
            time_unit=self.time_unit,
            horizon_months=self.horizon_months,
            annual_discount_rate=self.annual_discount_rate,
            holdout_days=self.holdout_days,
        )


@multi_asset(
    specs=[
        AssetSpec(
            key,
            deps=_UPSTREAM,
            group_name=CLV_GROUP,
            kinds={"python", "duckdb"},
            description=_DESCRIPTIONS[key.path[-1]],
        )
        for key in CLV_ASSET_KEYS
    ],
    name="clv_predicted",
)
def clv_predicted(
    context: AssetExecutionContext, config: ClvConfig, warehouse: WarehouseResource
) -> Iterator[MaterializeResult]:
    with warehouse.connect() as con:
        marts = refresh_clv_marts(con, config.settings())
    for problem in marts.problems:
        context.log.warning(problem)
    fit_rows = "\n".join(
        f"| {name} | {parameter} | {value:.4g} | {result.standard_errors[parameter]:.3g} |"
        for name, result in marts.fits.items()
        for parameter, value in result.parameters.items()
    )
    for key in CLV_ASSET_KEYS:
        table = key.path[-1]
        metadata = {
            "as_of": MetadataValue.text(marts.as_of.isoformat()),
            "dagster/row_count": MetadataValue.int(len(marts.frames[table])),
        }
        if table == CLV_MODEL_FIT:
            metadata["parameters"] = MetadataValue.md(
                "| fit | parameter | estimate | se |\n|---|---|---:|---:|\n" + fit_rows
            )
            metadata["warnings"] = MetadataValue.text("; ".join(marts.problems) or "none")
        yield MaterializeResult(asset_key=key, metadata=metadata)


CHURN_RISK_KEY = AssetKey(["marts", CHURN_RISK_TABLE])


@asset(
    key=CHURN_RISK_KEY,
    group_name=CLV_GROUP,
    kinds={"python", "duckdb"},
    deps=[
        AssetKey(["marts", CUSTOMER_CLV_PREDICTED]),
        AssetKey(["marts", "activation_triggers"]),
        AssetKey(["intermediate", "int_touch_eligibility"]),
        AssetKey(["marts", "repurchase_as_of"]),
    ],
    description=(
        "The churn_risk trigger: valuable customers (segment important_*, or clv_rank in the top "
        "trigger_churn_risk_top_clv_share) whose p_alive is below trigger_churn_risk_max_p_alive and who "
        "fired no other trigger on as_of, with the channel, suppression and cap of int_touch_eligibility "
        "(the rules activation_triggers reads too; prediction/churn_risk.py). exports/triggers sends its "
        "sent rows."
    ),
)
def activation_triggers_churn_risk(warehouse: WarehouseResource) -> MaterializeResult:
    with warehouse.connect() as con:
        frame = refresh_churn_risk_triggers(con, ChurnRiskSettings.from_project(project_var))
    outcomes = frame["suppressed_reason"].fillna("sent").value_counts().to_dict()
    return MaterializeResult(
        metadata={
            "dagster/row_count": MetadataValue.int(len(frame)),
            "outcomes": MetadataValue.json({str(k): int(v) for k, v in outcomes.items()}),
        }
    )
