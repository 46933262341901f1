"""int_orders_unioned / int_order_lines_unioned are incremental: a run after new export files recomputes only
the orders those files touch, and the tables then equal a full rebuild.

A small demo is generated and the newest export of each order channel held back, with two hand-made
exports per side: day 1 has a POS sale (150.00), a stand-alone POS return of 30.00 whose sale is not in the
data yet, and a WeChat Pay payment of 200.00; day 2 (with the held-back exports) has a return of 50.00
against the day-1 sale, the sale the day-1 return points at, and a WeChat Pay refund of 80.00 of the day-1
payment.

What a run rewrote is measured on the table itself: before day 2 every row is marked (a suffix on a column
the incremental logic never reads); a row the run rewrites loses the mark, a row it leaves keeps it.
(DuckDB rowids can't tell: a checkpoint compacts a row group with deleted rows and renumbers them.) The
expected set is derived here from the raw rows of the day-2 files with pandas, independently of the
models' SQL.
"""

from __future__ import annotations

import shutil
from decimal import Decimal
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from core.paths import DataPaths
from demo.generator import generate
from tests.helpers.incremental_runs import dbt_run, deliver_day_2, load_raw, write_pos, write_wechat
from transform.dbt import EXCLUDED_RESOURCE_TYPES, run_dbt

pytestmark = pytest.mark.e2e

PEOPLE = 200
SEED = 42
ORDER_SOURCES = ("pos", "tmall", "jd", "wechat_pay")
TABLES = {"int_orders_unioned": ("order_key", "source_order_id"),
          "int_order_lines_unioned": ("order_line_key", "source_line_document_id")}  # fmt: skip
# (column marked, mark): columns the incremental hooks never read (they read channel, the document column
# and _source_loaded_at)
MARKED = {"int_orders_unioned": "order_status", "int_order_lines_unioned": "order_key"}
MARK = "|kept"
SELECT = ["--select", "+int_orders_unioned", "+int_order_lines_unioned"]

POS_DAY_1 = [
    # a sale of 100.00 + 50.00 (day 2 returns the 50.00 line)
    "XSHAND0001,销售,,S001,沐光上海测试店,收银01,2026-10-02 10:00:00,,,6971234560042,神经酰胺修护面霜 50g,1,100.00,0.00,100.00,微信",
    "XSHAND0001,销售,,S001,沐光上海测试店,收银01,2026-10-02 10:00:00,,,6971234560059,温和防晒乳 SPF50+ 50ml,1,50.00,0.00,50.00,微信",
    # a return of 30.00 whose sale XSHAND0003 is not in the data yet (it arrives on day 2)
    "THHAND0002,退货,XSHAND0003,S001,沐光上海测试店,收银01,2026-10-03 11:00:00,,,6971234560066,补水面膜 5片装,-1,30.00,0.00,-30.00,微信",
]  # fmt: skip
POS_DAY_2 = [
    "THHAND0004,退货,XSHAND0001,S001,沐光上海测试店,收银01,2026-10-20 15:00:00,,,6971234560059,温和防晒乳 SPF50+ 50ml,-1,50.00,0.00,-50.00,微信",
    "XSHAND0003,销售,,S001,沐光上海测试店,收银01,2026-10-01 09:30:00,,,6971234560066,补水面膜 5片装,1,30.00,0.00,30.00,微信",
    # a receipt type no mapping knows (赠品, a gift): one bad line, which the day's tests must flag
    "XSHAND0005,赠品,,S001,沐光上海测试店,收银01,2026-10-21 10:00:00,,,6971234560042,神经酰胺修护面霜 50g,1,0.00,0.00,0.00,微信",
]  # fmt: skip

