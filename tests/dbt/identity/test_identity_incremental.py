"""int_identifier_candidates is incremental: a run after new export files recomputes the identifier
observations of only the records those files touch, and int_identifier_candidates, int_identifiers and
int_identifiers_rejected then equal a full rebuild.

A small demo is generated and the newest export of every source held back (pos, tmall, jd, wechat_pay,
the newest WeChat member export and one touch log), with hand-made exports on both days: day 1 has a POS
receipt paid by WeChat (member phone and card on the receipt) and a WeChat Pay payment MGIDHAND0002 of a
payer; day 2 has the WeChat Pay bill line of that old POS receipt (its 商户订单号 is the receipt number, so
the payer's openid attaches to the old receipt) and a POS receipt numbered MGIDHAND0002 (a new order that
picks up the old payment's payer).

What a run rewrote is measured on the table itself: before day 2 every row is marked (a suffix on
`source`, a column the incremental logic never reads); a row the run rewrites loses the mark, a row it
leaves keeps it. The expected set of records is derived here from the raw rows of the day-2 files with
pandas, independently of the model's SQL.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from core.paths import DataPaths
from demo.generator import generate
from tests.helpers.incremental_runs import (
    dbt_run,
    dbt_test,
    deliver_day_2,
    load_raw,
    write_pos,
    write_wechat,
)
from transform.dbt import run_dbt

pytestmark = pytest.mark.e2e

PEOPLE = 300
SEED = 42
ORDER_SOURCES = ("pos", "tmall", "jd", "wechat_pay")
CHANNELS = ("pos", "tmall", "jd", "wechat")
TABLES = ("int_identifier_candidates", "int_identifiers", "int_identifiers_rejected")
GRAPH = ("int_identity_hubs", "int_identity_nodes", "int_identity_edges", "int_identity_components")
MARK = "|kept"


def receipt(receipt_no: str, day: int, card: str, phone: str) -> str:
    return (f"{receipt_no},销售,,S001,沐光上海测试店,收银01,2026-10-{day:02d} 10:00:00,{card},{phone},"
            "6971234560042,神经酰胺修护面霜 50g,1,100.00,0.00,100.00,现金")  # fmt: skip


# The identity graph's hand-made changes (hub threshold 5: a value seen with more than 5 distinct values
# of one other type is a hub). Phone GROWING is typed with 5 cards on day 1 (degree 5: a node, linked to
# each card) and a 6th on day 2: it becomes a hub, its node and its 5 edges go. Phone SHRINKING is typed
# with 6 cards on day 1 (a hub) and its 6th receipt is exported again on day 2 without the card: degree 5,
# no longer a hub, so it becomes a node linked to its 5 cards, and the 6th card, seen nowhere else, is no
# node any more. Receipt XSGRAPH0301 shows phone LOSING and a card on day 1 (one edge) and is exported
# again on day 2 without the card: the edge and the card's node go.
GROWING, SHRINKING, LOSING = "13911110001", "13911110002", "13911110003"
CARD = "8809000{:05d}"
# The second pass across days: card SHARED is typed with 6 store phones (STORE) on day 1, each phone with
# SHARED and 5 other cards: every one has degree 6, equal degrees exclude neither, so SHARED and the phones
# are hubs. On day 2 each phone is typed with one card more, on new receipts only: the phones' degree is 7,
# above SHARED's 6, so SHARED's second pass ignores them and it stops being a hub, though none of its own
# receipts changed (a build must look at the neighbours of the values whose degree moved).
SHARED = CARD.format(400)
STORE = [f"1391111040{i}" for i in range(1, 7)]
GRAPH_DAY_1 = (
    [receipt(f"XSGRAPH01{i:02d}", 1, CARD.format(100 + i), GROWING) for i in range(1, 6)]
    + [receipt(f"XSGRAPH02{i:02d}", 1, CARD.format(200 + i), SHRINKING) for i in range(1, 7)]
    + [receipt("XSGRAPH0301", 1, CARD.format(301), LOSING)]
    + [receipt(f"XSGRAPH04{i}0", 1, SHARED, phone) for i, phone in enumerate(STORE, 1)]
    + [receipt(f"XSGRAPH04{i}{j}", 1, CARD.format(400 + 10 * i + j), phone)
       for i, phone in enumerate(STORE, 1) for j in range(1, 6)]
)
GRAPH_DAY_2 = [
    receipt("XSGRAPH0106", 4, CARD.format(106), GROWING),
    receipt("XSGRAPH0206", 1, "", SHRINKING),
    receipt("XSGRAPH0301", 1, "", LOSING),
    *(receipt(f"XSGRAPH04{i}6", 4, CARD.format(400 + 10 * i + 6), phone) for i, phone in enumerate(STORE, 1)),
]

# day 1: a receipt paid by WeChat Pay; its bill line only arrives on day 2
POS_DAY_1 = [
    "XSIDHAND0001,销售,,S001,沐光上海测试店,收银01,2026-10-02 10:00:00,880000000001,13912345678,6971234560042,神经酰胺修护面霜 50g,1,100.00,0.00,100.00,微信",
    *GRAPH_DAY_1,
]  # fmt: skip
# day 2: a receipt whose number is the 商户订单号 of a day-1 WeChat Pay payment (no phone, no card)
POS_DAY_2 = [
    "MGIDHAND0002,销售,,S001,沐光上海测试店,收银01,2026-10-05 12:00:00,,,6971234560059,温和防晒乳 SPF50+ 50ml,1,60.00,0.00,60.00,微信",
    *GRAPH_DAY_2,
]  # fmt: skip

PAYER_OLD_ORDER = "oXk3IDHANDMADE01"  # pays the day-1 POS receipt, bill line on day 2
PAYER_NEW_ORDER = "oXk3IDHANDMADE02"  # pays MGIDHAND0002 on day 1, the POS receipt arrives on day 2
# (detail fields, summary fields)
WECHAT_DAY_1 = (
    ["2026-10-05 12:00:00", "wx8a3c5f2e1b7d9046", "1900012345", "0", "", "4200000000202610050000000201",
     "MGIDHAND0002", PAYER_NEW_ORDER, "JSAPI", "SUCCESS", "CFT", "CNY", "60.00", "0.00", "", "", "0.00",
     "0.00", "", "", "温和防晒乳", "", "0.36", "0.60%", "60.00", "0.00", ""],
    ["1", "60.00", "0.00", "0.00", "0.36", "60.00", "0.00"],
)  # fmt: skip
WECHAT_DAY_2 = (
    ["2026-10-02 10:00:00", "wx8a3c5f2e1b7d9046", "1900012345", "0", "", "4200000000202610020000000101",
     "XSIDHAND0001", PAYER_OLD_ORDER, "MICROPAY", "SUCCESS", "CFT", "CNY", "100.00", "0.00", "", "", "0.00",
     "0.00", "", "", "神经酰胺修护面霜", "", "0.60", "0.60%", "100.00", "0.00", ""],
    ["1", "100.00", "0.00", "0.00", "0.60", "100.00", "0.00"],
)  # fmt: skip


def newest_exports(landing: Path) -> list[Path]:
    """The newest export of every source: the last monthly file of each order channel, the member export
    covering the latest period (named by its end date) and one touch log."""
    files = [max((landing / source).iterdir()) for source in ORDER_SOURCES]
    files.append(max((landing / "wechat_members").iterdir(), key=lambda f: f.stem[-10:]))
    files.append(max((landing / "touches").iterdir()))
    return files


def query(paths: DataPaths, sql: str) -> pd.DataFrame:
    con = duckdb.connect(str(paths.warehouse), read_only=True)
    try:
        return con.execute(sql).df()
    finally:
        con.close()


# the hubs: every value above the threshold in the first pass (the state a day's build starts from)
LIVE = {"int_identifier_candidates": "retracted_at is null", "int_identity_hubs": "is_hub or first_degree is not null"}


def snapshot(paths: DataPaths) -> dict[str, pd.DataFrame]:
    """Every table, without the build stamp (`_built_at`: which build wrote the row, the one column an
    incremental run and a full rebuild may differ in; the stamps are checked on their own); the
    candidates without the observations a run retracted, the hubs without the values that stopped being
    one (an incremental run keeps both for the graph steps, a full rebuild has neither)."""
    return {
        table: query(paths, f"select * from intermediate.{table} where {LIVE.get(table, 'true')}").drop(
            columns="_built_at", errors="ignore"
        )
        for table in TABLES + GRAPH
    }


def execute(paths: DataPaths, sql: str, parameters: list[str]) -> None:
    con = duckdb.connect(str(paths.warehouse))
    try:
        con.execute(sql, parameters)
    finally:
        con.close()


def sorted_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """Rows in a canonical order (the tables have no row key: a record may repeat an observation)."""
    text = frame.map(lambda value: "<NA>" if pd.isna(value) else str(value))
    order = text.agg("|".join, axis=1).sort_values(kind="stable").index
    return frame.loc[order].reset_index(drop=True)


def expected_records(paths: DataPaths, new_files: set[str]) -> set[str]:
    """The record keys a run after ``new_files`` must recompute, from the raw rows with pandas.

    Orders: every natural key with rows in the new files (POS receipt, Tmall / JD order, WeChat Pay
    商户订单号), plus the POS receipts linked to a new receipt by a return either way; each such key is the
    record `<channel>:<key>` of every order channel (a payer attaches to any channel's order with that
    number). Members: every openid with a row in the new files, under every app_id a raw row gave it.
    Touches: the events whose first copy is in the new files.
    """
    raw = {
        "pos": query(paths, "select receipt_no as key, original_receipt_no, _file_name from raw.pos"),
        "tmall": query(paths, "select order_id as key, _file_name from raw.tmall"),
        "jd": query(paths, "select order_id as key, _file_name from raw.jd"),
        "wechat_pay": query(paths, "select out_trade_no as key, _file_name from raw.wechat_pay"),
    }
    new_keys = set().union(*(set(f.loc[f["_file_name"].isin(new_files), "key"]) for f in raw.values()))
    pos = raw["pos"].dropna(subset=["original_receipt_no"])
    new_keys |= set(pos.loc[pos["key"].isin(new_keys), "original_receipt_no"])
    new_keys |= set(pos.loc[pos["original_receipt_no"].isin(new_keys), "key"])
    records = {f"{channel}:{key}" for channel in CHANNELS for key in new_keys}

    members = query(paths, "select app_id, openid, _file_name from raw.wechat_members")
    new_openids = set(members.loc[members["_file_name"].isin(new_files), "openid"])
    moved = members.loc[members["openid"].isin(new_openids)]
    records |= {
        f"wechat_members:{'' if pd.isna(app) else app}:{openid}"
        for app, openid in zip(moved["app_id"], moved["openid"], strict=True)
    }

    touches = query(paths, "select event_key, _file_name from staging.stg_touches__events")
    records |= {f"touches:{key}" for key in touches.loc[touches["_file_name"].isin(new_files), "event_key"]}
    return records


def observations(frame: pd.DataFrame, record_key: str) -> set[tuple[str, str, str | None]]:
    rows = frame.loc[frame["record_key"] == record_key]
    return set(zip(rows["source"], rows["identifier_type"], rows["identifier_value"], strict=True))


def test_incremental_run_recomputes_only_touched_records(data_dir: DataPaths, tmp_path: Path) -> None:
    generate(data_dir.root, people=PEOPLE, seed=SEED)
    held_back = []
    for newest in newest_exports(data_dir.landing):
        held = tmp_path / "held_back" / newest.parent.name / newest.name
        held.parent.mkdir(parents=True)
        shutil.move(newest, held)
        held_back.append((held, newest))
    write_pos(data_dir.landing / "pos" / "pos_handmade_day1.csv", POS_DAY_1)
    write_wechat(data_dir.landing / "wechat_pay" / "wechatpay_bill_handmade_day1.csv", WECHAT_DAY_1)

    select = ["--select", "+int_identifiers", "+int_identifiers_rejected", "+int_identity_components"]
    load_raw(data_dir, expect_handmade=True)
    dbt_run(*select)
    first = snapshot(data_dir)
    candidates_1 = first["int_identifier_candidates"]
    # day 1: the POS receipt has the phone and card it shows and no payer yet; the payment's payer is on
    # the WeChat order only
    assert observations(candidates_1, "pos:XSIDHAND0001") == {
        ("pos", "phone", "13912345678"), ("pos", "member_card", "880000000001")}  # fmt: skip
    assert observations(candidates_1, "wechat:MGIDHAND0002") == {
        ("wechat", "openid", PAYER_NEW_ORDER), ("wechat_pay", "openid", PAYER_NEW_ORDER)}  # fmt: skip
    assert observations(candidates_1, "pos:MGIDHAND0002") == set()

    # Day 2: the held-back exports and the hand-made day-2 exports arrive.
    new_files = deliver_day_2(data_dir, held_back, POS_DAY_2, WECHAT_DAY_2)
    load_raw(data_dir, expect_handmade=True)
    # run alone, the model would read order rows older than the loads: it refuses, before deleting
    output = dbt_run("--select", "int_identifier_candidates", succeeds=False)
    assert "int_orders_unioned does not reflect the latest raw order loads" in output
    unchanged = query(data_dir, "select * exclude (_built_at) from intermediate.int_identifier_candidates")
    pd.testing.assert_frame_equal(sorted_frame(unchanged), sorted_frame(candidates_1))
    execute(data_dir, "update intermediate.int_identifier_candidates set source = source || ?", [MARK])
    # the day's run in two steps so the marks can be read (and removed) before the tables over the
    # candidates are built from them; int_identifiers and int_identifiers_rejected are full tables
    dbt_run("--select", "+int_identifier_candidates")
    marked = query(
        data_dir, "select * exclude (_built_at) from intermediate.int_identifier_candidates where retracted_at is null"
    )
    stamps = query(
        data_dir, "select source, _built_at from intermediate.int_identifier_candidates where retracted_at is null"
    )
    retracted = query(
        data_dir, "select * exclude (_built_at) from intermediate.int_identifier_candidates where retracted_at is not null"
    )
    execute(
        data_dir,
        "update intermediate.int_identifier_candidates "
        "set source = left(source, length(source) - length(?)) where ends_with(source, ?)",
        [MARK, MARK],
    )
    dbt_run("--select", "int_identifiers", "int_identifiers_rejected", *GRAPH)
    second = snapshot(data_dir)

    # (2) only the touched records were rewritten: a row kept its mark unless its record is one the new
    # files touch; those were all rewritten, and every other row is as it was on day 1.
    records = expected_records(data_dir, new_files)
    assert {"pos:XSIDHAND0001", "pos:MGIDHAND0002", "wechat:XSIDHAND0001"} <= records
    kept = marked["source"].str.endswith(MARK)
    assert set(marked.loc[~kept, "record_key"]) <= records
    assert not marked.loc[kept, "record_key"].isin(records).any()
    candidates_2 = second["int_identifier_candidates"]
    unmarked = marked.assign(source=marked["source"].str.removesuffix(MARK))
    pd.testing.assert_frame_equal(sorted_frame(unmarked), sorted_frame(candidates_2))
    untouched_1 = candidates_1.loc[~candidates_1["record_key"].isin(records)]
    pd.testing.assert_frame_equal(sorted_frame(unmarked.loc[kept]), sorted_frame(untouched_1))
    # proportional to the new files (1 month of 24 per order channel, one touch log of 4, the member
    # export of the last year), not to the history
    rewritten = int((~kept).sum())
    # the rows the run wrote, and only those, carry its stamp (the observation tests check those rows)
    newest = stamps["_built_at"] == stamps["_built_at"].max()
    assert newest.equals(~stamps["source"].str.endswith(MARK))
    assert 0 < rewritten < 0.3 * len(marked), (rewritten, len(marked))
    print(f"int_identifier_candidates: {rewritten} of {len(marked)} rows rewritten")

    # (3) the hand-made cross-channel payer links: the day-2 bill line attaches its payer to the old POS
    # receipt (and to its own WeChat order); the day-2 POS receipt picks up the day-1 payment's payer.
    assert observations(candidates_2, "pos:XSIDHAND0001") == {
        ("pos", "phone", "13912345678"), ("pos", "member_card", "880000000001"),
        ("wechat_pay", "openid", PAYER_OLD_ORDER)}  # fmt: skip
    assert observations(candidates_2, "wechat:XSIDHAND0001") == {
        ("wechat", "openid", PAYER_OLD_ORDER), ("wechat_pay", "openid", PAYER_OLD_ORDER)}  # fmt: skip
    assert observations(candidates_2, "pos:MGIDHAND0002") == {("wechat_pay", "openid", PAYER_NEW_ORDER)}
    identifiers = second["int_identifiers"]
    receipt = identifiers.loc[identifiers["record_key"] == "pos:XSIDHAND0001"]
    assert set(receipt["identifier_key"]) == {
        "phone:13912345678", "member_card:880000000001", f"openid:{PAYER_OLD_ORDER}"}  # fmt: skip

    # (5) what the day took back: of the rewritten records' day-1 observations, the usable identifiers a
    # record no longer shows, and every observation of a record that has none left, stay retracted
    day_1 = candidates_1.loc[candidates_1["record_key"].isin(records)]
    shown = set(zip(candidates_2["record_key"], candidates_2["identifier_id"], strict=True))
    lost = day_1.loc[
        [
            (key, ident) not in shown if pd.notna(ident) else key not in set(candidates_2["record_key"])
            for key, ident in zip(day_1["record_key"], day_1["identifier_id"], strict=True)
        ]
    ]

    def observed(frame: pd.DataFrame) -> set[tuple[str, str, str]]:
        return set(zip(frame["record_key"], frame["identifier_type"], frame["identifier_value"], strict=True))

    assert observed(retracted) == observed(lost)
    assert {("pos:XSGRAPH0206", "member_card", CARD.format(206)),
            ("pos:XSGRAPH0301", "member_card", CARD.format(301))} <= observed(retracted)  # fmt: skip

    # (6) the graph's hand-made changes: a phone became a hub, one stopped being one, a record lost a card
    ids = dict(zip(identifiers["identifier_key"], identifiers["identifier_id"], strict=False))
    ids_1 = dict(zip(first["int_identifiers"]["identifier_key"], first["int_identifiers"]["identifier_id"],
                     strict=False))  # fmt: skip
    growing, shrinking, losing = (ids_1[f"phone:{p}"] for p in (GROWING, SHRINKING, LOSING))
    card = {i: ids_1.get(f"member_card:{CARD.format(i)}") for i in (101, 102, 103, 104, 105, 206, 301)}

    def linked(edges: pd.DataFrame, node: int) -> set[int]:
        return set(edges.loc[edges["from_id"] == node, "to_id"]) | set(edges.loc[edges["to_id"] == node, "from_id"])

    for day, tables, hub, node in ((1, first, shrinking, growing), (2, second, growing, shrinking)):
        hubs, nodes, edges, _ = (tables[t] for t in GRAPH)
        assert hub in set(hubs["identifier_id"]) and node not in set(hubs["identifier_id"]), day
        assert hub not in set(nodes["identifier_id"]) and not linked(edges, hub), day
        assert node in set(nodes["identifier_id"]), day
    assert linked(first["int_identity_edges"], growing) == {card[i] for i in range(101, 106)}
    assert len(linked(second["int_identity_edges"], shrinking)) == 5
    assert card[206] not in linked(second["int_identity_edges"], shrinking)
    assert card[301] in linked(first["int_identity_edges"], losing)
    assert not linked(second["int_identity_edges"], losing)
    nodes_1, nodes_2 = set(first["int_identity_nodes"]["identifier_id"]), set(second["int_identity_nodes"]["identifier_id"])
    assert {card[206], card[301]} <= nodes_1 and not {card[206], card[301]} & nodes_2
    assert ids[f"phone:{SHRINKING}"] == shrinking
    # (the table also keeps every value above the threshold in the first pass, with its first_degree)
    stopped = query(data_dir, "select identifier_id from intermediate.int_identity_hubs "
                              "where not is_hub and first_degree is null")
    assert set(stopped["identifier_id"]) == {shrinking}
    # the card seen with the store phones: a hub on day 1, not on day 2 (still above the threshold in the
    # first pass), its receipts untouched; the phones hubs on both days
    shared, store = ids_1[f"member_card:{SHARED}"], {ids_1[f"phone:{phone}"] for phone in STORE}
    first_hubs = first["int_identity_hubs"].set_index("identifier_id")
    second_hubs = second["int_identity_hubs"].set_index("identifier_id")
    assert first_hubs.loc[shared, "is_hub"] and not second_hubs.loc[shared, "is_hub"]
    assert second_hubs.loc[shared, "first_degree"] == 6
    assert first_hubs.loc[list(store), "first_degree"].eq(6).all() and first_hubs.loc[list(store), "is_hub"].all()
    assert second_hubs.loc[list(store), "first_degree"].eq(7).all() and second_hubs.loc[list(store), "is_hub"].all()
    assert not {"pos:XSGRAPH0410", "pos:XSGRAPH0460"} & records
    # the day rewrote the nodes and edges it changed, not the graph (at this size the day's files, among
    # them the member export of the whole last year, show about a third of the identifiers)
    for table in ("int_identity_nodes", "int_identity_edges"):
        written = query(
            data_dir,
            f"select count(*) filter (where _built_at = (select max(_built_at) from intermediate.{table})) as day, "
            f"count(*) as rows from intermediate.{table}",
        )
        day_rows, rows = int(written["day"][0]), int(written["rows"][0])
        assert 0 < day_rows < 0.5 * rows, (table, day_rows, rows)
        print(f"{table}: {day_rows} of {rows} rows rewritten")

    # the incremental Python model (the components) leaves no table behind: dbt-duckdb writes its rows to
    # a table of their own before the delete+insert, and the model's post-hook drops it
    leftovers = query(data_dir, "select table_name from information_schema.tables where contains(table_name, '__dbt_tmp')")
    assert leftovers.empty, leftovers

    # (1) every table equals a full rebuild, and the data tests on them pass.
    dbt_run(*select, "--full-refresh")
    rebuilt = snapshot(data_dir)
    for table in TABLES + GRAPH:
        pd.testing.assert_frame_equal(
            sorted_frame(second[table]), sorted_frame(rebuilt[table]), check_dtype=True, obj=table
        )
    dbt_test("--select", *TABLES, *GRAPH)

    # (4) the injectivity tests check the ids of the last build's rows against every row. Make
    # pos:XSIDHAND0001 the only record of the last build, then give its phone the id of another key, or
    # the record the id of another record: each test fails. Two old rows sharing an id (both from earlier
    # builds, whose tests saw them when they were new) are not checked again.
    execute(
        data_dir,
        "update intermediate.int_identifier_candidates set _built_at = _built_at - interval 1 day "
        "where record_key <> ?",
        ["pos:XSIDHAND0001"],
    )
    old = query(
        data_dir,
        "select identifier_id, record_id, record_key from intermediate.int_identifiers "
        "where record_key like 'tmall:%' and identifier_type <> 'phone' "
        "qualify row_number() over (partition by record_key order by identifier_id) = 1 order by record_key limit 2",
    )
    assert len(old) == 2 and old["record_key"].nunique() == 2, old
    injective = ["--select", "int_identifiers,test_name:identity_hash_is_injective"]
    assert injectivity_failures(injective) == []
    for column, value in (("identifier_id", old["identifier_id"][0]), ("record_id", old["record_id"][0])):
        backup = query(
            data_dir,
            f"select {column} from intermediate.int_identifier_candidates "
            "where record_key = 'pos:XSIDHAND0001' and identifier_type = 'phone'",
        )
        execute(
            data_dir,
            f"update intermediate.int_identifier_candidates set {column} = ? "
            "where record_key = 'pos:XSIDHAND0001' and identifier_type = 'phone'",
            [str(value)],
        )
        failures = injectivity_failures(injective)
        assert len(failures) == 1 and f"{column}__" in failures[0], failures
        execute(
            data_dir,
            f"update intermediate.int_identifier_candidates set {column} = ? "
            "where record_key = 'pos:XSIDHAND0001' and identifier_type = 'phone'",
            [str(backup[column][0])],
        )
    execute(
        data_dir,
        "update intermediate.int_identifier_candidates set identifier_id = ? where record_key = ? "
        "and identifier_id is not null",
        [str(old["identifier_id"][0]), old["record_key"][1]],
    )
    shared = query(
        data_dir,
        "select identifier_id from intermediate.int_identifiers group by identifier_id "
        "having count(distinct identifier_key) > 1",
    )
    assert shared["identifier_id"].tolist() == [old["identifier_id"][0]]
    assert injectivity_failures(injective) == []


def injectivity_failures(select: list[str]) -> list[str]:
    run = run_dbt(["test", *select], check=False)
    assert run.results(), run.output[-4000:]
    return run.failures()
