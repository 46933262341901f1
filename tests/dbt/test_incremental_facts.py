"""fct_orders / fct_order_lines / fct_touch_events, int_touch_events_resolved (the touch events with
their customer, under fct_touch_events) and int_record_identity_changes (each record's identity outcome
with the build that last changed it, which fct_orders and the touch events read) are incremental: a run
after new export files (one POS month, one campaign's touch log) writes only the rows that are new or
changed, and the tables then equal a full rebuild. An order can also vanish: a stand-alone POS return
loaded on the first run becomes part of its sale when the sale arrives on the second, and the run deletes
its order from fct_orders (delete_vanished_keys).

What a run wrote is measured from DuckDB itself: rows keep their ``rowid`` unless rewritten, and rows
(re)inserted get rowids above the table's previous maximum. The expected set is computed here from the
tables before and after (new keys plus rows whose content changed), independently of the model code.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from core.paths import DataPaths
from core.secrets import HASH_KEY_ENV
from demo.generator import generate
from tests.helpers.incremental_runs import dbt_run, dbt_test, load_raw, write_pos

pytestmark = pytest.mark.e2e

PEOPLE = 200
SEED = 42
FACTS = {"marts.fct_orders": "order_key", "marts.fct_order_lines": "order_line_key",
         "marts.fct_touch_events": "event_key", "intermediate.int_touch_events_resolved": "event_key",
         "intermediate.int_record_identity_changes": "record_key"}  # fmt: skip
SELECT = ("--select", "+fct_order_lines", "+fct_touch_events")
HELD_BACK_CAMPAIGN = "touches_CMP2026EMAIL03.csv"  # the smallest campaign log of the demo
RESENT_CAMPAIGN = "touches_CMP2026SMS01.csv"  # loaded on the first run, exported again before the second
# A return of 30.00 loaded on the first run whose sale is not in the data yet (its own order then), and the
# sale, which arrives with the second run's files: the return nets against it and its order vanishes.
LATE_SALE_RETURN = ["THVANISH01,退货,XSVANISH01,S001,沐光上海测试店,收银01,2026-10-03 11:00:00,,,6971234560066,补水面膜 5片装,-1,30.00,0.00,-30.00,微信"]  # fmt: skip
LATE_SALE = ["XSVANISH01,销售,,S001,沐光上海测试店,收银01,2026-10-01 09:30:00,,,6971234560066,补水面膜 5片装,1,30.00,0.00,30.00,微信"]  # fmt: skip


def snapshot(paths: DataPaths) -> dict[str, tuple[pd.DataFrame, int]]:
    """Each fact's rows (with rowid) and its highest rowid."""
    con = duckdb.connect(str(paths.warehouse), read_only=True)
    try:
        out = {}
        for table in FACTS:
            frame = con.execute(f"select rowid as _rowid, * from {table}").df()
            out[table] = (frame, int(frame["_rowid"].max()))
        return out
    finally:
        con.close()


def changed_or_new(before: pd.DataFrame, after: pd.DataFrame, key: str) -> set[str]:
    """Keys of ``after`` that are absent from ``before`` or whose row differs (nulls equal to nulls), the
    build's bookkeeping (`_built_at`: which build wrote the row) aside."""
    columns = [c for c in after.columns if c != "_rowid" and not c.startswith("_built")]
    merged = after[columns].merge(before[columns], on=key, how="left", suffixes=("", "__old"), indicator=True)
    changed = merged["_merge"] == "left_only"
    for column in columns:
        if column == key:
            continue
        new, old = merged[column], merged[f"{column}__old"]
        changed |= ~((new == old) | (new.isna() & old.isna()))
    return set(merged.loc[changed, key])


def sorted_frame(frame: pd.DataFrame, key: str) -> pd.DataFrame:
    bookkeeping = [c for c in frame.columns if c == "_rowid" or c.startswith("_built")]
    return frame.drop(columns=bookkeeping).sort_values(key).reset_index(drop=True)


STALE_CUSTOMER = "C9999999999"


def stale_record(con: duckdb.DuckDBPyConnection, record_key: str) -> None:
    """The stored identity outcome of one record, as the build before an identity merge left it: a customer
    id its identity no longer has. The merge itself is what the identity map would have written: its rows
    of the record's identifiers, stamped just after that build and before the next one
    (int_record_identity_changes recomputes the records showing an identifier the map rewrote since its
    own last build, and compares)."""
    con.execute(
        "update intermediate.int_record_identity_changes set customer_id = ? where record_key = ?",
        [STALE_CUSTOMER, record_key],
    )
    con.execute(
        "update intermediate.customer_identifier_map set updated_at = "
        "(select max(_built_at) from intermediate.int_record_identity_changes) + interval 1 microsecond "
        "where identifier_id in (select identifier_id from intermediate.int_identifiers where record_key = ?)",
        [record_key],
    )


