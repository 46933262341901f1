"""The repurchase marts on a small generated demo: reproducible for one as_of, different for another, and
checked against independent pandas recomputations (lifecycle stage day by day, monthly KPIs, RFM ties).

The demo is a copy of the session's refreshed demo (tests/helpers/refreshed_demo.py): every mart built by
the pipeline's ``dbt build`` (their data tests passed), as of the latest purchase."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest

from tests.helpers.refreshed_demo import RefreshedDemo, copy_data_dir
from tests.helpers.repurchase_marts import ACTIVE_DAYS, LOYAL_PURCHASES, LOYAL_TENURE, NEW_DAYS, SILENT_DAYS
from transform.dbt import run_dbt, vars_arg

pytestmark = pytest.mark.e2e

# the repurchase marts and the customer state they read (built for each as_of: DECISIONLOG "Customer state
# is a model"; the marts stop on a state built for another as_of), with the KPI rows kept by period and the
# segment history they group by
MARTS_PATH = ("path:models/marts/repurchase", "int_customer_order_state", "path:models/intermediate/kpis",
              "int_customer_segment_history")
MARTS = (
    "repurchase_as_of", "repurchase_purchases", "customer_rfm", "customer_lifecycle", "lifecycle_transitions",
    "lifecycle_daily_counts", "customer_current_stage", "kpi_monthly", "kpi_quarterly", "clv_by_segment",
    "cohort_retention", "member_tiers", "member_tier_history", "activation_audience", "fct_orders",
)


def snapshot(warehouse: Path) -> dict[str, pd.DataFrame]:
    """Every repurchase mart, fully sorted, so two builds compare row for row."""
    with duckdb.connect(str(warehouse)) as con:
        frames = {}
        for table in MARTS:
            frame = con.execute(f"select * from marts.{table}").df()  # names from the constant above
            # the build's bookkeeping (which build wrote a row: DECISIONLOG "Customer state is a model") aside
            frame = frame.drop(columns=[c for c in frame.columns if c.startswith("_built")])
            frames[table] = frame.sort_values(list(frame.columns)).reset_index(drop=True)
        return frames


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory, refreshed_demo: RefreshedDemo) -> dict:
    assert not refreshed_demo.outcome.checks_failed, refreshed_demo.outcome.checks_failed  # dbt tests passed
    root = tmp_path_factory.mktemp("marts_demo")
    data_dir, target = copy_data_dir(refreshed_demo, root / "data").root, root / "work" / "target"
    default = snapshot(data_dir / "warehouse.duckdb")
    as_of = default["repurchase_as_of"].loc[0, "as_of_date"].date()

    run_dbt(["run", "--select", *MARTS_PATH, *vars_arg({"as_of": as_of.isoformat()})], data_dir=data_dir,
            target_path=target)
    same = snapshot(data_dir / "warehouse.duckdb")

    earlier = as_of - dt.timedelta(days=45)
    run_dbt(["run", "--select", *MARTS_PATH, *vars_arg({"as_of": earlier.isoformat()})], data_dir=data_dir,
            target_path=target)
    before = snapshot(data_dir / "warehouse.duckdb")
    return {"as_of": as_of, "earlier": earlier, "default": default, "same": same, "before": before}


def test_same_as_of_gives_identical_marts(demo: dict) -> None:
    assert demo["same"]["repurchase_as_of"].loc[0, "as_of_source"] == "var"
    for table in MARTS:
        if table == "repurchase_as_of":
            continue
        pd.testing.assert_frame_equal(demo["default"][table], demo["same"][table], obj=table)
        assert len(demo["default"][table]) > 0, table


def test_earlier_as_of_changes_the_marts_and_ignores_later_purchases(demo: dict) -> None:
    before, default, earlier = demo["before"], demo["default"], pd.Timestamp(demo["earlier"])
    assert before["repurchase_as_of"].loc[0, "as_of_date"] == earlier
    assert before["repurchase_purchases"]["purchase_date"].max() <= earlier
    assert len(before["repurchase_purchases"]) < len(default["repurchase_purchases"])
    assert (before["customer_lifecycle"]["valid_from"] <= earlier).all()
    assert before["lifecycle_daily_counts"]["day"].max() == earlier
    for table in ("customer_rfm", "customer_current_stage", "kpi_monthly", "member_tiers", "activation_audience"):
        assert not before[table].equals(default[table]), table
    # A customer's recency as of the earlier day is measured from that day.
    rfm = before["customer_rfm"]
    assert ((earlier - rfm["last_purchase_date"]).dt.days == rfm["recency_days"]).all()


def _daily_stages(purchases: pd.DataFrame, as_of: pd.Timestamp) -> pd.DataFrame:
    """Stage of every customer on every day from the first purchase to as_of, evaluated day by day."""
    identified = purchases.dropna(subset=["customer_id"])
    per_day = (identified.groupby(["customer_id", "purchase_date"]).size().rename("orders").reset_index()
               .sort_values(["customer_id", "purchase_date"]))
    per_day["to_date"] = per_day.groupby("customer_id")["orders"].cumsum()
    first = per_day.groupby("customer_id")["purchase_date"].min()
    lengths = (as_of - first).dt.days + 1
    days = pd.DataFrame({
        "customer_id": np.repeat(first.index.to_numpy(), lengths.to_numpy()),
        "day": np.concatenate([pd.date_range(start, as_of).to_numpy() for start in first]),
    })
    days["first"] = days["customer_id"].map(first)
    days = pd.merge_asof(days.sort_values("day"), per_day.rename(columns={"purchase_date": "last"})
                         .sort_values("last"), left_on="day", right_on="last", by="customer_id")
    since_first = (days["day"] - days["first"]).dt.days
    since_last = (days["day"] - days["last"]).dt.days
    days["stage"] = np.select(
        [since_first <= NEW_DAYS,
         (since_first >= LOYAL_TENURE) & (since_last <= ACTIVE_DAYS) & (days["to_date"] >= LOYAL_PURCHASES),
         since_last <= ACTIVE_DAYS, since_last <= SILENT_DAYS],
        ["new", "loyal", "active", "silent"], "churned")
    return days[["customer_id", "day", "stage"]].sort_values(["customer_id", "day"]).reset_index(drop=True)


def test_lifecycle_spells_match_day_by_day_evaluation(demo: dict) -> None:
    marts = demo["default"]
    as_of = pd.Timestamp(demo["as_of"])
    expected = _daily_stages(marts["repurchase_purchases"], as_of)
    spells = marts["customer_lifecycle"].copy()
    spells["valid_to"] = spells["valid_to"].fillna(as_of)
    lengths = (spells["valid_to"] - spells["valid_from"]).dt.days + 1
    expanded = pd.DataFrame({
        "customer_id": np.repeat(spells["customer_id"].to_numpy(), lengths.to_numpy()),
        "day": np.concatenate([pd.date_range(a, b).to_numpy() for a, b in zip(spells["valid_from"],
                                                                              spells["valid_to"])]),
        "stage": np.repeat(spells["stage"].to_numpy(), lengths.to_numpy()),
    }).sort_values(["customer_id", "day"]).reset_index(drop=True)
    pd.testing.assert_frame_equal(expanded, expected, check_dtype=False)
    # Adjacent spells of a customer never repeat a stage (merged), and every stage occurs in the demo.
    ordered = spells.sort_values(["customer_id", "valid_from"])
    assert not (ordered["stage"] == ordered.groupby("customer_id")["stage"].shift()).any()
    assert set(spells["stage"]) == {"new", "loyal", "active", "silent", "churned"}
    # Daily counts equal the day-by-day census.
    census = expected.groupby(["day", "stage"]).size()
    counts = marts["lifecycle_daily_counts"].set_index(["day", "stage"])["customers"]
    assert (counts[counts > 0].sort_index() == census.sort_index()).all()
    assert counts.sum() == len(expected)


def test_monthly_kpis_match_a_pandas_recount(demo: dict) -> None:
    marts = demo["default"]
    purchases = marts["repurchase_purchases"].copy()
    purchases["month"] = purchases["purchase_date"].dt.to_period("M").dt.start_time
    identified = purchases.dropna(subset=["customer_id"])
    overall = marts["kpi_monthly"].query("dimension == 'overall'").set_index("period_start")
    customers = identified.groupby("month")["customer_id"].nunique()
    repurchasing = identified[identified["customer_purchase_seq"] > 1].groupby("month")["customer_id"].nunique()
    orders = purchases.groupby("month").size()
    # Revenue: every order up to as_of by the one net-spend rule (purchases, and returns or refunds that are
    # not purchases, summed unfloored), counted straight from fct_orders.
    all_orders = marts["fct_orders"].copy()
    all_orders["day"] = all_orders["ordered_at"].dt.normalize()
    all_orders = all_orders[all_orders["day"] <= pd.Timestamp(demo["as_of"])]
    all_orders["month"] = all_orders["day"].dt.to_period("M").dt.start_time
    revenue = all_orders.groupby("month")["net_amount"].sum()
    assert (overall.loc[customers.index, "customers"] == customers).all()
    assert (overall.loc[repurchasing.index, "repurchasing_customers"] == repurchasing).all()
    assert (overall.loc[orders.index, "orders"] == orders).all()
    assert (overall.loc[revenue.index, "net_revenue"].astype(float).round(2)
            == revenue.astype(float).round(2)).all()
    # Channel rows add up to the overall orders.
    by_channel = marts["kpi_monthly"].query("dimension == 'channel'").groupby("period_start")["orders"].sum()
    assert (by_channel == overall.loc[by_channel.index, "orders"]).all()


def test_rfm_scores_tie_and_order_consistently(demo: dict) -> None:
    rfm = demo["default"]["customer_rfm"]
    for value, score, better in (("recency_days", "r_score", -1), ("frequency", "f_score", 1),
                                 ("monetary", "m_score", 1)):
        assert rfm.groupby(value)[score].nunique().max() == 1, f"{score}: equal {value} with different scores"
        ordered = rfm.sort_values(value, ascending=better == 1)
        assert ordered[score].is_monotonic_increasing, score
        assert set(rfm[score]) <= {1, 2, 3, 4, 5}
    assert rfm["segment_code"].nunique() >= 6
