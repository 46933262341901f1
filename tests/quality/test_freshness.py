"""Freshness judged on when a source's files arrived (``quality.raw_frames``), on hand-made ``raw._files``
rows and raw rows in an in-memory warehouse, against a fixed "now". Every expected age is computed by hand
in the comments."""

from __future__ import annotations

import datetime as dt

import duckdb
import pytest

from core.sources import Freshness, get_source
from ingestion.schemas import create_raw_tables
from quality.raw_frames import (
    DATED_BY_LOADED_AT,
    DATED_BY_NAME,
    ERROR,
    FRESH,
    NO_FILE,
    WARN,
    export_time_from_name,
    file_arrival,
    judge_freshness,
    newest_arrival,
    newest_event_time,
)

NOW = dt.datetime(2026, 12, 1, 12, 0)  # UTC


@pytest.fixture
def con() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    create_raw_tables(con)
    yield con
    con.close()


def _file(con, source: str, name: str, loaded_at: dt.datetime, status: str = "loaded") -> None:
    con.execute(
        "insert into raw._files (source, file_name, sha256, rows_in, rows_loaded, rows_quarantined, status, "
        "message, loaded_at) values (?, ?, ?, 1, 1, 0, ?, '', ?)",
        [source, name, f"sha-{name}", status, loaded_at],
    )


def _verdict(con, source: str, policy: Freshness | None = None):
    return judge_freshness(source, policy or get_source(source).freshness, newest_arrival(con, source), NOW)


# ------------------------------------------------------------------------------- dating one file
def test_a_14_digit_time_in_the_name_is_the_export_time_in_beijing_time() -> None:
    # 2026-10-31 12:34:56 Beijing = 04:34:56 UTC
    assert export_time_from_name("tmall/ExportOrderList20261031123456.csv") == dt.datetime(
        2026, 10, 31, 4, 34, 56
    )
    assert export_time_from_name("pos/销售明细_20260101000000_门店1.xlsx") == dt.datetime(2025, 12, 31, 16, 0)


@pytest.mark.parametrize(
    "name",
    [
        "pos/pos_sales_2026-10.csv",  # a month, no time
        "tmall/9900000000000000001.csv",  # a 19-digit order number, not 14 digits
        "jd/jd_20261399000000.csv",  # month 13: not a time
        "jd/jd_13800138000123.csv",  # a phone-like number read as year 1380
        "tmall/20261031123456/orders.csv",  # the folder's digits are not the file's export time
    ],
)
def test_names_without_a_real_14_digit_time_have_none(name: str) -> None:
    assert export_time_from_name(name) is None


def test_a_file_is_dated_by_its_name_else_by_loaded_at() -> None:
    loaded = dt.datetime(2026, 11, 1, 2, 0)
    named = file_arrival("tmall/ExportOrderList20261031123456.csv", loaded)
    assert (named.arrived_at, named.dated_by, named.note) == (
        dt.datetime(2026, 10, 31, 4, 34, 56),
        DATED_BY_NAME,
        None,
    )
    plain = file_arrival("tmall/tmall_2026-10.csv", loaded)
    assert (plain.arrived_at, plain.dated_by) == (loaded, DATED_BY_LOADED_AT)
    # A time after the file arrived is no export time: loaded_at dates it, and the note says why.
    future = file_arrival("tmall/orders_20991231235959.csv", loaded)
    assert (future.arrived_at, future.dated_by) == (loaded, DATED_BY_LOADED_AT)
    assert future.note == "the time in its name (2099-12-31 15:59 UTC) is after it was loaded: not used"
    # 2026-11-01 10:30 Beijing = 02:30 UTC, 30 minutes after loaded_at: within the clock skew allowed.
    skewed = file_arrival("tmall/orders_20261101103000.csv", loaded)
    assert (skewed.arrived_at, skewed.dated_by) == (dt.datetime(2026, 11, 1, 2, 30), DATED_BY_NAME)


# --------------------------------------------------------------------------------- verdicts
def test_member_export_with_year_old_registrations_that_arrived_today_is_fresh(con) -> None:
    con.execute(
        "insert into raw.wechat_members (openid, registered_at, _file_sha256, _file_name, _row_number, "
        "_loaded_at) "
        "values ('oA1', '2025-11-30 10:00:00', 'm', 'wechat_members/members.csv', 2, '2026-12-01 08:00:00')"
    )
    _file(con, "wechat_members", "wechat_members/members.csv", dt.datetime(2026, 12, 1, 8, 0))
    verdict = _verdict(con, "wechat_members")
    assert verdict.verdict == FRESH and verdict.message is None
    assert verdict.age_days == pytest.approx(4 / 24)  # 08:00 → 12:00
    # The year-old registration is shown, never judged.
    assert newest_event_time(con, "wechat_members") == dt.datetime(2025, 11, 30, 10, 0)


