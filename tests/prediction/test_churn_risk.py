"""The churn_risk trigger on tiny hand-made tables; every expected value worked out by hand below."""

from __future__ import annotations

import csv
import datetime as dt

import duckdb
import pytest

from prediction.churn_risk import CHURN_RISK_TABLE, ChurnRiskSettings, refresh_churn_risk_triggers
from reporting.trigger_exports import trigger_summary_lines, write_trigger_exports
from transform.dbt import project_var

AS_OF = dt.date(2026, 6, 30)
SETTINGS = ChurnRiskSettings(
    max_p_alive=0.3,
    top_clv_share=0.2,  # 10 customers: clv_rank 1 and 2 are valuable
    channel_preference=("wecom", "sms", "email"),
    cap_days=7,
    cap_touches=2,
    failure_suppress_days=30,
    priority=8,
)

# customer, p_alive, clv_rank, segment_code, wecom friend, sms (phone + consent), email
CUSTOMERS = [
    ("c01", 0.20, 5, "important_value", True, False, False),  # fires, wecom
    ("c02", 0.30, 6, "important_value", True, False, False),  # at the threshold: no
    ("c03", 0.10, 7, "important_value", True, False, False),  # fired another trigger today: no
    ("c04", 0.10, 1, "general_develop", False, True, False),  # valuable by rank; cap used up by send log
    ("c05", 0.10, 3, "general_develop", True, False, False),  # rank 3 not in the top 20 %: no
    ("c06", 0.05, 8, "important_retain", False, False, True),  # one touch in the window: sent by email
    ("c07", 0.10, 9, "important_winback", False, False, True),  # email unsubscribed: suppressed
    ("c08", 0.29, 2, "general_value", False, False, False),  # valuable by rank, unreachable
    ("c09", 0.90, 4, "important_value", True, False, False),
    ("c10", 0.95, 10, "general_retain", True, False, False),
]


@pytest.fixture
def con():
    con = duckdb.connect()
    for schema in ("marts", "intermediate", "raw"):
        con.execute(f"create schema {schema}")
    con.execute("create table marts.repurchase_as_of as select ?::date as as_of_date", [AS_OF])
    con.execute(
        "create table marts.customer_clv_predicted (customer_id varchar, p_alive double, clv_rank integer)"
    )
    con.execute(
        "create table marts.customer_rfm (customer_id varchar, segment varchar, segment_code varchar, "
        "lifecycle_stage varchar, recommended_action varchar)"
    )
    con.execute(
        "create table marts.dim_customers (customer_id varchar, wecom_friend boolean, phone_hash varchar, "
        "sms_consent boolean, points integer)"
    )
    con.execute(
        "create table intermediate.int_customer_identifiers (customer_id varchar, identifier_type varchar)"
    )
    for cid, p_alive, rank, code, wecom, sms, email in CUSTOMERS:
        con.execute("insert into marts.customer_clv_predicted values (?, ?, ?)", [cid, p_alive, rank])
        con.execute("insert into marts.customer_rfm values (?, ?, ?, 'silent', '唤醒')", [cid, "客户", code])
        con.execute(
            "insert into marts.dim_customers values (?, ?, ?, ?, 100)",
            [cid, wecom, f"h{cid}" if sms else None, sms],
        )
        if email:
            con.execute("insert into intermediate.int_customer_identifiers values (?, 'email')", [cid])
    con.execute(
        "create table marts.activation_triggers as select 'c03' as customer_id, 'birthday' as trigger_code"
    )
    con.execute(
        "create table marts.fct_touch_events (customer_id varchar, channel varchar, event_type varchar, "
        "event_date date, is_control boolean)"
    )
    con.execute(
        "insert into marts.fct_touch_events values ('c07', 'email', 'unsubscribed', '2026-01-05', false)"
    )
    con.execute(
        "create table marts.campaign_assignments (customer_id varchar, is_control boolean, "
        "first_touch_at timestamp, window_end_at timestamp)"
    )
    con.execute(
        "create table raw._touch_send_log (as_of_date date, customer_id varchar, trigger_code varchar, "
        "channel varchar, exported_at timestamp)"
    )
    con.execute("""
        insert into raw._touch_send_log values
            ('2026-06-25', 'c04', 'repurchase_reminder', 'sms', now()),
            ('2026-06-29', 'c04', 'birthday', 'sms', now()),
            ('2026-06-29', 'c06', 'birthday', 'email', now()),
            ('2026-06-23', 'c06', 'birthday', 'email', now())  -- 7 days before as_of: outside the window
    """)
    yield con
    con.close()


