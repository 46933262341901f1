"""POS sales detail: one row per receipt line, sales and returns, monthly GBK CSV (some months XLSX)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from . import catalog as cat
from .cells import fullwidth, money, none_if_empty, phones, times, txt
from .context import XLSX_MAX_ROWS, Ctx
from .files import Table, write_csv, write_xlsx
from .ids import yyyymmdd
from .orders import POS

PAY_METHODS = np.array(["微信", "支付宝", "现金", "银行卡", "储值卡"], dtype=object)
STORE_CODES = np.array([s[0] for s in cat.STORES], dtype=object)
STORE_NAMES = np.array([s[1] for s in cat.STORES], dtype=object)
STORE_PHONES = np.array([s[3] for s in cat.STORES], dtype=object)
SKU_CODES = np.array([p[0] for p in cat.PRODUCTS], dtype=object)
SKU_NAMES = np.array([p[2] for p in cat.PRODUCTS], dtype=object)
CASHIERS = np.array(cat.CASHIERS, dtype=object)

# Three export versions: header drift applies to whole files.
VERSIONS = {
    1: {"phone": "会员手机号", "paid": "实收金额", "time": "iso", "money": "fixed", "total": "合计"},
    2: {"phone": "手机号", "paid": "实付金额", "time": "slash", "money": "comma", "total": "总计"},
    3: {"phone": "会员手机", "paid": "实收金额", "time": "cn", "money": "fwyen", "total": "合计"},
}


def pos_rows(ctx: Ctx) -> pd.DataFrame:
    """All POS rows (sale lines then return lines) with raw values, sorted by time within receipts."""
    o, li = ctx.orders.orders, ctx.orders.lines
    people = ctx.people
    is_pos = (o["channel"] == POS).to_numpy()
    sale_lines = li[is_pos[li["order"].to_numpy()]]
    oi = sale_lines["order"].to_numpy()
    rec = ctx.emitted.new_records(len(o))  # one evidence record per receipt (sale)
    sale = pd.DataFrame({
        "order": oi, "t": o["t"].to_numpy()[oi], "receipt_no": o["order_id"].to_numpy()[oi], "type": "销售",
        "orig_no": "", "sku": sale_lines["sku"].to_numpy(), "qty": sale_lines["qty"].to_numpy(),
        "gross": sale_lines["gross"].to_numpy(), "disc": sale_lines["discount"].to_numpy(),
        "paid": sale_lines["paid"].to_numpy(), "rec": rec[oi], "cashier": o["cashier_idx"].to_numpy()[oi],
    })
    r = ctx.orders.pos_returns
    if len(r):
        ro = r["order"].to_numpy()
        line = li.iloc[r["line"].to_numpy()]
        ret_rec = ctx.emitted.new_records(len(o))
        # return receipt numbers: TH + return date + store + sequence per store and day
        ret_first = pd.DataFrame({"order": ro, "t": r["t"].to_numpy()}).groupby("order", sort=True)["t"].min()
        rdates = yyyymmdd(ctx.tl.to_dt(ret_first.to_numpy()))
        rstore = o["store"].to_numpy()[ret_first.index.to_numpy()]
        seq = pd.Series(np.arange(len(ret_first))).groupby([rdates, rstore]).cumcount().to_numpy() + 1
        ret_no = pd.Series(
            "TH" + rdates + pd.Series(rstore + 1).astype(str).str.zfill(3).to_numpy(object)
            + pd.Series(seq).astype(str).str.zfill(4).to_numpy(object), index=ret_first.index)
        ret = pd.DataFrame({
            "order": ro, "t": ret_first.loc[ro].to_numpy(), "receipt_no": ret_no.loc[ro].to_numpy(),
            "type": "退货", "orig_no": o["order_id"].to_numpy()[ro], "sku": line["sku"].to_numpy(),
            "qty": -line["qty"].to_numpy(), "gross": -line["gross"].to_numpy(),
            "disc": -line["discount"].to_numpy(), "paid": -line["paid"].to_numpy(), "rec": ret_rec[ro],
            "cashier": ctx.rng.integers(0, len(cat.CASHIERS), len(ro)),
        })
        rows = pd.concat([sale, ret], ignore_index=True)
    else:
        rows = sale
    oi = rows["order"].to_numpy()
    pid = o["pid"].to_numpy()[oi]
    rows["pid"] = pid
    rows["store"] = o["store"].to_numpy()[oi]
    rows["card"] = np.where(o["card_shown"].to_numpy()[oi], people["member_card"].to_numpy()[pid], "")
    kind = o["phone_kind"].to_numpy()[oi]
    rows["phone_kind"] = kind
    rows["phone"] = np.where(kind == 1, people["phone"].to_numpy()[pid], 0)
    rows["phone_text"] = np.select([kind == 2, kind == 3], [o["placeholder"].to_numpy()[oi],
                                                          STORE_PHONES[rows["store"].to_numpy()]], "")
    rows["pay"] = PAY_METHODS[o["pay_method"].to_numpy()[oi]]
    rows["price"] = np.abs(rows["gross"].to_numpy()) / np.abs(rows["qty"].to_numpy())
    rows["month"] = ctx.month_of(rows["t"].to_numpy())
    rows["file"] = ctx.file_of(rows["t"].to_numpy())
    rows["line_no"] = np.arange(len(rows))
    return rows.sort_values(["month", "t", "receipt_no", "line_no"], kind="stable").reset_index(drop=True)


def write_pos(ctx: Ctx) -> None:
    rows = pos_rows(ctx)
    em = ctx.emitted
    em.add(rows["rec"].to_numpy(), "member_card", rows["card"].to_numpy(), rows["pid"].to_numpy())
    em.add(rows["rec"].to_numpy(), "phone", np.where(rows["phone"] > 0, rows["phone"].astype(str), ""),
           rows["pid"].to_numpy())
    nm = ctx.n_months
    sizes = rows.groupby("month").size().reindex(range(nm), fill_value=0)
    xlsx_months = {m for m in (2, nm - 7) if 0 <= m < nm and 0 < sizes[m] <= XLSX_MAX_ROWS}
    ctx.notes["pos_xlsx_months"] = sorted(xlsx_months)
    bounds = ctx.file_bounds(rows["file"].to_numpy())
    for f in range(ctx.n_files):
        part = rows.iloc[bounds[f]:bounds[f + 1]].reset_index(drop=True)
        if part.empty:
            continue
        m = ctx.file_month(f)
        version = 1 if m < nm // 3 else (2 if m < 2 * nm // 3 else 3)
        v = VERSIONS[version]
        label = ctx.file_label(f)
        header = ["单据号", "单据类型", "原单据号", "门店编码", "门店名称", "收银员", "销售时间", "会员卡号",
                  v["phone"], "商品编码", "商品名称", "数量", "单价", "折扣金额", v["paid"], "支付方式"]
        titles = ["销售明细报表", ctx.export_line(m)] if version != 2 else [
            "门店销售流水", "统计期间：{} 至 {}".format(*ctx.month_range(m)), ctx.export_line(m)]
        qty_sum, paid_sum = int(part["qty"].sum()), float(np.round(part["paid"].sum(), 2))
        if f in xlsx_months:
            name = f"pos_sales_{label}.xlsx"
            frame = pd.DataFrame({
                "a": part["receipt_no"], "b": part["type"], "c": none_if_empty(part["orig_no"]),
                "d": STORE_CODES[part["store"]], "e": STORE_NAMES[part["store"]], "f": CASHIERS[part["cashier"]],
                "g": pd.to_datetime(ctx.tl.to_dt(part["t"].to_numpy())), "h": none_if_empty(part["card"]),
                "i": none_if_empty(_phone_cells(ctx, part, allow_fullwidth=False)),
                "j": SKU_CODES[part["sku"]], "k": SKU_NAMES[part["sku"]], "l": part["qty"].astype(int),
                "m": part["price"].round(2), "n": part["disc"].round(2), "o": part["paid"].round(2),
                "p": part["pay"]})
            total = [v["total"]] + [None] * 10 + [qty_sum, None, None, paid_sum, None]
            n = write_xlsx(ctx.path("pos", name), header, frame, titles, total, "销售明细")
        else:
            name = f"pos_sales_{label}.csv"
            style = v["money"]
            paid_txt = money(part["paid"].to_numpy(), style)
            if version == 2:  # a few cells typed with full-width digits
                odd = ctx.rng.random(len(part)) < 0.004
                odd[0] = True  # every such file has at least one
                paid_txt = fullwidth(paid_txt, odd)
            cols = [part["receipt_no"], part["type"], part["orig_no"], pd.Series(STORE_CODES[part["store"]]),
                    pd.Series(STORE_NAMES[part["store"]]), pd.Series(CASHIERS[part["cashier"]]),
                    times(ctx.tl.to_dt(part["t"].to_numpy()), v["time"]), part["card"],
                    _phone_cells(ctx, part, allow_fullwidth=version == 2),
                    pd.Series(SKU_CODES[part["sku"]]), pd.Series(SKU_NAMES[part["sku"]]),
                    part["qty"].astype(str), money(part["price"].to_numpy(), style),
                    money(part["disc"].to_numpy(), style), paid_txt, part["pay"]]
            total = [v["total"]] + [""] * 10 + [str(qty_sum), "", "",
                                               str(money([paid_sum], style)[0]), ""]
            n = write_csv(ctx.path("pos", name), Table(header, cols, title_lines=titles, total_row=total), "gbk")
        ctx.record("pos", name, n)


def _phone_cells(ctx: Ctx, part: pd.DataFrame, allow_fullwidth: bool) -> pd.Series:
    """Cashier-typed phones: mostly plain, some +86 / dashes / 86- prefixes, rarely full-width digits."""
    p = [0.82, 0.06, 0.06, 0.05, 0.01] if allow_fullwidth else [0.83, 0.06, 0.06, 0.05, 0.0]
    styles = ctx.rng.choice(5, size=len(part), p=p)
    real = phones(part["phone"].to_numpy(), styles)
    return np.where(part["phone_kind"].to_numpy() == 1, real, txt(part["phone_text"]))