def stale_touch_customer(paths: DataPaths) -> str:
    """Give one resolved event of int_touch_events_resolved, and its record's stored identity outcome, a
    customer id its identity no longer has, as an identity merge since the last build would: the next run
    must find and rewrite that old event. Returns its event_key."""
    con = duckdb.connect(str(paths.warehouse))
    try:
        (event_key,) = con.execute(
            "select min(event_key) from intermediate.int_touch_events_resolved where resolution_status = 'resolved'"
        ).fetchone()
        con.execute(
            "update intermediate.int_touch_events_resolved set customer_id = ? where event_key = ?",
            [STALE_CUSTOMER, event_key],
        )
        stale_record(con, f"touches:{event_key}")
        return event_key
    finally:
        con.close()


def stale_order_customer(paths: DataPaths) -> str:
    """Give one old resolved order with lines, in fct_orders, fct_order_lines and its record's stored
    identity outcome, a customer id its identity no longer has, as if all were built before an identity
    merge: the next run must rewrite the record's outcome, then the order (its record's new stamp) and its
    lines (the order's new stamp). Returns its order_key."""
    con = duckdb.connect(str(paths.warehouse))
    try:
        (order_key,) = con.execute(
            "select min(o.order_key) from marts.fct_orders as o "
            "where o.customer_id is not null "
            "and o.order_key in (select order_key from marts.fct_order_lines)"
        ).fetchone()
        for table in ("marts.fct_orders", "marts.fct_order_lines"):
            con.execute(f"update {table} set customer_id = ? where order_key = ?", [STALE_CUSTOMER, order_key])
        stale_record(con, order_key)
        return order_key
    finally:
        con.close()