# (fields, summary fields): a payment of 200.00, then a refund of 80.00 of the same 商户订单号
WECHAT_DAY_1 = (
    ["2026-10-05 12:00:00", "wx8a3c5f2e1b7d9046", "1900012345", "0", "", "4200000000202610050000000001",
     "MGHAND0001", "oXk3HANDMADE0001", "JSAPI", "SUCCESS", "CFT", "CNY", "200.00", "0.00", "", "", "0.00",
     "0.00", "", "", "旅行装套组", "", "1.20", "0.60%", "200.00", "0.00", ""],
    ["1", "200.00", "0.00", "0.00", "1.20", "200.00", "0.00"],
)  # fmt: skip
WECHAT_DAY_2 = (
    ["2026-10-21 12:00:00", "wx8a3c5f2e1b7d9046", "1900012345", "0", "", "4200000000202610050000000001",
     "MGHAND0001", "oXk3HANDMADE0001", "JSAPI", "REFUND", "CFT", "CNY", "0.00", "0.00",
     "503001000000000009999999991", "RFHAND0001", "80.00", "0.00", "ORIGINAL", "SUCCESS", "旅行装套组", "",
     "-0.48", "0.60%", "0.00", "80.00", ""],
    ["1", "0.00", "80.00", "0.00", "-0.48", "0.00", "80.00"],
)  # fmt: skip


def snapshot(paths: DataPaths) -> dict[str, pd.DataFrame]:
    con = duckdb.connect(str(paths.warehouse), read_only=True)
    try:
        return {t: con.execute(f"select * from intermediate.{t}").df() for t in TABLES}
    finally:
        con.close()


def mark_rows(paths: DataPaths) -> None:
    """Append MARK to the marked column of every row (a rewritten row comes back without it)."""
    con = duckdb.connect(str(paths.warehouse))
    try:
        for table, column in MARKED.items():
            con.execute(f"update intermediate.{table} set {column} = {column} || ?", [MARK])
    finally:
        con.close()


def split_marked(frame: pd.DataFrame, column: str) -> tuple[pd.Series, pd.DataFrame]:
    """(which rows carry the mark, the frame with the mark removed)."""
    kept = frame[column].str.endswith(MARK)
    unmarked = frame.copy()
    unmarked[column] = unmarked[column].where(~kept, unmarked[column].str.removesuffix(MARK))
    return kept, unmarked


def raw_rows(paths: DataPaths) -> dict[str, pd.DataFrame]:
    con = duckdb.connect(str(paths.warehouse), read_only=True)
    try:
        return {
            "pos": con.execute("select receipt_no, original_receipt_no, _file_name from raw.pos").df(),
            "tmall": con.execute("select order_id, _file_name from raw.tmall").df(),
            "jd": con.execute("select order_id, _file_name from raw.jd").df(),
            "wechat": con.execute("select out_trade_no, _file_name from raw.wechat_pay").df(),
        }
    finally:
        con.close()


def expected_documents(raw: dict[str, pd.DataFrame], new_files: set[str]) -> set[tuple[str, str]]:
    """(channel, document id) whose rows a run after ``new_files`` must recompute: every document with rows
    in the new files; for POS also the receipts the new receipts' rows point at (their refund changes) and
    the receipts whose rows point at a new receipt (a new sale absorbs a stand-alone return)."""
    keys = {"pos": "receipt_no", "tmall": "order_id", "jd": "order_id", "wechat": "out_trade_no"}
    documents = set()
    new = {}
    for channel, frame in raw.items():
        new[channel] = set(frame.loc[frame["_file_name"].isin(new_files), keys[channel]])
        documents |= {(channel, key) for key in new[channel]}
    pos = raw["pos"].dropna(subset=["original_receipt_no"])
    originals = set(pos.loc[pos["receipt_no"].isin(new["pos"]), "original_receipt_no"])
    returns = set(pos.loc[pos["original_receipt_no"].isin(new["pos"]), "receipt_no"])
    documents |= {("pos", key) for key in originals | returns}
    return documents


def documents_of(frame: pd.DataFrame, column: str) -> pd.Series:
    return pd.Series(list(zip(frame["channel"], frame[column], strict=True)), index=frame.index)


def rows_by_key(frame: pd.DataFrame, key: str) -> dict[str, dict]:
    return frame.set_index(key).to_dict("index")


