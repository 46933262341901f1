"""The data behind every chart of the HTML report, read from a serving copy of the marts (no Dagster,
no plotting): one function per chart, each taking a DuckDB connection to ``serving.duckdb`` and returning
a small DataFrame the chart draws as is. Chinese labels (segments, stages, tiers) come from the marts.

Tables are read by name from the published copy (its tables carry the mart names, no schema); a table
the copy lacks gives an empty frame, and the report says the section has no data.
"""

from __future__ import annotations

import datetime as dt

import duckdb
import pandas as pd

# The order the playbook lists the lifecycle stages in (codes; their labels come from customer_rfm).
STAGE_ORDER: tuple[str, ...] = ("new", "active", "loyal", "silent", "churned")
# Every mart the report reads (dbt/models/marts/_marts__exposures.yml: the exposure repurchase_report
# depends on exactly these; a test keeps the two equal).
TABLES: tuple[str, ...] = (
    "ab_test_results", "activation_audience", "activation_triggers", "activation_triggers_churn_risk",
    "campaign_funnel", "clv_holdout_check", "clv_model_fit",
    "cohort_retention", "customer_clv_predicted", "customer_rfm", "kpi_monthly", "lifecycle_daily_counts",
    "lifecycle_transitions", "member_tiers", "repurchase_as_of",
)  # fmt: skip
FUNNEL_STEPS: tuple[tuple[str, str], ...] = (
    ("assigned_customers", "assigned"),
    ("sent_customers", "sent"),
    ("delivered_customers", "delivered"),
    ("opened_customers", "opened"),
    ("clicked_customers", "clicked"),
    ("add_to_cart_customers", "add to cart"),
    ("ordered_customers", "ordered"),
)


def has_table(con: duckdb.DuckDBPyConnection, table: str) -> bool:
    return bool(
        con.execute(
            "select count(*) from information_schema.tables where table_name = ? and table_schema = 'main'",
            [table],
        ).fetchone()[0]
    )


def _frame(con: duckdb.DuckDBPyConnection, tables: tuple[str, ...], sql: str, params=None) -> pd.DataFrame:
    """``sql`` (a constant of this module) when every table in ``tables`` exists, else an empty frame."""
    if not all(has_table(con, table) for table in tables):
        return pd.DataFrame()
    return con.execute(sql, params or []).df()


def as_of_date(con: duckdb.DuckDBPyConnection) -> dt.date | None:
    if not has_table(con, "repurchase_as_of"):
        return None
    row = con.execute("select as_of_date from repurchase_as_of").fetchone()
    return None if row is None else row[0]


