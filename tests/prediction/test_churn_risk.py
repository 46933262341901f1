"""The churn_risk trigger on tiny hand-made tables; every expected value worked out by hand below.

churn_risk reads its channel, suppression and cap from ``intermediate.int_touch_eligibility``, the dbt
model that holds the send rules for activation_triggers too. The tests build that table from the hand-made
inputs with the model's own SQL (``dbt compile`` once per module, run on the test's warehouse), so the
outcomes below are those of the real rules; the last test runs activation_triggers' compiled SQL as well
and checks that both consumers decide the same for the same customer situation.
"""

from __future__ import annotations

import csv
import datetime as dt

import duckdb
import pytest

from prediction.churn_risk import CHURN_RISK_TABLE, ChurnRiskSettings, refresh_churn_risk_triggers
from reporting.trigger_exports import trigger_summary_lines, write_trigger_exports
from transform.dbt import project_var, run_dbt

# dbt compile (a parse): slow-ish, not in `pytest -m "not e2e"`
pytestmark = pytest.mark.e2e

AS_OF = dt.date(2026, 6, 30)
SETTINGS = ChurnRiskSettings(
    max_p_alive=0.3,
    top_clv_share=0.2,  # 10 customers: clv_rank 1 and 2 are valuable
    priority=8,
)
# The send rules' vars the expected values below assume (int_touch_eligibility is compiled with the
# project's vars): preference wecom > sms > email, 2 touches in 7 days, failures suppress for 30 days.
SEND_RULE_VARS = {
    "touch_channel_preference": ["wecom", "sms", "email"],
    "touch_cap_days": 7,
    "touch_cap_touches": 2,
    "touch_delivery_failure_suppress_days": 30,
}

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


