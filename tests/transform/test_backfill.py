"""Backfill of past as_of days into the history file, without touching today's marts."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import pytest

from core.paths import DATA_DIR_ENV
from tests.helpers.refreshed_demo import RefreshedDemo, copy_data_dir


def test_backfill_days_and_bad_input(tmp_path: Path) -> None:
    from transform.backfill import BackfillError, backfill_days, copy_warehouse

    assert backfill_days(dt.date(2026, 2, 27), dt.date(2026, 3, 1)) == [
        dt.date(2026, 2, 27),
        dt.date(2026, 2, 28),
        dt.date(2026, 3, 1),
    ]
    assert backfill_days(dt.date(2026, 5, 1)) == [dt.date(2026, 5, 1)]
    with pytest.raises(BackfillError, match="before --as-of"):
        backfill_days(dt.date(2026, 5, 2), dt.date(2026, 5, 1))
    with pytest.raises(BackfillError, match="at most 400 days"):
        backfill_days(dt.date(2024, 1, 1), dt.date(2025, 12, 31))
    with pytest.raises(BackfillError, match="no warehouse"):
        copy_warehouse(tmp_path / "missing.duckdb", tmp_path / "copy.duckdb")


def test_a_day_written_again_replaces_its_rows(tmp_path: Path) -> None:
    """A day's snapshot written a second time (a backfill run again) replaces that day's rows, with the
    new restated_at, and leaves the other days alone."""
    from transform.backfill import append_snapshot

    scratch, history = tmp_path / "scratch.duckdb", tmp_path / "history.duckdb"
    day1, day2 = dt.date(2026, 3, 1), dt.date(2026, 3, 2)

    def scratch_rows(rows: list[tuple[str, int]]) -> None:
        with duckdb.connect(str(scratch)) as con:
            con.execute("create schema if not exists marts")
            con.execute("create or replace table marts.customer_rfm (customer_id varchar, recency_days integer)")
            con.executemany("insert into marts.customer_rfm values (?, ?)", rows)

    def history_rows() -> list[tuple]:
        with duckdb.connect(str(history), read_only=True) as con:
            return con.execute(
                "select snapshot_as_of, customer_id, recency_days from customer_rfm order by 1, 2"
            ).fetchall()

    scratch_rows([("C1", 10), ("C2", 20)])
    assert append_snapshot(history, scratch, ["customer_rfm"], day1) == {"customer_rfm": 2}
    assert append_snapshot(history, scratch, ["customer_rfm"], day2) == {"customer_rfm": 2}
    with duckdb.connect(str(history), read_only=True) as con:
        first_stamp = con.execute("select max(restated_at) from customer_rfm").fetchone()[0]
    scratch_rows([("C1", 11)])
    assert append_snapshot(history, scratch, ["customer_rfm"], day2) == {"customer_rfm": 1}
    assert history_rows() == [(day1, "C1", 10), (day1, "C2", 20), (day2, "C1", 11)]
    with duckdb.connect(str(history), read_only=True) as con:
        stamps = con.execute(
            "select snapshot_as_of, count(distinct restated_at), min(restated_at) from customer_rfm group by 1 order by 1"
        ).fetchall()
    assert [(day, count) for day, count, _ in stamps] == [(day1, 1), (day2, 1)]
    assert stamps[1][2] >= first_stamp  # day 2 carries the second write's stamp


def _identified_buyers_until(con: duckdb.DuckDBPyConnection, day: dt.date) -> int:
    """Customers in RFM scope as of ``day``: identified, with a purchase on or before it (from fct_orders)."""
    return con.execute(
        "select count(distinct customer_id) from marts.fct_orders "
        "where is_purchase and customer_id is not null and cast(ordered_at as date) <= ?",
        [day],
    ).fetchone()[0]


@pytest.mark.e2e
def test_backfill_snapshots_past_days_and_leaves_today_alone(
    refreshed_demo: RefreshedDemo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from transform.backfill import backfill_as_of, history_path

    # A copy of the session's refreshed demo: every model built as of the latest purchase.
    data_dir = copy_data_dir(refreshed_demo, tmp_path / "data")
    monkeypatch.setenv(DATA_DIR_ENV, str(data_dir.root))

    con = duckdb.connect(str(data_dir.warehouse), read_only=True)
    try:
        latest = con.execute("select as_of_date, as_of_source from marts.repurchase_as_of").fetchone()
        today_rfm = con.execute("select count(*), sum(recency_days) from marts.customer_rfm").fetchone()
        day1 = latest[0] - dt.timedelta(days=120)
        day2 = day1 + dt.timedelta(days=1)
        expected = {day: _identified_buyers_until(con, day) for day in (day1, day2)}
    finally:
        con.close()
    assert latest[1] == "latest_purchase"

    lines: list[str] = []
    days = backfill_as_of(data_dir, day1, day2, out=lines.append)
    assert [day.as_of for day in days] == [day1, day2]
    # (A day backfilled again replaces its rows: test_a_day_written_again_replaces_its_rows.)

    history = duckdb.connect(str(history_path(data_dir)), read_only=True)
    try:
        as_of_rows = history.execute(
            "select snapshot_as_of, as_of_date, as_of_source from repurchase_as_of order by 1"
        ).fetchall()
        rfm = dict(history.execute("select snapshot_as_of, count(*) from customer_rfm group by 1").fetchall())
        tables = {row[0] for row in history.execute("show tables").fetchall()}
        restated = history.execute(
            "select snapshot_as_of, count(distinct restated_at), min(restated_at) is not null "
            "from repurchase_as_of group by 1 order by 1"
        ).fetchall()
    finally:
        history.close()
    assert as_of_rows == [(day1, day1, "var"), (day2, day2, "var")]
    assert restated == [(day1, 1, True), (day2, 1, True)]  # labelled restated, stamped when
    assert rfm == expected
    assert {"customer_rfm", "customer_lifecycle", "lifecycle_daily_counts", "member_tiers"} <= tables
    assert "customer_pii" not in tables and "fct_orders" not in tables
    assert not (data_dir.root / "backfill").exists()  # scratch copy removed

    # Today's marts are exactly as before.
    con = duckdb.connect(str(data_dir.warehouse), read_only=True)
    try:
        assert con.execute("select as_of_date, as_of_source from marts.repurchase_as_of").fetchone() == latest
        assert (
            con.execute("select count(*), sum(recency_days) from marts.customer_rfm").fetchone() == today_rfm
        )
    finally:
        con.close()