def test_a_file_40_days_old_blocks_naming_the_file_and_the_remedy(con) -> None:
    _file(con, "tmall", "tmall/tmall_2026-10.csv", dt.datetime(2026, 10, 22, 12, 0))  # 40 days before NOW
    verdict = _verdict(con, "tmall")  # tmall: error after 35 days
    assert (verdict.verdict, verdict.age_days) == (ERROR, 40.0)
    assert verdict.message == (
        "tmall: no new file for 40.0 days: the newest, tmall/tmall_2026-10.csv, arrived 2026-10-22 12:00 UTC "
        "(dated by loaded_at (when the loader first saw it)), more than error_after_days = 35 "
        "(core/sources.py): the marts would go on as if nothing had been sold since. Remedy: drop a fresh "
        "tmall export into landing/tmall/, then run `repurchase run`"
    )


def test_three_days_only_warns() -> None:
    policy = Freshness(warn_after_days=2, error_after_days=35)
    arrival = file_arrival("pos/pos_2026-11-28.csv", dt.datetime(2026, 11, 28, 12, 0))  # 3 days before NOW
    verdict = judge_freshness("pos", policy, arrival, NOW)
    assert (verdict.verdict, verdict.age_days) == (WARN, 3.0)
    assert "more than warn_after_days = 2" in verdict.message
    assert "a warning only; it blocks after 35 days" in verdict.message


def test_registry_order_feeds_survive_a_weekend_and_warn_after_three_days(con) -> None:
    # Friday 2026-11-27 18:00 → the Monday 09:00 run, 2026-11-30 09:00: 2 days 15 hours = 2.625 days.
    monday = dt.datetime(2026, 11, 30, 9, 0)
    friday = file_arrival("pos/pos_2026-11-27.csv", dt.datetime(2026, 11, 27, 18, 0))
    assert judge_freshness("pos", get_source("pos").freshness, friday, monday).verdict == FRESH
    # Tuesday 09:00 without a new file: 3.625 days > 3.
    tuesday = monday + dt.timedelta(days=1)
    assert judge_freshness("pos", get_source("pos").freshness, friday, tuesday).verdict == WARN


def test_a_feed_without_error_threshold_never_blocks() -> None:
    arrival = file_arrival("touches/touches_C1.csv", dt.datetime(2025, 12, 1, 12, 0))  # 365 days before NOW
    verdict = judge_freshness("touches", get_source("touches").freshness, arrival, NOW)  # warn 30, no error
    assert (verdict.verdict, verdict.age_days) == (WARN, 365.0)
    assert "a warning only: this feed never blocks" in verdict.message


def test_a_far_future_row_in_pos_changes_nothing_for_tmall(con) -> None:
    _file(con, "tmall", "tmall/tmall_2026-11-30.csv", dt.datetime(2026, 11, 30, 12, 0))  # 1 day before NOW
    before = _verdict(con, "tmall")
    con.execute(
        "insert into raw.pos (receipt_no, receipt_type, store_code, sold_at, sku_code, quantity, "
        "paid_amount, _file_sha256, _file_name, _row_number, _loaded_at) values ('R9', '销售', 'S1', "
        "'2099-01-01 10:00:00', 'K1', 1, 10, 'p', 'pos/pos_2099.csv', 2, '2026-12-01 11:00:00')"
    )
    _file(con, "pos", "pos/pos_2099.csv", dt.datetime(2026, 12, 1, 11, 0))
    after = _verdict(con, "tmall")
    assert after == before and (after.verdict, after.age_days) == (FRESH, 1.0)
    assert newest_event_time(con, "pos") == dt.datetime(2099, 1, 1, 10, 0)  # shown for pos, judged nowhere


def test_the_time_in_the_file_name_is_used(con) -> None:
    # Exported 2026-10-20 12:00 Beijing = 04:00 UTC, dropped and loaded only this morning: 42 days 8 hours
    # old.
    _file(con, "tmall", "tmall/ExportOrderList20261020120000.csv", dt.datetime(2026, 12, 1, 11, 0))
    verdict = _verdict(con, "tmall")
    assert verdict.arrival.dated_by == DATED_BY_NAME
    assert verdict.arrival.arrived_at == dt.datetime(2026, 10, 20, 4, 0)
    assert (verdict.verdict, round(verdict.age_days, 3)) == (ERROR, 42.333)


def test_only_loaded_files_count_and_the_newest_wins(con) -> None:
    _file(con, "jd", "jd/jd_2026-10.csv", dt.datetime(2026, 10, 22, 12, 0))  # 40 days
    _file(con, "jd", "jd/jd_2026-11.csv", dt.datetime(2026, 11, 26, 12, 0))  # 5 days
    _file(con, "jd", "jd/jd_broken.csv", dt.datetime(2026, 12, 1, 11, 0), status="rejected")
    _file(con, "jd", "jd/jd_aside.csv", dt.datetime(2026, 12, 1, 11, 0), status="set_aside")
    verdict = _verdict(con, "jd")
    assert (verdict.arrival.file_name, verdict.age_days, verdict.verdict) == ("jd/jd_2026-11.csv", 5.0, WARN)


def test_a_source_without_a_loaded_file_is_not_judged(con) -> None:
    verdict = _verdict(con, "jd")
    assert (verdict.verdict, verdict.arrival, verdict.age_days, verdict.message) == (
        NO_FILE,
        None,
        None,
        None,
    )
