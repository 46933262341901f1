"""reporting.summary on hand-written mart rows: who lands in which export file, and the summary."""

from __future__ import annotations

import datetime as dt
import stat
from pathlib import Path

import duckdb
import pytest

from reporting.summary import AUDIENCES, ReportingError, marts_summary, write_audience_exports

AUDIENCE_ROWS = [
    # customer_id, audience, segment, action, stage, tier, phone_hash, sms, wecom, follows
    ("u1", "important_value", "重要价值客户", "专属会员权益、定制化产品、一对一服务", "loyal", "gold", "h1",
     True, True, True),
    ("u2", "important_value", "重要价值客户", "专属会员权益、定制化产品、一对一服务", "active", "silver", "h2",
     False, True, False),
    ("u3", "general_winback", "一般挽留客户", "低价值客户，可减少触达或定向清理", "churned", "none", "h3",
     True, False, False),
    ("u4", "general_develop", "一般发展客户", "新人复购礼包、内容种草、品牌认知强化", "new", "silver", None,
     False, False, True),
]
PHONES = {"u1": "13800001111", "u2": "13900002222", "u3": "13700003333", "u4": "13600004444"}


def _warehouse(as_of: dt.date, kpi_rows: list[tuple]) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute("create schema marts")
    con.execute("create schema restricted")
    con.execute("create table marts.repurchase_as_of (as_of_date date, as_of_source varchar, "
                "latest_purchase_date date)")
    con.execute("insert into marts.repurchase_as_of values (?, 'var', ?)", [as_of, as_of])
    con.execute(
        "create table marts.activation_audience (customer_id varchar, audience varchar, segment varchar, "
        "recommended_action varchar, lifecycle_stage varchar, member_tier varchar, phone_hash varchar, "
        "sms_reachable boolean, wecom_reachable boolean, follows_official_account boolean, "
        "is_reachable boolean)"
    )
    con.executemany(
        "insert into marts.activation_audience values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ? or ? or ?)",
        [(*row, row[7], row[8], row[9]) for row in AUDIENCE_ROWS],
    )
    con.execute("create table restricted.customer_pii (customer_id varchar, phone varchar, name varchar, "
                "address varchar, email varchar)")
    con.executemany("insert into restricted.customer_pii values (?, ?, null, null, null)", list(PHONES.items()))
    con.execute(
        "create table marts.kpi_monthly (period_start date, is_complete boolean, dimension varchar, "
        "customers integer, repurchasing_customers integer, repurchase_rate decimal(10,4), "
        "repurchase_rate_within_period decimal(10,4), retention_rate_of_start_active decimal(10,4), "
        "orders integer, net_revenue decimal(18,2), active_customer_ratio decimal(10,4), "
        "is_history_complete boolean)"
    )
    con.executemany("insert into marts.kpi_monthly values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", kpi_rows)
    con.execute("create table marts.customer_rfm as select customer_id, audience as segment_code "
                "from marts.activation_audience")
    con.execute("create table marts.customer_current_stage as select customer_id, lifecycle_stage as stage "
                "from marts.activation_audience")
    con.execute("create table marts.member_tiers as select customer_id, member_tier as tier "
                "from marts.activation_audience")
    return con


# ..., retention_rate_of_start_active, orders, net_revenue, active_customer_ratio, is_history_complete
JUNE = (dt.date(2025, 6, 1), True, "overall", 4, 2, 0.5, 0.25, 0.3333, 6, 1234.5, 1.125, True)
JUNE_BY_CHANNEL = (dt.date(2025, 6, 1), True, "channel", 9, 9, 1.0, 1.0, 1.0, 9, 9.0, 1.0, True)


def _read(path: Path) -> str:
    return path.read_text(encoding="utf-8-sig")


