"""Synthetic demo exports: determinism, native formats with every quirk, ground-truth consistency.

Expected values are recomputed here from the files themselves (csv module, Decimal sums, regexes),
never taken from the generator's own helpers.
"""

from __future__ import annotations

import csv
import hashlib
import io
import os
import re
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pytest
from python_calamine import CalamineWorkbook

from core.paths import SOURCES
from demo.generator import GenerateSummary, generate
from demo.generator.__main__ import main

# GEN_TEST_PEOPLE / GEN_TEST_SEED let you run the same checks on the default demo (5000 people, seed 42).
PEOPLE = int(os.environ.get("GEN_TEST_PEOPLE", "300"))
SEED = int(os.environ.get("GEN_TEST_SEED", "11"))
FW = str.maketrans("０１２３４５６７８９", "0123456789")
PAY_HEADER = ("交易时间,公众账号ID,商户号,特约商户号,设备号,微信订单号,商户订单号,用户标识,交易类型,交易状态,付款银行,"
              "货币种类,应结订单金额,代金券金额,微信退款单号,商户退款单号,退款金额,充值券退款金额,退款类型,退款状态,"
              "商品名称,商户数据包,手续费,费率,订单金额,申请退款金额,费率备注")
PAY_SUMMARY = "总交易单数,应结订单总金额,退款总金额,充值券退款总金额,手续费总金额,订单总金额,申请退款总金额"
PLACEHOLDERS = {"13800000000", "13888888888", "11111111111"}


@pytest.fixture(scope="module")
def gen(tmp_path_factory) -> GenerateSummary:
    return generate(tmp_path_factory.mktemp("gen") / "demo", people=PEOPLE, seed=SEED)


@pytest.fixture(scope="module")
def truth(gen) -> dict[str, pd.DataFrame]:
    gt = gen.out_dir / "ground_truth"
    return {p.stem: pd.read_parquet(p) for p in gt.glob("*.parquet")}


def decode(path: Path) -> str:
    raw = path.read_bytes()
    if raw.startswith(b"\xef\xbb\xbf"):
        return raw[3:].decode("utf-8")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("gb18030")


def rows_of(path: Path) -> list[list[str]]:
    """All rows of a landing file as text cells (xlsx cells stringified)."""
    if path.suffix == ".xlsx":
        sheet = CalamineWorkbook.from_path(str(path)).get_sheet_by_index(0).to_python()
        return [["" if c is None else str(c) for c in r] for r in sheet]
    return list(csv.reader(io.StringIO(decode(path))))


def table(path: Path, first_header: str) -> tuple[list[str], list[list[str]]]:
    """Header and data rows (title rows above, total and blank rows below dropped)."""
    rows = rows_of(path)
    h = next(i for i, r in enumerate(rows) if r and r[0].lstrip("\ufeff") == first_header)
    data = [r for r in rows[h + 1:] if any(c.strip() for c in r) and r[0] not in ("合计", "总计")]
    return rows[h], data


def clean_id(cell: str) -> str:
    return cell.strip().lstrip("'").removeprefix('="').removesuffix('"').strip()


def files(gen: GenerateSummary, source: str, suffix: str | None = None) -> list[Path]:
    out = sorted((gen.out_dir / "landing" / source).iterdir())
    return [p for p in out if suffix is None or p.suffix == suffix]


