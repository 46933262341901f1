"""What a run reported is kept as reported: the as_of period's KPI rows, one file per grain and as_of."""

from __future__ import annotations

import datetime as dt

import duckdb

from reporting.history import append_reported_kpis, reported_path


def _marts(con: duckdb.DuckDBPyConnection, as_of: str, october_customers: int) -> None:
    con.execute("create schema if not exists marts")
    con.execute(f"create or replace table marts.repurchase_as_of as select date '{as_of}' as as_of_date")
    con.execute(
        "create or replace table marts.kpi_monthly (period_start date, period_end date, dimension varchar, "
        "dimension_value varchar, customers integer)"
    )
    con.execute(
        "insert into marts.kpi_monthly values "
        "('2026-09-01', '2026-09-30', 'overall', 'all', 400), "
        f"('2026-10-01', '2026-10-31', 'overall', 'all', {october_customers}), "
        "('2026-10-01', '2026-10-31', 'channel', 'pos', 250)"
    )
    con.execute(
        "create or replace table marts.kpi_quarterly as select date '2026-10-01' as period_start, "
        "date '2026-12-31' as period_end, 'overall' as dimension, 'all' as dimension_value, 900 as customers "
        "union all select date '2026-07-01', date '2026-09-30', 'overall', 'all', 1000"
    )


def test_the_as_of_period_is_kept_and_a_rerun_replaces_only_its_day(tmp_path) -> None:
    con = duckdb.connect()
    _marts(con, "2026-10-15", 406)
    assert append_reported_kpis(con, tmp_path, "run-1") == {"kpi_monthly": 2, "kpi_quarterly": 1}
    _marts(con, "2026-10-15", 405)  # the same day run again: its report replaces the first
    append_reported_kpis(con, tmp_path, "run-2")
    _marts(con, "2026-10-16", 407)  # the next day: a new file, the earlier day untouched
    append_reported_kpis(con, tmp_path, "run-3")

    monthly = con.execute(
        "select as_of_date, run_id, dimension_value, customers from read_parquet(?, hive_partitioning = false) "
        "order by 1, 3",
        [str(tmp_path / "history/reported/kpi_monthly/*/*.parquet")],
    ).fetchall()
    assert monthly == [
        (dt.date(2026, 10, 15), "run-2", "all", 405),
        (dt.date(2026, 10, 15), "run-2", "pos", 250),
        (dt.date(2026, 10, 16), "run-3", "all", 407),
        (dt.date(2026, 10, 16), "run-3", "pos", 250),
    ]
    quarterly = duckdb.sql(
        f"select customers from read_parquet('{reported_path(tmp_path, 'kpi_quarterly', dt.date(2026, 10, 16))}')"
    ).fetchall()
    assert quarterly == [(900,)]
    assert not list(tmp_path.rglob(".*tmp"))