def test_exports_phones_only_for_consented_customers_under_restricted(tmp_path: Path) -> None:
    con = _warehouse(dt.date(2025, 6, 30), [JUNE])
    paths = write_audience_exports(con, tmp_path)

    public = tmp_path / "audiences" / "2025-06-30"
    restricted = tmp_path / "restricted" / "audiences" / "2025-06-30"
    expected = {public / f"wecom_{code}.csv" for code, _ in AUDIENCES} | {
        restricted / f"sms_{code}.csv" for code, _ in AUDIENCES}
    assert set(paths) == expected and len(paths) == 16

    # u1 is reachable on both: WeCom comes first (preferred_contact_channel), so u1 is in the WeCom list only
    sms_value = _read(restricted / "sms_important_value.csv").splitlines()
    assert sms_value == [
        "phone,customer_id,segment,recommended_action,lifecycle_stage,member_tier",
    ]
    assert _read(restricted / "sms_general_winback.csv").splitlines()[1:] == [
        "13700003333,u3,一般挽留客户,低价值客户，可减少触达或定向清理,churned,none"]
    # u4 follows the official account but has neither SMS consent nor WeCom: in no list.
    assert _read(restricted / "sms_general_develop.csv").splitlines() == [
        "phone,customer_id,segment,recommended_action,lifecycle_stage,member_tier"]

    wecom_value = _read(public / "wecom_important_value.csv").splitlines()
    assert wecom_value == [
        "customer_id,phone_hash,segment,recommended_action,lifecycle_stage,member_tier",
        "u1,h1,重要价值客户,专属会员权益、定制化产品、一对一服务,loyal,gold",
        "u2,h2,重要价值客户,专属会员权益、定制化产品、一对一服务,active,silver",
    ]
    # No raw phone outside restricted/, and u2 (no SMS consent) and u4 never appear with a phone.
    for path in paths:
        text = _read(path)
        if path.parent != restricted:
            assert not any(phone in text for phone in PHONES.values()), path
        assert PHONES["u2"] not in text and PHONES["u4"] not in text, path
    for path in restricted.iterdir():
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE((tmp_path / "restricted").stat().st_mode) == 0o700


def test_exports_rerun_overwrites_in_place(tmp_path: Path) -> None:
    con = _warehouse(dt.date(2025, 6, 30), [JUNE])
    first = {path: _read(path) for path in write_audience_exports(con, tmp_path)}
    con.execute("update marts.activation_audience set wecom_reachable = false where customer_id = 'u2'")
    second = {path: _read(path) for path in write_audience_exports(con, tmp_path)}
    assert set(first) == set(second)
    changed = [path.name for path in first if first[path] != second[path]]
    assert changed == ["wecom_important_value.csv"]
    leftovers = [p for p in tmp_path.rglob("*") if p.is_file() and p.suffix != ".csv"]
    assert leftovers == []


def test_exports_name_the_missing_table(tmp_path: Path) -> None:
    con = _warehouse(dt.date(2025, 6, 30), [JUNE])
    con.execute("drop table restricted.customer_pii")
    with pytest.raises(ReportingError, match=r"restricted\.customer_pii"):
        write_audience_exports(con, tmp_path)


def test_summary_complete_month() -> None:
    con = _warehouse(dt.date(2025, 6, 30), [JUNE, JUNE_BY_CHANNEL])
    text = marts_summary(con)
    assert text.splitlines() == [
        "Repurchase marts as of 2025-06-30 (the as_of var)",
        ("  Month 2025-06: repurchase rate 50.0% (2 of 4 purchasing customers had bought before); "
        "2+ purchases within the month 25.0%; retention of start-active customers 33.3%, active "
        "customers end/start 1.12; 6 orders, net revenue 1,234.50"),
        ("  RFM segments (4 customers with a purchase): 重要价值客户 2, 重要发展客户 0, 重要保持客户 0, "
        "重要挽留客户 0, 一般价值客户 0, 一般发展客户 1, 一般保持客户 0, 一般挽留客户 1"),
        "  Lifecycle stages: new 1, loyal 1, active 1, silent 0, churned 1",
        "  Member tiers: diamond 0, gold 1, silver 2, none 1",
        "  Reachable: 4 of 4 (SMS with consent 2, WeCom 2, official account 2)",
    ]


def test_summary_partial_month_adds_latest_complete_month() -> None:
    july = (dt.date(2025, 7, 1), False, "overall", 1, 0, 0.0, 0.0, None, 1, 20.0, None, True)
    con = _warehouse(dt.date(2025, 7, 2), [JUNE, july])
    lines = marts_summary(con).splitlines()
    assert lines[1] == (
        "  Month to date 2025-07: repurchase rate 0.0% (0 of 1 purchasing customers had bought before); "
        "2+ purchases within the month 0.0%; retention of start-active customers n/a, active customers "
        "end/start n/a; 1 orders, net revenue 20.00")
    assert lines[2].startswith("  Latest complete month 2025-06: repurchase rate 50.0% (2 of 4")


def test_summary_marts_a_month_whose_history_is_incomplete() -> None:
    # The first months of the data: kpi_monthly.is_history_complete false -> the line says so.
    early = (dt.date(2025, 6, 1), True, "overall", 4, 1, 0.25, 0.0, None, 4, 100.0, None, False)
    con = _warehouse(dt.date(2025, 6, 30), [early])
    assert marts_summary(con).splitlines()[1] == (
        "  Month 2025-06: repurchase rate 25.0% (1 of 4 purchasing customers had bought before); "
        "2+ purchases within the month 0.0%; retention of start-active customers n/a, active customers "
        "end/start n/a; 4 orders, net revenue 100.00 "
        "[history incomplete: purchases before the data are unseen, rates read low]")