def _outcomes(con) -> dict[str, tuple[str | None, str | None, int]]:
    refresh_churn_risk_triggers(con, SETTINGS)
    rows = con.execute(
        f"select customer_id, channel, suppressed_reason, prior_touches_in_cap_window from marts.{CHURN_RISK_TABLE}"
    ).fetchall()
    return {customer: tuple(rest) for customer, *rest in rows}


def test_fires_below_threshold_among_valuable_only(con):
    outcomes = _outcomes(con)
    # c02 at the threshold, c09 / c10 above it, c05 not valuable, c03 fired another trigger today
    assert set(outcomes) == {"c01", "c04", "c06", "c07", "c08"}


def test_channel_suppression_and_cap(con):
    assert _outcomes(con) == {
        "c01": ("wecom", None, 0),
        "c04": (None, "frequency_cap", 2),  # 06-25 and 06-29 are within the 7 days ending 06-30
        "c06": ("email", None, 1),  # 06-23 is not: one touch, under the cap of 2
        "c07": (None, "unsubscribed", 0),
        "c08": (None, "unreachable", 0),
    }


def test_campaign_sends_count_and_control_group(con):
    con.execute("insert into marts.fct_touch_events values ('c06', 'sms', 'sent', '2026-06-28', false)")
    con.execute("insert into marts.campaign_assignments values ('c01', true, '2026-06-28', '2026-07-05')")
    outcomes = _outcomes(con)
    assert outcomes["c06"] == (None, "frequency_cap", 2)
    assert outcomes["c01"] == (None, "control_group", 0)


def test_table_has_the_mart_columns(con):
    refresh_churn_risk_triggers(con, SETTINGS)
    row = con.execute(
        f"select trigger_code, trigger_priority, as_of_date, is_sent from marts.{CHURN_RISK_TABLE} "
        "where customer_id = 'c01'"
    ).fetchone()
    assert row == ("churn_risk", 8, AS_OF, True)


def test_settings_from_project_vars():
    settings = ChurnRiskSettings.from_project(project_var)
    assert settings.max_p_alive == 0.3
    assert settings.priority == 8


def test_trigger_exports_send_churn_risk_with_the_dbt_triggers(con, tmp_path):
    refresh_churn_risk_triggers(con, SETTINGS)
    # a dbt trigger of today, in the mart's columns (c03 fired birthday, sent by wecom)
    con.execute("drop table marts.activation_triggers")
    con.execute(f"""
        create table marts.activation_triggers as
        select * replace ('c03' as customer_id, 'birthday' as trigger_code, 7 as trigger_priority,
            'wecom' as channel)
        from marts.{CHURN_RISK_TABLE} where customer_id = 'c01'
    """)
    con.execute("create schema restricted")
    con.execute(
        "create table restricted.customer_pii as select customer_id, '138' || customer_id as phone, "
        "customer_id || '@x.cn' as email, '张' || customer_id as name from marts.dim_customers"
    )
    written = write_trigger_exports(con, tmp_path, now=dt.datetime(2026, 6, 30, 8))
    rows = {
        path.name: [
            (row["客户ID"], row["触发规则"]) for row in csv.DictReader(path.open(encoding="utf-8-sig"))
        ]
        for path in written
    }
    assert rows == {
        "sms_triggers.csv": [],
        "wecom_triggers.csv": [("c03", "birthday"), ("c01", "churn_risk")],
        "email_triggers.csv": [("c06", "churn_risk")],
    }
    log = con.execute(
        "select customer_id, trigger_code, channel from raw._touch_send_log where as_of_date = ? order by 1",
        [AS_OF],
    ).fetchall()
    assert log == [
        ("c01", "churn_risk", "wecom"),
        ("c03", "birthday", "wecom"),
        ("c06", "churn_risk", "email"),
    ]
    assert trigger_summary_lines(con) == [
        "  birthday: 1 fired, 1 sent",
        "  churn_risk: 5 fired, 2 sent; suppressed: frequency_cap 1, unreachable 1, unsubscribed 1",
    ]


def test_exports_leave_out_churn_risk_rows_of_another_as_of(con, tmp_path):
    """A dbt rerun for another day without the CLV step leaves yesterday's churn_risk rows: not sent."""
    refresh_churn_risk_triggers(con, SETTINGS)
    con.execute("drop table marts.activation_triggers")
    con.execute(
        f"create table marts.activation_triggers as select * from marts.{CHURN_RISK_TABLE} where false"
    )
    con.execute("create or replace table marts.repurchase_as_of as select date '2026-07-01' as as_of_date")
    con.execute("create schema restricted")
    con.execute(
        "create table restricted.customer_pii (customer_id varchar, phone varchar, email varchar, name varchar)"
    )
    write_trigger_exports(con, tmp_path)
    assert con.execute(
        "select count(*) from raw._touch_send_log where as_of_date > '2026-06-29'"
    ).fetchone() == (0,)
    assert trigger_summary_lines(con) == []
