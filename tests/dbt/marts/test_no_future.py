"""No future in past snapshots: every mart built for an as_of sees only events on or before it.

A copy of the session's refreshed demo (tests/helpers/refreshed_demo.py) is rebuilt with as_of = a day in
the middle of the campaign period (the dbt marts, then the predictive-CLV and churn_risk marts the
pipeline writes after them); then every date or timestamp column of every published mart that dates an event must be on or
before as_of. The columns that
legitimately lie after it (or are not events) are listed below with the reason; a new date column is
checked unless it is added there.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import pytest

from prediction.churn_risk import ChurnRiskSettings, refresh_churn_risk_triggers
from prediction.clv import ClvSettings
from prediction.warehouse import refresh_clv_marts
from tests.helpers.refreshed_demo import RefreshedDemo, copy_data_dir
from transform.dbt import project_var, run_dbt, vars_arg

pytestmark = pytest.mark.e2e

# table -> reason: facts and identity tables are the full event log (incremental, never rebuilt for an
# as_of); every as_of-relative mart reads them filtered to as_of.
EXEMPT_TABLES = {
    "fct_orders": "the order fact: every loaded order, the log the as_of marts filter",
    "fct_order_lines": "the order-line fact: every loaded line",
    "fct_touch_events": "the touch fact: every loaded touch event",
    "customer_merges": "identity history: merges seen in every loaded record, not an as_of snapshot",
    "identity_hubs": "identity: shared identifiers seen in every loaded record",
}
# (table, column) -> reason
EXEMPT_COLUMNS = {
    ("repurchase_as_of", "as_of_date"): "the as_of itself",
    ("repurchase_as_of", "latest_purchase_date"): "the newest purchase in the data, reported beside as_of",
    ("campaign_assignments", "window_end_at"): "future-dated by design: when the attribution window closes "
                                               "(is_window_complete is false while it is after as_of)",
    ("kpi_monthly", "period_end"): "the last day of the month containing as_of, not an event",
    ("kpi_quarterly", "period_end"): "the last day of the quarter containing as_of, not an event",
    ("customer_lifecycle", "valid_to"): "the end of a stage spell: future-dated (open) for the current spell",
    ("dim_customers", "first_seen_at"): "identity: when any record (orders, members, touches) first showed "
                                        "the customer; the dimension lists every known customer",
    ("campaign_customer_rfm", "_built_as_of"): "bookkeeping, not an event: the as_of of the build that wrote "
                                               "the row; a campaign whose events and cuts the earlier as_of "
                                               "does not change keeps the row a later as_of wrote",
    ("campaign_assignments", "_built_as_of"): "bookkeeping, as in campaign_customer_rfm: a campaign whose "
                                              "events, segments, window purchases and windows the earlier "
                                              "as_of does not change keeps the row a later as_of wrote",
}


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory, refreshed_demo: RefreshedDemo) -> tuple[Path, dt.date]:
    root = tmp_path_factory.mktemp("no_future")
    data_dir, target = copy_data_dir(refreshed_demo, root / "data").root, root / "work" / "target"
    warehouse = data_dir / "warehouse.duckdb"
    with duckdb.connect(str(warehouse)) as con:
        first, last = con.execute(
            "select min(cast(event_time as date)), max(cast(event_time as date)) from raw.touches").fetchone()
    as_of = first + (last - first) / 2
    run_dbt(["run", *vars_arg({"as_of": as_of.isoformat()})], data_dir=data_dir, target_path=target)
    with duckdb.connect(str(warehouse)) as con:
        # what the pipeline writes after dbt, in its order: the predictive-CLV marts, then churn_risk
        refresh_clv_marts(con, ClvSettings())
        refresh_churn_risk_triggers(con, ChurnRiskSettings.from_project(project_var))
    return warehouse, as_of


def test_every_event_date_in_every_mart_is_on_or_before_as_of(built: tuple[Path, dt.date]) -> None:
    warehouse, as_of = built
    with duckdb.connect(str(warehouse), read_only=True) as con:
        assert con.execute("select as_of_date from marts.repurchase_as_of").fetchone()[0] == as_of
        # the data runs past as_of (else the test proves nothing)
        assert con.execute("select max(cast(ordered_at as date)) from marts.fct_orders").fetchone()[0] > as_of
        assert con.execute("select max(event_date) from marts.fct_touch_events").fetchone()[0] > as_of
        columns = con.execute(
            "select table_name, column_name, data_type from information_schema.columns "
            "where table_schema = 'marts' and (data_type = 'DATE' or data_type like 'TIMESTAMP%') "
            "order by table_name, column_name").fetchall()
        checked, late = [], []
        for table, column, _ in columns:
            if table in EXEMPT_TABLES or (table, column) in EXEMPT_COLUMNS:
                continue
            if column == "_built_at":  # bookkeeping: when the build that wrote the row ran, not an event
                continue
            # identifiers come from information_schema, not from input
            count, newest = con.execute(
                f'select count(*), max(cast("{column}" as date)) from marts."{table}" '
                f'where cast("{column}" as date) > ?', [as_of]).fetchone()
            checked.append((table, column))
            if count:
                late.append(f"{table}.{column}: {count} rows after {as_of}, newest {newest}")
        tables = {t for t, _ in checked}
        for expected in ("campaign_assignments", "campaign_customer_rfm", "customer_rfm", "dim_customers",
                         "repurchase_purchases", "kpi_touch_conversion_monthly", "touch_conversion_monthly",
                         "activation_triggers", "omni_channel_monthly", "omni_channel_switches"):
            assert expected in tables, expected
    assert not late, "\n".join(late)


def test_campaigns_after_as_of_are_absent(built: tuple[Path, dt.date]) -> None:
    warehouse, as_of = built
    with duckdb.connect(str(warehouse), read_only=True) as con:
        later = {r[0] for r in con.execute(
            "select campaign_id from marts.fct_touch_events group by campaign_id "
            "having min(event_date) > ?", [as_of]).fetchall()}
        assert later, "the demo should have campaigns after as_of"
        for table in ("campaign_assignments", "campaign_funnel", "ab_test_results", "touch_conversion_monthly",
                      "touch_recipient_resolution"):
            seen = {r[0] for r in con.execute(f"select distinct campaign_id from marts.{table}").fetchall()}
            assert not (seen & later), f"{table}: {sorted(seen & later)}"