def tree_hashes(root: Path) -> dict[str, str]:
    return {p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


# --- determinism and layout -----------------------------------------------------------------------------

def test_same_seed_gives_identical_bytes(gen, tmp_path):
    again = generate(tmp_path / "again", people=PEOPLE, seed=SEED)
    first, second = tree_hashes(gen.out_dir), tree_hashes(again.out_dir)
    assert first == second
    assert any(name.endswith(".xlsx") for name in first)  # xlsx metadata must not carry wall-clock time


def test_different_seed_gives_different_files(tmp_path):
    a = tree_hashes(generate(tmp_path / "a", people=60, seed=1, years=0.25).out_dir / "landing")
    b = tree_hashes(generate(tmp_path / "b", people=60, seed=2, years=0.25).out_dir / "landing")
    common = a.keys() & b.keys()
    assert len(common) >= 10
    assert all(a[k] != b[k] for k in common)


def test_every_source_gets_files_and_truth_sits_beside_landing(gen):
    for source in SOURCES:
        on_disk = sorted(p.name for p in files(gen, source))
        assert on_disk, source
        assert sorted(gen.files[source]) == on_disk
        assert gen.rows[source] > 0
    assert (gen.out_dir / "ground_truth" / "orders.parquet").is_file()
    assert not list((gen.out_dir / "landing").rglob("*.parquet"))


def test_rerun_overwrites_and_removes_only_its_own_stale_files(tmp_path):
    out = tmp_path / "d"
    generate(out, people=40, seed=3, years=0.25)
    stale = out / "landing" / "pos" / "pos_sales_1999-01.csv"
    stale.write_text("old", encoding="utf-8")
    foreign = out / "landing" / "pos" / "merchant_upload.csv"
    foreign.write_text("keep me", encoding="utf-8")
    generate(out, people=40, seed=3, years=0.25)
    assert not stale.exists()
    assert foreign.read_text(encoding="utf-8") == "keep me"


def day_of(cell: str) -> str:
    """YYYY-MM-DD of a time cell in any export's style (2026-10-31 ..., 2026/10/31 ..., 2026年10月31日 ...)."""
    found = re.match(r"(\d{4})\D(\d{1,2})\D(\d{1,2})", cell.translate(FW).strip())
    assert found, cell
    year, month, day = (int(part) for part in found.groups())
    return f"{year:04d}-{month:02d}-{day:02d}"


def test_daily_days_write_the_last_days_one_file_per_order_channel(tmp_path):
    """The same simulation written with daily_days=2: the last two days' rows of each order channel move
    from the month's file into one file per day, dated in the name, holding that day's rows only."""
    monthly = generate(tmp_path / "monthly", people=400, seed=7, years=0.25)
    daily = generate(tmp_path / "daily", people=400, seed=7, years=0.25, daily_days=2)
    first_cells = {"pos": ("单据号",), "tmall": ("订单编号", "订单号"), "jd": ("订单号",)}  # tmall: by version
    time_columns = {"pos": "销售时间", "tmall": "订单创建时间", "jd": "下单时间"}
    for source, prefix in (("pos", "pos_sales_"), ("tmall", "tmall_orders_"), ("jd", "jd_orders_")):
        day_files = {p.name for p in files(daily, source)} - {p.name for p in files(monthly, source)}
        assert day_files <= {f"{prefix}2026-10-30.csv", f"{prefix}2026-10-31.csv"}, day_files
        assert day_files, source  # 400 people buy in every channel in two days
        def read(path: Path, source: str = source) -> tuple[list[str], list[list[str]]]:
            names = [cell for row in rows_of(path)[:4] for cell in row[:1]]
            return table(path, next(first for first in first_cells[source] if first in names))

        monthly_rows = {p.name: read(p) for p in files(monthly, source)}
        daily_rows = {p.name: read(p) for p in files(daily, source)}
        assert sum(len(rows) for _, rows in monthly_rows.values()) == \
            sum(len(rows) for _, rows in daily_rows.values())  # fmt: skip
        for name in day_files:
            header, rows = daily_rows[name]
            column = header.index(time_columns[source])
            day = name.removeprefix(prefix).removesuffix(".csv")
            assert rows and all(day_of(row[column]) == day for row in rows), name
        (month_file,) = [name for name in daily_rows if name.startswith(f"{prefix}2026-10.")]  # csv or xlsx
        header, rows = daily_rows[month_file]
        column = header.index(time_columns[source])
        assert all(day_of(row[column]) < "2026-10-30" for row in rows)  # the month's file stops before them
    assert daily.rows == monthly.rows
    pay_days = {p.name for p in files(daily, "wechat_pay")} - {p.name for p in files(monthly, "wechat_pay")}
    assert pay_days and all(name.endswith(("_2026-10-30.csv", "_2026-10-31.csv")) for name in pay_days)


def test_bad_arguments_are_refused(tmp_path):
    with pytest.raises(ValueError, match="people"):
        generate(tmp_path, people=0)


def test_cli_writes_demo(tmp_path, capsys):
    assert main(["--people", "30", "--seed", "5", "--years", "0.25", "--out", str(tmp_path / "cli")]) == 0
    assert "wrote" in capsys.readouterr().out
    assert list((tmp_path / "cli" / "landing" / "touches").glob("*.csv"))


# --- encodings and containers ---------------------------------------------------------------------------

def test_gbk_exports_are_gbk_not_utf8(gen):
    gbk = [p for p in files(gen, "pos", ".csv") + files(gen, "tmall", ".csv") + files(gen, "jd", ".csv")
           if not p.read_bytes().startswith(b"\xef\xbb\xbf")]
    assert len(gbk) >= 10
    for p in gbk:
        raw = p.read_bytes()
        with pytest.raises(UnicodeDecodeError):
            raw.decode("utf-8")
        assert "订单" in raw.decode("gb18030") or "销售" in raw.decode("gb18030")
    assert "销售明细报表" in files(gen, "pos", ".csv")[0].read_bytes().decode("gb18030")


def test_bom_and_plain_utf8(gen):
    members_csv = files(gen, "wechat_members", ".csv")
    assert members_csv and all(p.read_bytes().startswith(b"\xef\xbb\xbf") for p in members_csv)
    assert any(p.read_bytes().startswith(b"\xef\xbb\xbf") for p in files(gen, "tmall", ".csv"))
    for p in files(gen, "touches") + files(gen, "wechat_pay"):
        raw = p.read_bytes()
        assert not raw.startswith(b"\xef\xbb\xbf")
        raw.decode("utf-8")


def test_xlsx_exports_with_real_date_cells(gen):
    for source in ("pos", "tmall", "wechat_members"):
        assert files(gen, source, ".xlsx"), source
    sheet = CalamineWorkbook.from_path(str(files(gen, "pos", ".xlsx")[0])).get_sheet_by_index(0).to_python()
    header_at = next(i for i, r in enumerate(sheet) if r[0] == "单据号")
    assert header_at >= 1  # title rows above the header
    assert isinstance(sheet[header_at + 1][6], datetime)  # 销售时间 is an Excel date serial
    assert sheet[-1][0] == "合计"


# --- quirks ---------------------------------------------------------------------------------------------

def test_title_total_and_blank_rows(gen):
    text = decode(files(gen, "pos", ".csv")[0])
    lines = text.split("\r\n")
    assert lines[0] == "销售明细报表" and lines[1].startswith("导出时间：")
    assert lines[-4].startswith(("合计", "总计"))
    assert lines[-3].strip(",") == "" and lines[-2] == "" and lines[-1] == ""
    assert any(decode(p).split("\r\n")[0] == "订单报表" for p in files(gen, "tmall", ".csv"))


def test_long_ids_written_as_text_markers(gen):
    tm = "".join(decode(p) for p in files(gen, "tmall", ".csv"))
    jd = "".join(decode(p) for p in files(gen, "jd", ".csv"))
    assert re.search(r'(?m)^="\d{19}",', tm)
    assert re.search(r"(?m)^\t\d{19},", tm)
    assert re.search(r"(?m)^\t\d{12},", jd)
    assert re.search(r"(?m)^'\d{12},", jd)
    assert re.search(r'(?m)^="\d{12}",', jd)


def test_destroyed_ids_in_exactly_one_file_and_in_truth(gen, truth):
    pattern = re.compile(r"(?m)^(\d\.\d{1,5}E\+\d{2}),")
    hits = {p.name: pattern.findall(decode(p)) for p in files(gen, "tmall", ".csv")}
    hits = {k: v for k, v in hits.items() if v}
    assert len(hits) == 1
    cells = next(iter(hits.values()))
    orders = truth["orders"]
    destroyed = orders[orders["id_destroyed"]]
    assert len(destroyed) == len(cells) == gen.destroyed_ids >= 1
    assert set(destroyed["channel"]) == {"tmall"}
    for order_id in destroyed["order_id"]:
        assert any(abs(float(c) - int(order_id)) / int(order_id) < 1e-5 for c in cells)


def test_marketplaces_mask_buyers_in_newer_exports(gen):
    newest_tm = files(gen, "tmall", ".csv")[-1]
    header, data = table(newest_tm, "订单编号")
    assert "OAID" in header
    nick, phone = header.index("买家会员名"), header.index("联系手机")
    assert all(re.fullmatch(r".\*\*.", r[nick]) for r in data)
    assert all(re.fullmatch(r"1\d\d\*{4}\d{4}", r[phone]) for r in data)
    oldest_tm = files(gen, "tmall", ".csv")[0]
    header, data = table(oldest_tm, "订单编号")
    assert "OAID" not in header
    assert all(re.fullmatch(r"1\d{10}", r[header.index("联系手机")]) for r in data)
    header, data = table(files(gen, "jd", ".csv")[-1], "订单号")
    assert all("***" in r[header.index("下单帐号")] for r in data)
    assert all(re.fullmatch(r"1\d\d\*{4}\d{4}", r[header.index("联系电话")]) for r in data)


def test_pos_placeholders_even_beside_member_cards(gen, truth):
    with_card_and_placeholder = 0
    seen = set()
    store_phones = set(truth["placeholder_phones"].query("kind == 'store_phone'")["value"])
    for p in files(gen, "pos"):
        header, data = table(p, "单据号")
        ph = next(i for i, h in enumerate(header) if h in ("会员手机号", "手机号", "会员手机"))
        card = header.index("会员卡号")
        for r in data:
            if r[ph] in PLACEHOLDERS | store_phones:
                seen.add(r[ph])
                with_card_and_placeholder += bool(r[card])
    assert PLACEHOLDERS <= seen
    assert seen & store_phones
    assert with_card_and_placeholder >= 1
    idents = set(truth["identifiers"].query("identifier_type == 'phone'")["identifier_value"])
    assert not idents & (PLACEHOLDERS | store_phones)
    assert set(truth["placeholder_phones"]["value"]) == PLACEHOLDERS | store_phones


def test_header_alias_drift_applies_to_whole_files(gen):
    pos_headers = [table(p, "单据号")[0] for p in files(gen, "pos")]
    assert {h[8] for h in pos_headers} == {"会员手机号", "手机号", "会员手机"}
    assert {h[14] for h in pos_headers} == {"实收金额", "实付金额"}
    tm_ids = {rows_of(p)[0][0].lstrip("\ufeff") for p in files(gen, "tmall") if rows_of(p)[0][0] != "订单报表"}
    assert tm_ids == {"订单编号", "订单号"}
    member_headers = {tuple(rows_of(p)[0]) for p in files(gen, "wechat_members")}
    phone_cols = {h for hs in member_headers for h in hs if h in ("手机号", "绑定手机")}
    assert phone_cols == {"手机号", "绑定手机"}
    assert any("appid" in hs for hs in member_headers) and any("appid" not in hs for hs in member_headers)


def test_money_time_and_phone_shapes(gen):
    pos = "".join(decode(p) for p in files(gen, "pos", ".csv"))
    tm = "".join(decode(p) for p in files(gen, "tmall", ".csv"))
    members = "".join(decode(p) for p in files(gen, "wechat_members", ".csv"))
    assert re.search(r"￥\d{1,3}(,\d{3})*\.\d{2}", pos)
    assert re.search(r"¥\d{1,3}(,\d{3})*\.\d{2}", tm)
    assert re.search(r'"\d{1,3},\d{3}(\.\d{1,2})?"', pos)  # 1,299.5 quoted because of the comma
    assert re.search(r",-\d+(\.\d+)?,", pos)  # negative amounts on returns
    assert re.search(r"[０-９]+", pos)  # full-width digits in a few money cells
    assert re.search(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}", pos)
    assert re.search(r"\d{4}/\d{1,2}/\d{1,2} \d{1,2}:\d{2}", pos)
    assert re.search(r"\d{4}年\d{1,2}月\d{1,2}日 \d{2}:\d{2}", pos)
    assert re.search(r"\+86 1\d\d \d{4} \d{4}", members)
    assert re.search(r"1\d\d-\d{4}-\d{4}", members)
    assert re.search(r"86-1\d{10}", members)
    assert re.search(r"１[０-９]{10}", members)


def test_pos_returns_point_at_original_receipts(gen):
    sales, returns = set(), []
    for p in files(gen, "pos"):
        header, data = table(p, "单据号")
        for r in data:
            if r[1] == "销售":
                sales.add(r[0])
            else:
                returns.append((r, header))
    assert returns
    for r, header in returns:
        assert r[1] == "退货"
        assert r[2] in sales
        qty = float(r[11].translate(FW))
        paid = r[14].translate(FW).replace("￥", "").replace(",", "")
        assert qty < 0 and float(paid) < 0


def test_wechat_pay_bills_reconcile(gen):
    states: set[str] = set()
    for p in files(gen, "wechat_pay"):
        lines = decode(p).split("\r\n")
        assert lines[0] == PAY_HEADER
        at = lines.index(PAY_SUMMARY)
        details = [next(csv.reader([ln])) for ln in lines[1:at]]
        summary = next(csv.reader([lines[at + 1]]))
        assert all(c.startswith("`") for row in details for c in row)
        assert all(c.startswith("`") for c in summary)
        rows = [[c[1:] for c in row] for row in details]
        states |= {r[9] for r in rows}
        assert int(summary[0][1:]) == len(rows)
        for col, s in ((12, 1), (16, 2), (17, 3), (22, 4), (24, 5), (25, 6)):
            assert sum(Decimal(r[col]) for r in rows) == Decimal(summary[s][1:]), (p.name, col)
    assert states == {"SUCCESS", "REFUND", "REVOKED"}


def test_wechat_pay_refunds_and_openids(gen, truth):
    paid, refunds, payer = set(), [], {}
    for p in files(gen, "wechat_pay"):
        lines = decode(p).split("\r\n")
        at = lines.index(PAY_SUMMARY)
        for ln in lines[1:at]:
            r = [c[1:] for c in next(csv.reader([ln]))]
            payer[r[6]] = r[7]
            if r[9] == "SUCCESS":
                paid.add(r[6])
            elif r[9] == "REFUND":
                refunds.append(r)
    assert refunds and all(r[6] in paid and Decimal(r[16]) > 0 for r in refunds)
    people = truth["people"].set_index("person_id")
    wx = truth["orders"].query("channel == 'wechat'")
    assert set(wx["order_id"]) == set(payer)
    assert all(payer[o] == people.at[pid, "openid"] for o, pid in zip(wx["order_id"], wx["person_id"], strict=True))
    member_openids = set()
    for p in files(gen, "wechat_members"):
        header, data = table(p, rows_of(p)[0][0].lstrip("\ufeff"))
        member_openids |= {r[header.index("openid")] for r in data}
    assert set(payer.values()) & member_openids


def test_jd_order_money_repeats_on_every_line(gen, truth):
    by_order: dict[str, set[tuple[str, str, str]]] = {}
    lines: dict[str, int] = {}
    for p in files(gen, "jd"):
        header, data = table(p, "订单号")
        a, s, d = header.index("订单金额"), header.index("结算金额"), header.index("应付金额")
        for r in data:
            oid = clean_id(r[0])
            by_order.setdefault(oid, set()).add((r[a], r[s], r[d]))
            lines[oid] = lines.get(oid, 0) + 1
    multi = [o for o, k in lines.items() if k > 1]
    assert len(multi) >= 5
    assert all(len(by_order[o]) == 1 for o in by_order)
    jd = truth["orders"].query("channel == 'jd' and gross_amount > 0")
    payable = {o: Decimal(next(iter(v))[2]) for o, v in by_order.items()}
    assert all(payable[o] == Decimal(f"{g:.2f}") for o, g in zip(jd["order_id"], jd["gross_amount"], strict=True))
    assert set(truth["orders"].query("channel == 'jd'")["order_id"]) == set(by_order)


def test_tmall_and_jd_status_values_are_native(gen):
    tm_status, jd_status = set(), set()
    for p in files(gen, "tmall"):
        header, data = table(p, rows_of(p)[0][0].lstrip("\ufeff") if rows_of(p)[0][0] != "订单报表" else "订单编号")
        tm_status |= {r[header.index("订单状态")] for r in data}
    for p in files(gen, "jd"):
        header, data = table(p, "订单号")
        jd_status |= {r[header.index("订单状态")] for r in data}
    assert tm_status <= {"交易成功", "交易关闭", "等待买家付款", "买家已付款，等待卖家发货", "卖家已发货，等待买家确认"}
    assert {"交易成功", "交易关闭", "卖家已发货，等待买家确认"} <= tm_status
    assert jd_status <= {"完成", "已取消", "等待出库", "等待确认收货", "锁定"}
    assert {"完成", "已取消"} <= jd_status


def test_touch_logs(gen, truth):
    header = ["campaign_id", "campaign_name", "channel", "variant", "recipient_type", "recipient", "event_type",
              "event_time"]
    events = []
    for p in files(gen, "touches"):
        rows = rows_of(p)
        assert rows[0] == header
        events += rows[1:]
    ev = pd.DataFrame(events, columns=header)
    assert len(ev["campaign_id"].unique()) >= 4
    assert {"sms", "wecom"} <= set(ev["channel"]) and {"email", "app_push"} & set(ev["channel"])
    assert "opened" not in set(ev.query("channel == 'sms'")["event_type"])
    assert "" in set(ev["variant"])  # one campaign is not an A/B test
    control = ev[ev["variant"] == "control"]
    assert set(control["event_type"]) == {"holdout"}
    camp = truth["campaigns"]
    expected = camp[camp["is_control"]].set_index("campaign_id")["recipients"].to_dict()
    assert control.groupby("campaign_id").size().to_dict() == expected
    sent = ev[ev["event_type"] == "sent"].groupby(["campaign_id", "recipient"]).size()
    assert (sent >= 2).any()  # a recipient may be touched twice
    assert set(ev["recipient_type"]) <= {"phone", "openid", "unionid", "member_card", "email"}
    # the platforms' delivery and consent events (FORMATS.md): never for a holdout, fewer than the sends
    # (recipients are compared by count: each row's recipient is written in its own style)
    platform = ev[ev["event_type"].isin(["failed", "bounced", "unsubscribed", "complained"])]
    assert {"failed", "unsubscribed"} <= set(platform["event_type"])
    assert set(ev.loc[ev["event_type"] == "bounced", "channel"]) <= {"email"}
    assert "control" not in set(platform["variant"])
    sends = ev[ev["event_type"] == "sent"].groupby("campaign_id").size()
    assert (platform.groupby("campaign_id").size() < sends.reindex(platform["campaign_id"].unique())).all()


# --- ground truth ---------------------------------------------------------------------------------------

def test_orders_truth_money_and_ids(gen, truth):
    o = truth["orders"]
    assert len(o) == gen.orders
    assert ((o["gross_amount"] - o["refund_amount"] - o["net_amount"]).abs() < 0.005).all()
    assert (o["is_purchase"] == ((o["gross_amount"] > 0) & (o["net_amount"] > 0))).all()
    assert set(o["channel"]) == {"pos", "tmall", "jd", "wechat"}
    assert not o.duplicated(["channel", "order_id"]).any()
    landing_text = "".join(decode(p) for s in SOURCES for p in files(gen, s) if p.suffix == ".csv")
    landing_text += "".join(c for s in SOURCES for p in files(gen, s, ".xlsx") for r in rows_of(p) for c in r)
    kept = o[~o["id_destroyed"]]
    assert all(i in landing_text for i in kept["order_id"])
    walkins = truth["people"].query("walk_in")["person_id"]
    assert o["person_id"].isin(walkins).any()  # walk-ins are people too


def test_every_identifier_appears_in_landing(gen, truth):
    texts = [decode(p).translate(FW) for s in SOURCES for p in files(gen, s) if p.suffix == ".csv"]
    texts += ["\n".join(",".join(r) for r in rows_of(p)).translate(FW) for s in SOURCES for p in files(gen, s, ".xlsx")]
    text = "\n".join(texts)
    squeezed = re.sub(r"(?<=\d)[ -](?=\d)", "", text)
    phones = {run[-11:] for run in re.findall(r"\d{11,}", squeezed)}
    lower = text.lower()
    ident = truth["identifiers"]
    assert not ident.duplicated(["identifier_type", "identifier_value"]).any()
    assert set(ident["identifier_type"]) == {"phone", "unionid", "openid", "member_card", "tmall_nick",
                                             "tmall_oaid", "jd_account", "email"}
    for t, v in zip(ident["identifier_type"], ident["identifier_value"], strict=True):
        if t == "phone":
            assert re.fullmatch(r"1\d{10}", v) and v in phones, v
        elif t == "email":
            assert v == v.lower() and v in lower, v
        else:
            assert v in text, (t, v)
    people = truth["people"].set_index("person_id")
    for t in ("phone", "openid", "member_card"):
        sub = ident[ident["identifier_type"] == t]
        assert (people.loc[sub["person_id"], t].to_numpy() == sub["identifier_value"].to_numpy()).all()


def test_campaign_truth_matches_assignments_and_orders(truth):
    a, o, c = truth["touch_assignments"], truth["orders"], truth["campaigns"]
    purchases = o[o["is_purchase"]].groupby("person_id")["ordered_at"].apply(list).to_dict()
    window = timedelta(days=7)

    def converted(pid, t0):
        return any(t0 < t <= t0 + window for t in purchases.get(pid, []))

    recomputed = [converted(p, t) for p, t in zip(a["person_id"], a["first_touch_at"], strict=True)]
    assert recomputed == a["converted_7d"].tolist()
    for row in c.itertuples():
        g = a[(a["campaign_id"] == row.campaign_id)
              & (a["variant"].isna() if pd.isna(row.variant) else (a["variant"] == row.variant))]
        assert len(g) == row.recipients > 0
        assert row.true_conversion_rate == pytest.approx(g["converted_7d"].mean())
        assert row.window_days == 7
    ctrl = c[c["is_control"]]
    assert (ctrl["true_uplift_abs"] == 0).all() and (ctrl["designed_extra_purchase_prob"] == 0).all()
    sms = c[c["channel"] == "sms"].set_index("variant")
    assert sms.loc["B", "designed_extra_purchase_prob"] > sms.loc["A", "designed_extra_purchase_prob"] > 0
    caused = o.dropna(subset=["caused_by_campaign"])
    assert len(caused) > 0 and caused["caused_by_campaign"].isin(c["campaign_id"]).all()


def test_identity_is_linkable_by_file_evidence(gen):
    assert gen.identity_pairs_total > 200
    assert gen.identity_linkability >= 0.97


def test_newer_member_export_writes_birthdays_in_the_formats_md_forms(gen):
    # FORMATS.md: 生日 as 1990-05-17, 05-17 when the year is withheld, or empty
    newer = [p for p in files(gen, "wechat_members", ".csv") if "until" not in p.name]
    assert newer
    frame = pd.read_csv(newer[0], encoding="utf-8-sig", dtype=str, keep_default_na=False)
    cells = frame["生日"]
    full = cells.str.fullmatch(r"(19[6-9]\d|200[0-4])-\d\d-\d\d")
    month_day = cells.str.fullmatch(r"\d\d-\d\d")
    assert full.any() and month_day.any() and (cells == "").any()
    assert (full | month_day | (cells == "")).all()