def test_second_run_writes_only_new_and_changed_orders(
    data_dir: DataPaths, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    generate(data_dir.root, people=PEOPLE, seed=SEED)
    newest = max((data_dir.landing / "pos").glob("pos_sales_*.csv"))
    campaign = data_dir.landing / "touches" / HELD_BACK_CAMPAIGN
    for path in (newest, campaign):
        shutil.move(path, tmp_path / path.name)

    write_pos(data_dir.landing / "pos" / "pos_handmade_return.csv", LATE_SALE_RETURN)
    load_raw(data_dir)
    dbt_run(*SELECT)
    stale = stale_touch_customer(data_dir)
    stale_order = stale_order_customer(data_dir)
    first = snapshot(data_dir)

    for path in (newest, campaign):  # the new exports arrive
        shutil.move(tmp_path / path.name, path)
    late_sale = data_dir.landing / "pos" / "pos_handmade_sale.csv"
    write_pos(late_sale, LATE_SALE)
    # with a re-export of an old campaign log (its rows in another order): copies of stored events, which
    # change nothing (staging keeps an event's first copy)
    old_log = data_dir.landing / "touches" / RESENT_CAMPAIGN
    header, *rows = old_log.read_text("utf-8").splitlines()
    (old_log.parent / f"resent_{RESENT_CAMPAIGN}").write_text("\n".join([header, *reversed(rows)]) + "\n", "utf-8")
    load_raw(data_dir)
    dbt_run(*SELECT)
    second = snapshot(data_dir)

    con = duckdb.connect(str(data_dir.warehouse), read_only=True)
    try:
        new_receipts = con.execute(
            "select count(distinct receipt_no) from raw.pos where _file_name in (?, ?)",
            [f"pos/{newest.name}", f"pos/{late_sale.name}"],
        ).fetchone()[0]
    finally:
        con.close()
    assert new_receipts > 0

    for table, key in FACTS.items():
        before, before_max = first[table]
        after, _ = second[table]
        written = set(after.loc[after["_rowid"] > before_max, key])
        expected = changed_or_new(before, after, key)
        assert written == expected, (table, len(written), len(expected))
        assert written, table  # each fact has new rows (new POS lines, new touch events)
        # Every fact stamps its rows: the newest stamp marks exactly the rows this build wrote, which the
        # fact's data tests (where "__last_build__") check; the rows it kept keep an earlier build's stamp.
        newest = after["_built_at"] == after["_built_at"].max()
        assert set(after.loc[newest, key]) == written, table
        assert after.loc[~newest, "_built_at"].notna().all() and (~newest).any(), table
        print(f"{table}: {len(written)} of {len(after)} rows written ({len(set(before[key]))} before)")
        # Proportional to the new file, not to the history.
        assert len(written) < 0.25 * len(after), (table, len(written), len(after))
        assert set(before[key]) - set(after[key]) <= set(before[key])  # vanished keys are allowed
    orders_before, orders_after = first["marts.fct_orders"][0], second["marts.fct_orders"][0]
    new_orders = set(orders_after["order_key"]) - set(orders_before["order_key"])
    # Each receipt of the new files is a new order, except returns that net against an earlier receipt.
    assert 0.9 * new_receipts <= len(new_orders) <= new_receipts, (len(new_orders), new_receipts)
    # The stand-alone return of the first run vanished into its sale: its order is deleted, its line now
    # belongs to the sale (the full rebuild below has the same).
    assert "pos:THVANISH01" in set(orders_before["order_key"]) and "pos:XSVANISH01" in new_orders
    assert "pos:THVANISH01" not in set(orders_after["order_key"])
    lines_after = second["marts.fct_order_lines"][0].set_index("order_line_key")
    assert lines_after.loc["pos:THVANISH01:1", "order_key"] == "pos:XSVANISH01"
    # The old event whose customer went stale was rewritten with its customer again (the full rebuild below
    # has it too), and only in the intermediate: the mart had never seen the stale id.
    events_after = second["intermediate.int_touch_events_resolved"][0].set_index("event_key")
    assert events_after.loc[stale, "_rowid"] > first["intermediate.int_touch_events_resolved"][1]
    assert events_after.loc[stale, "customer_id"] not in (None, STALE_CUSTOMER)
    # The old order whose customer went stale was rewritten with its customer again, and so were its lines.
    for table in ("marts.fct_orders", "marts.fct_order_lines"):
        rows = second[table][0].loc[lambda frame: frame["order_key"] == stale_order]
        assert len(rows) > 0 and (rows["_rowid"] > first[table][1]).all(), table
        assert rows["customer_id"].notna().all() and (rows["customer_id"] != STALE_CUSTOMER).all(), table
    # The new events are those of the campaign log that arrived, all of them.
    for table in ("marts.fct_touch_events", "intermediate.int_touch_events_resolved"):
        events_before, events_after = first[table][0], second[table][0]
        new_events = events_after[~events_after["event_key"].isin(events_before["event_key"])]
        assert set(new_events["_file_name"]) == {f"touches/{HELD_BACK_CAMPAIGN}"}, table
        in_campaign_log = events_after["_file_name"] == f"touches/{HELD_BACK_CAMPAIGN}"
        assert len(new_events) == in_campaign_log.sum() > 0, table

    # The facts' data tests, limited to the rows this build wrote, compile and pass (relationships aside:
    # they read dim_customers, which this selection does not build).
    dbt_test("--select", *(table.split(".")[1] for table in FACTS), "--exclude", "test_name:relationships")

    # Same tables as a full rebuild of everything upstream; customer ids survive it (the identity map opts
    # out of full refreshes), so customer_id columns compare equal too.
    dbt_run(*SELECT, "--full-refresh")
    rebuilt = snapshot(data_dir)
    for table, key in FACTS.items():
        assert rebuilt[table][0]["_built_at"].nunique() == 1, table  # a full build stamps (tests) every row
        pd.testing.assert_frame_equal(
            sorted_frame(second[table][0], key), sorted_frame(rebuilt[table][0], key), check_dtype=True
        )

    # fct_touch_events reads only the events int_touch_events_resolved wrote since its own last build; a new
    # hash key changes every recipient hash, and the next run rewrites them all (it makes one stored hash
    # again to tell), as a full rebuild would.
    touches, key = "marts.fct_touch_events", FACTS["marts.fct_touch_events"]
    monkeypatch.setenv(HASH_KEY_ENV, "another deployment's key")  # run_dbt installs it in the warehouse
    dbt_run("--select", "fct_touch_events")
    rotated = snapshot(data_dir)[touches][0]
    hashed = rotated["recipient_hash"].notna()
    assert hashed.sum() > 0
    old_hashes = rebuilt[touches][0].set_index(key)["recipient_hash"]
    assert (rotated.loc[hashed, "recipient_hash"] != rotated.loc[hashed, key].map(old_hashes)).all()
    dbt_run("--select", "fct_touch_events", "--full-refresh")
    pd.testing.assert_frame_equal(sorted_frame(rotated, key), sorted_frame(snapshot(data_dir)[touches][0], key))