@pytest.fixture(scope="module")
def compiled(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """The compiled SQL of int_touch_eligibility and activation_triggers (relations "warehouse"."<schema>"...)."""
    assert {name: project_var(name) for name in SEND_RULE_VARS} == SEND_RULE_VARS
    root = tmp_path_factory.mktemp("churn_risk_dbt")
    (root / "data").mkdir()
    target = root / "target"
    run_dbt(["compile", "--select", "int_touch_eligibility", "activation_triggers"],
            data_dir=root / "data", target_path=target)  # fmt: skip
    models = target / "compiled" / "repurchase" / "models"
    return {
        "int_touch_eligibility": (models / "intermediate/activation/int_touch_eligibility.sql").read_text(),
        "activation_triggers": (models / "marts/activation/activation_triggers.sql").read_text(),
    }


def _build(con, compiled: dict[str, str], model: str, schema: str) -> None:
    con.execute(f"create or replace table {schema}.{model} as {compiled[model]}")


@pytest.fixture
def con(tmp_path):
    # a file named warehouse.duckdb: the database name the compiled SQL qualifies its relations with
    (tmp_path / "db").mkdir()
    con = duckdb.connect(str(tmp_path / "db" / "warehouse.duckdb"))
    for schema in ("marts", "intermediate", "raw", "staging"):
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
        "create table intermediate.int_activation_triggers_fired as select 'c03' as customer_id, "
        "?::date as as_of_date, 'birthday' as trigger_code, 'birthday today' as fired_reason",
        [AS_OF],
    )
    # the purchases customer_clv_predicted was fitted on (int_touch_eligibility's population)
    con.execute(
        "create table marts.repurchase_purchases as select customer_id, 'o' || customer_id as order_key, "
        "'pos' as channel, 's1' as shop_id, timestamp '2026-03-01 10:00:00' as ordered_at, "
        "date '2026-03-01' as purchase_date from marts.customer_clv_predicted"
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
    con.execute("create view staging.stg_raw__touch_send_log as select * from raw._touch_send_log")
    yield con
    con.close()


def _refresh(con, compiled: dict[str, str]):
    """What the pipeline runs: dbt's int_touch_eligibility, then the churn_risk step."""
    _build(con, compiled, "int_touch_eligibility", "intermediate")
    return refresh_churn_risk_triggers(con, SETTINGS)


def _outcomes(con, compiled) -> dict[str, tuple[str | None, str | None, int]]:
    _refresh(con, compiled)
    rows = con.execute(
        f"select customer_id, channel, suppressed_reason, prior_touches_in_cap_window from marts.{CHURN_RISK_TABLE}"
    ).fetchall()
    return {customer: tuple(rest) for customer, *rest in rows}


def test_fires_below_threshold_among_valuable_only(con, compiled):
    outcomes = _outcomes(con, compiled)
    # c02 at the threshold, c09 / c10 above it, c05 not valuable, c03 fired another trigger today
    assert set(outcomes) == {"c01", "c04", "c06", "c07", "c08"}


def test_channel_suppression_and_cap(con, compiled):
    assert _outcomes(con, compiled) == {
        "c01": ("wecom", None, 0),
        "c04": (None, "frequency_cap", 2),  # 06-25 and 06-29 are within the 7 days ending 06-30
        "c06": ("email", None, 1),  # 06-23 is not: one touch, under the cap of 2
        "c07": (None, "unsubscribed", 0),
        "c08": (None, "unreachable", 0),
    }


def test_campaign_sends_count_and_control_group(con, compiled):
    con.execute("insert into marts.fct_touch_events values ('c06', 'sms', 'sent', '2026-06-28', false)")
    con.execute("insert into marts.campaign_assignments values ('c01', true, '2026-06-28', '2026-07-05')")
    outcomes = _outcomes(con, compiled)
    assert outcomes["c06"] == (None, "frequency_cap", 2)
    assert outcomes["c01"] == (None, "control_group", 0)


def test_a_fired_customer_without_send_rules_stops_the_step(con, compiled):
    """int_touch_eligibility built from other data than the CLV (c01 missing): a clear error, not a
    silently shorter list."""
    _build(con, compiled, "int_touch_eligibility", "intermediate")
    con.execute("delete from intermediate.int_touch_eligibility where customer_id = 'c01'")
    with pytest.raises(duckdb.Error, match="customer c01 fired but has no row in intermediate.int_touch_eligibility"):
        refresh_churn_risk_triggers(con, SETTINGS)


def test_table_has_the_mart_columns(con, compiled):
    _refresh(con, compiled)
    row = con.execute(
        f"select trigger_code, trigger_priority, as_of_date, is_sent from marts.{CHURN_RISK_TABLE} "
        "where customer_id = 'c01'"
    ).fetchone()
    assert row == ("churn_risk", 8, AS_OF, True)


def test_settings_from_project_vars():
    settings = ChurnRiskSettings.from_project(project_var)
    assert settings.max_p_alive == 0.3
    assert settings.priority == 8


def test_trigger_exports_send_churn_risk_with_the_dbt_triggers(con, compiled, tmp_path):
    _refresh(con, compiled)
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


def test_exports_leave_out_churn_risk_rows_of_another_as_of(con, compiled, tmp_path):
    """A dbt rerun for another day without the CLV step leaves yesterday's churn_risk rows: not sent."""
    _refresh(con, compiled)
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


# One customer situation each (wecom friend, sms (phone + consent), email, touch events, send log days,
# open holdout), given twice: to t_<name>, who fires birthday in dbt (one trigger: its touch is the day's
# first, as churn_risk's always is), and to k_<name>, a churn_risk candidate. Hand-computed outcome
# (channel, suppressed_reason, prior touches in the cap window), the same for both.
SITUATIONS = {
    "wecom": ((True, True, True, [], [], False), ("wecom", None, 0)),
    "fallback": ((True, True, False, [("wecom", "bounced", "2026-06-20")], [], False), ("sms", None, 0)),
    "complained": (
        (False, True, False, [("sms", "complained", "2025-01-01")], [], False),
        (None, "complained", 0),
    ),
    "holdout": ((False, False, True, [], [], True), (None, "control_group", 0)),
    "unreachable": ((False, False, False, [], [], False), (None, "unreachable", 0)),
    "capped": (
        (False, True, False, [("sms", "sent", "2026-06-27")], ["2026-06-26"], False),
        (None, "frequency_cap", 2),
    ),
    "one_left": ((False, False, True, [], ["2026-06-29", "2026-06-23"], False), ("email", None, 1)),
}


def test_activation_triggers_and_churn_risk_decide_alike(con, compiled):
    for name, ((wecom, sms, email, events, sends, holdout), _) in SITUATIONS.items():
        for customer in (f"t_{name}", f"k_{name}"):
            con.execute(
                "insert into marts.dim_customers values (?, ?, ?, ?, 100)",
                [customer, wecom, f"h{customer}" if sms else None, sms],
            )
            if email:
                con.execute(
                    "insert into intermediate.int_customer_identifiers values (?, 'email')", [customer]
                )
            for channel, event_type, day in events:
                con.execute(
                    "insert into marts.fct_touch_events values (?, ?, ?, ?, false)",
                    [customer, channel, event_type, day],
                )
            for day in sends:
                con.execute(
                    "insert into raw._touch_send_log values (?, ?, 'birthday', 'sms', now())", [day, customer]
                )
            if holdout:
                con.execute(
                    "insert into marts.campaign_assignments values (?, true, '2026-06-28', '2026-07-05')",
                    [customer],
                )
        con.execute("insert into intermediate.int_activation_triggers_fired values (?, ?, 'birthday', 'r')",
                    [f"t_{name}", AS_OF])  # fmt: skip
        con.execute("insert into marts.customer_clv_predicted values (?, 0.1, 99)", [f"k_{name}"])
        con.execute(
            "insert into marts.customer_rfm values (?, '客户', 'important_value', 'silent', '唤醒')",
            [f"k_{name}"],
        )
        con.execute("insert into marts.repurchase_purchases select ?, 'o', 'pos', 's1', now(), date '2026-03-01'",
                    [f"k_{name}"])  # fmt: skip
    # activation_triggers' other inputs, empty
    con.execute("create table marts.member_tiers (customer_id varchar, tier varchar)")
    con.execute(
        "create table marts.fct_order_lines (order_key varchar, sku_name varchar, line_amount double, is_return boolean)"
    )
    _build(con, compiled, "int_touch_eligibility", "intermediate")
    con.execute("drop table marts.activation_triggers")
    _build(con, compiled, "activation_triggers", "marts")
    refresh_churn_risk_triggers(con, SETTINGS)

    def decided(table: str, prefix: str) -> dict[str, tuple]:
        rows = con.execute(
            f"select customer_id, channel, suppressed_reason, prior_touches_in_cap_window from marts.{table} "
            "where starts_with(customer_id, ?)",
            [f"{prefix}_"],
        ).fetchall()
        return {customer.removeprefix(prefix + "_"): tuple(rest) for customer, *rest in rows}

    expected = {name: outcome for name, (_, outcome) in SITUATIONS.items()}
    assert decided("activation_triggers", "t") == expected
    assert decided(CHURN_RISK_TABLE, "k") == expected