def day_tests(*models: str) -> dict[object, tuple[str, int]]:
    """``dbt test`` of the models' data tests: {test: (status, failing rows)}, a test given a name in the yml
    by that name, any other (dbt names it `<kind>_<model>_...`) by (model, column, test kind)."""
    excluded = [arg for kind in EXCLUDED_RESOURCE_TYPES for arg in ("--exclude-resource-type", kind)]
    run = run_dbt(["test", *excluded, "--select", *models], check=False, manifest=True)  # names its tests
    nodes = run.manifest()["nodes"]
    outcomes = {}
    for result in run.results():
        node = nodes[result["unique_id"]]
        kind = node["test_metadata"]["name"]
        model = node["attached_node"].rsplit(".", 1)[-1]
        name = (model, node["column_name"], kind) if node["name"].startswith(f"{kind}_") else node["name"]
        outcomes[name] = (result["status"], result["failures"] or 0)
    return outcomes


def test_incremental_run_recomputes_only_touched_orders(data_dir: DataPaths, tmp_path: Path) -> None:
    generate(data_dir.root, people=PEOPLE, seed=SEED)
    held_back = []
    for source in ORDER_SOURCES:
        newest = max((data_dir.landing / source).iterdir())
        held = tmp_path / "held_back" / source / newest.name
        held.parent.mkdir(parents=True)
        shutil.move(newest, held)
        held_back.append((held, newest))
    write_pos(data_dir.landing / "pos" / "pos_handmade_day1.csv", POS_DAY_1)
    write_wechat(data_dir.landing / "wechat_pay" / "wechatpay_bill_handmade_day1.csv", WECHAT_DAY_1)

    load_raw(data_dir)
    dbt_run(*SELECT)
    first = snapshot(data_dir)
    # a full build stamps every row alike: the tests limited to its last build (where "__last_build__") see all
    assert all(frame["_built_at"].nunique() == 1 for frame in first.values()), first

    # Day 1 as a full build gives it: the stand-alone return is its own order, nothing netted yet.
    day_1 = rows_by_key(first["int_orders_unioned"], "order_key")
    assert (day_1["pos:XSHAND0001"]["gross_amount"], day_1["pos:XSHAND0001"]["refund_amount"]) == (
        Decimal("150.00"), Decimal("0.00"))  # fmt: skip
    assert day_1["pos:THHAND0002"]["net_amount"] == Decimal("-30.00")
    assert day_1["pos:THHAND0002"]["order_status"] == "returned"
    assert day_1["wechat:MGHAND0001"]["net_amount"] == Decimal("200.00")

    # Day 2: the held-back exports and the hand-made day-2 exports arrive.
    new_files = deliver_day_2(data_dir, held_back, POS_DAY_2, WECHAT_DAY_2)
    load_raw(data_dir)
    raw = raw_rows(data_dir)
    assert new_files <= set().union(*(set(frame["_file_name"]) for frame in raw.values()))
    mark_rows(data_dir)
    dbt_run(*SELECT)
    second = {}

    # (2) only the touched orders were rewritten: a row kept its mark (and content) unless its document is
    # one the new files touch; those were all rewritten.
    documents = expected_documents(raw, new_files)
    for table, (key, document_column) in TABLES.items():
        kept, after = split_marked(snapshot(data_dir)[table], MARKED[table])
        second[table] = after
        before = first[table]
        rewritten = ~kept
        expected = documents_of(after, document_column).isin(documents)
        assert set(after.loc[rewritten, key]) == set(after.loc[expected, key]), table
        # the newest stamp marks exactly the rewritten rows: what the model's data tests check on a day
        assert (after["_built_at"] == after["_built_at"].max()).equals(rewritten), table
        assert after[key].is_unique, table
        unchanged = after.loc[kept].merge(before, on=key, how="left", suffixes=("", "__before"))
        for column in before.columns:
            if column != key:
                same = (unchanged[column] == unchanged[f"{column}__before"]) | (
                    unchanged[column].isna() & unchanged[f"{column}__before"].isna())  # fmt: skip
                assert same.all(), (table, column)
        vanished = before.loc[~before[key].isin(after[key])]
        assert documents_of(vanished, document_column).isin(documents).all(), table
        # proportional to the new files (1 month of ~24 per channel), not to the history
        assert 0 < rewritten.sum() < 0.15 * len(after), (table, int(rewritten.sum()), len(after))
        print(f"{table}: {int(rewritten.sum())} of {len(after)} rows rewritten, {len(vanished)} deleted")
    assert {("pos", "XSHAND0001"), ("pos", "XSHAND0003"), ("pos", "THHAND0002"), ("pos", "THHAND0004"),
            ("wechat", "MGHAND0001")} <= documents  # fmt: skip

    # (3) the hand-made cross-order cases, netted by hand.
    orders = rows_by_key(second["int_orders_unioned"], "order_key")
    sale = orders["pos:XSHAND0001"]  # 100.00 + 50.00, the 50.00 line returned on day 2
    assert (sale["gross_amount"], sale["refund_amount"], sale["net_amount"]) == (
        Decimal("150.00"), Decimal("50.00"), Decimal("100.00"))  # fmt: skip
    assert (sale["order_status"], sale["is_purchase"], sale["item_count"]) == ("completed", True, 2)
    late_sale = orders["pos:XSHAND0003"]  # 30.00, fully returned by the day-1 return
    assert (late_sale["gross_amount"], late_sale["refund_amount"], late_sale["net_amount"]) == (
        Decimal("30.00"), Decimal("30.00"), Decimal("0.00"))  # fmt: skip
    assert (late_sale["order_status"], late_sale["is_purchase"]) == ("returned", False)
    assert "pos:THHAND0002" not in orders and "pos:THHAND0004" not in orders
    payment = orders["wechat:MGHAND0001"]  # 200.00 paid, 80.00 refunded
    assert (payment["gross_amount"], payment["refund_amount"], payment["net_amount"]) == (
        Decimal("200.00"), Decimal("80.00"), Decimal("120.00"))  # fmt: skip
    assert (payment["order_status"], payment["is_purchase"]) == ("completed", True)
    lines = rows_by_key(second["int_order_lines_unioned"], "order_line_key")
    assert lines["pos:THHAND0002:1"]["order_key"] == "pos:XSHAND0003"
    assert (lines["pos:THHAND0004:1"]["order_key"], lines["pos:THHAND0004:1"]["line_amount"]) == (
        "pos:XSHAND0001", Decimal("-50.00"))  # fmt: skip

    # (4) the day's data tests (the staging views' line and status rules live on these tables, limited to
    # the rows the build wrote) flag the one bad line of the day: its receipt type 赠品 is unmapped, so the
    # line's source_status and its order's order_status are `unknown`, one row each; every other test passes.
    outcomes = day_tests(*TABLES)
    assert outcomes.pop("pos_receipt_type_en_accepted_values") == ("warn", 1), outcomes
    assert outcomes.pop(("int_orders_unioned", "order_status", "accepted_values")) == ("warn", 1), outcomes
    assert outcomes and all(outcome == ("pass", 0) for outcome in outcomes.values()), outcomes
    assert {"jd_sku_id_not_null", "jd_order_status_en_accepted_values", "tmall_order_status_en_accepted_values",
            "wechat_pay_trade_state_en_accepted_values"} <= set(outcomes)  # fmt: skip

    # (1) both tables equal a full rebuild.
    dbt_run("--select", *TABLES, "--full-refresh")
    rebuilt = snapshot(data_dir)
    for table, (key, _) in TABLES.items():  # _built_at aside: when each row was written
        pd.testing.assert_frame_equal(
            second[table].drop(columns="_built_at").sort_values(key).reset_index(drop=True),
            rebuilt[table].drop(columns="_built_at").sort_values(key).reset_index(drop=True),
            check_dtype=True,
        )