def stage_labels(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    """Lifecycle stage code -> its Chinese label, as ``customer_rfm`` carries them."""
    frame = _frame(
        con,
        ("customer_rfm",),
        "select distinct lifecycle_stage, lifecycle_stage_label from customer_rfm "
        "where lifecycle_stage is not null",
    )
    labels = dict(zip(frame.get("lifecycle_stage", []), frame.get("lifecycle_stage_label", []), strict=True))
    return {code: labels.get(code) or code for code in STAGE_ORDER} | labels


def kpi_trend(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """``kpi_monthly`` overall, one row per month (``is_history_complete`` false: early months whose
    customers' earlier purchases predate the data)."""
    return _frame(
        con,
        ("kpi_monthly",),
        """
        select period_start, is_complete, is_history_complete, customers, repurchase_rate,
            retention_rate_of_start_active, active_customer_ratio, avg_repurchase_frequency, aov, clv,
            touch_conversion_rate, identified_order_share, identified_revenue_share
        from kpi_monthly
        where dimension = 'overall'
        order by period_start
        """,
    )


def kpi_by_channel(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """``kpi_monthly`` by channel: repurchase rate and AOV per month."""
    return _frame(
        con,
        ("kpi_monthly",),
        """
        select period_start, dimension_value as channel, is_history_complete, customers, repurchase_rate, aov
        from kpi_monthly
        where dimension = 'channel'
        order by channel, period_start
        """,
    )


def segment_mix(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Customers and net spend in the RFM window (``monetary``) per RFM segment, largest first."""
    return _frame(
        con,
        ("customer_rfm",),
        """
        select segment_code, segment, count(*) as customers, sum(monetary) as revenue
        from customer_rfm
        group by segment_code, segment
        order by customers desc, segment_code
        """,
    )


def segment_by_stage(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Customers per RFM segment × lifecycle stage (long form)."""
    return _frame(
        con,
        ("customer_rfm",),
        """
        select segment, lifecycle_stage, lifecycle_stage_label, count(*) as customers
        from customer_rfm
        group by all
        order by segment, lifecycle_stage
        """,
    )


def lifecycle_daily(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    return _frame(
        con,
        ("lifecycle_daily_counts",),
        "select day, stage, customers from lifecycle_daily_counts order by day, stage",
    )


def last_month(as_of: dt.date) -> tuple[dt.date, dt.date]:
    """The latest complete calendar month at ``as_of``: its own month when as_of is its last day."""
    next_day = as_of + dt.timedelta(days=1)
    if next_day.day == 1:
        return as_of.replace(day=1), as_of
    end = as_of.replace(day=1) - dt.timedelta(days=1)
    return end.replace(day=1), end


def stage_transitions(con: duckdb.DuckDBPyConnection, start: dt.date, end: dt.date) -> pd.DataFrame:
    """Customers moving from one stage to another between ``start`` and ``end`` (a first purchase has
    no ``from_stage``: shown as 'first purchase')."""
    return _frame(
        con,
        ("lifecycle_transitions",),
        """
        select coalesce(from_stage, '(first purchase)') as from_stage, to_stage, count(*) as customers
        from lifecycle_transitions
        where day between ? and ?
        group by all
        order by customers desc
        """,
        [start, end],
    )


def cohort_grid(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    return _frame(
        con,
        ("cohort_retention",),
        """
        select cohort_month, months_since_first, is_complete_month, is_history_complete, cohort_size,
            customers_purchasing, share_purchasing
        from cohort_retention
        where dimension = 'overall'
        order by cohort_month, months_since_first
        """,
    )


def campaign_funnel(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """The funnel of every campaign and variant (summed over the RFM segments the mart splits it by)."""
    steps = ", ".join(f"coalesce(sum({column}), 0) as {column}" for column, _label in FUNNEL_STEPS)
    return _frame(
        con,
        ("campaign_funnel",),
        f"""
        select campaign_id, campaign_name, coalesce(variant, '(no variant)') as variant,
            bool_or(is_control) as is_control, channel, {steps},
            sum(conversion_revenue) as conversion_revenue, bool_and(is_window_complete) as is_window_complete
        from campaign_funnel
        group by all
        order by campaign_id, variant
        """,
    )


def ab_results(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Every variant against its reference variant: uplift of the conversion rate with its CI and the
    test that gave the p-value."""
    return _frame(
        con,
        ("ab_test_results",),
        """
        select campaign_id, campaign_name, channel, variant, reference_variant, recipients, converters,
            conversion_rate, reference_conversion_rate, uplift_abs, uplift_ci_low, uplift_ci_high, p_value,
            p_value_test, is_significant, is_srm, is_underpowered, is_window_complete, alpha
        from ab_test_results
        where not is_reference
        order by campaign_id, variant
        """,
    )


def tier_counts(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    return _frame(
        con,
        ("member_tiers",),
        """
        select tier, tier_label, count(*) as customers, sum(rolling_spend) as rolling_spend,
            count(*) filter (where tier_differs_from_member_level) as differs_from_member_level
        from member_tiers
        group by tier, tier_label
        order by rolling_spend desc nulls last
        """,
    )


def tier_vs_member_level(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Computed tier × the merchant's own 会员等级 (as a tier code; 'none given' when the export has
    no level or the var does not map it)."""
    return _frame(
        con,
        ("member_tiers",),
        """
        select tier_label, coalesce(member_level_tier, '(no level)') as member_level_tier,
            count(*) as customers
        from member_tiers
        group by all
        order by tier_label, member_level_tier
        """,
    )


def audience_reach(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Per audience (RFM segment): who can be reached on each channel and who is suppressed (reachable on
    no channel: no SMS consent, no WeCom, no official account)."""
    return _frame(
        con,
        ("activation_audience",),
        """
        select segment, count(*) as customers,
            count(*) filter (where sms_reachable) as sms,
            count(*) filter (where wecom_reachable) as wecom,
            count(*) filter (where follows_official_account) as official_account,
            count(*) filter (where not is_reachable) as suppressed
        from activation_audience
        group by segment
        order by customers desc
        """,
    )


_TRIGGER_OUTCOMES_SQL = """
    select
        trigger_code,
        coalesce(channel, 'suppressed: ' || suppressed_reason) as outcome,
        not is_sent as is_suppressed,
        count(*) as triggers
    from {triggers}
    group by all
    order by trigger_code, is_suppressed, outcome
"""
_DBT_TRIGGERS = "activation_triggers"
_ALL_TRIGGERS = (
    "(select * from activation_triggers union all by name select * from activation_triggers_churn_risk "
    "where as_of_date = (select max(as_of_date) from repurchase_as_of))"
)


def trigger_outcomes(con: duckdb.DuckDBPyConnection) -> pd.DataFrame | None:
    """Triggers fired on as_of per trigger_code and outcome: the channel it was sent on, or
    ``suppressed: <reason>``; ``activation_triggers`` with the churn_risk rows when published. None when
    the mart is absent (an empty frame: nothing fired)."""
    if not has_table(con, "activation_triggers"):
        return None
    churn_risk = has_table(con, "activation_triggers_churn_risk") and has_table(con, "repurchase_as_of")
    triggers = _ALL_TRIGGERS if churn_risk else _DBT_TRIGGERS
    return con.execute(_TRIGGER_OUTCOMES_SQL.format(triggers=triggers)).df()


def p_alive(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    return _frame(
        con,
        ("customer_clv_predicted",),
        "select p_alive from customer_clv_predicted where p_alive is not null",
    )


def holdout(con: duckdb.DuckDBPyConnection, section: str) -> pd.DataFrame:
    """``clv_holdout_check`` rows of one section: 'tracking' (weekly, cumulative) or
    'by_calibration_frequency' (conditional expectation)."""
    return _frame(
        con,
        ("clv_holdout_check",),
        """
        select bucket, period_start, period_end, customers, actual_purchases, predicted_purchases,
            actual_per_customer, predicted_per_customer, actual_cumulative, predicted_cumulative,
            calibration_end, holdout_days
        from clv_holdout_check
        where section = ?
        order by period_start nulls last, bucket
        """,
        [section],
    )


def clv_fit(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    return _frame(
        con,
        ("clv_model_fit",),
        """
        select fit, model, parameter, estimate, standard_error, converged, warnings
        from clv_model_fit
        order by fit, model, parameter
        """,
    )
