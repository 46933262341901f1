"""Tmall (one row per order) and JD (one row per order line) monthly order exports."""

from __future__ import annotations

import numpy as np
import pandas as pd

from . import catalog as cat
from .cells import concat, excel_destroyed, mask_account, mask_name, masked_phones, money, times, txt
from .context import XLSX_MAX_ROWS, Ctx
from .files import Table, write_csv, write_xlsx
from .orders import JD, TMALL

SKU_NAMES = np.array([p[2] for p in cat.PRODUCTS], dtype=object)
JD_SKU_IDS = np.array([p[1] for p in cat.PRODUCTS], dtype=object)
MESSAGES = np.array(cat.BUYER_MESSAGES, dtype=object)
DESTROYED_PER_FILE = 4


def tmall_version(ctx: Ctx, m: int) -> int:
    """1: full nick + phone · 2: adds OAID, header 订单号, still full · 3: masked nick/phone with OAID."""
    return int(tmall_versions(ctx, np.array([m]))[0])


def tmall_versions(ctx: Ctx, months: np.ndarray) -> np.ndarray:
    nm = ctx.n_months
    return np.where(months >= nm - 1, 3, np.where(months >= nm - 10, 2, 1))


def write_tmall(ctx: Ctx) -> None:
    o = ctx.orders.orders
    people = ctx.people
    tm = o[(o["channel"] == TMALL).to_numpy()].reset_index(drop=True)
    pid = tm["pid"].to_numpy()
    tm["month"] = ctx.month_of(tm["t"].to_numpy())
    tm["rec"] = ctx.emitted.new_records(len(tm))
    nm = ctx.n_months
    sizes = tm.groupby("month").size().reindex(range(nm), fill_value=0)
    xlsx_month = next((m for m in (4, 5, 3, 6) if m < nm and 0 < sizes[m] <= XLSX_MAX_ROWS
                       and tmall_version(ctx, m) == 1), None)
    first_v3 = next((m for m in range(nm) if tmall_version(ctx, m) == 3 and sizes[m] > 0), None)
    destroyed = np.zeros(len(tm), dtype=bool)
    if first_v3 is not None:
        cand = np.flatnonzero(tm["month"].to_numpy() == first_v3)
        k = min(DESTROYED_PER_FILE, max(1, cand.size // 5))
        destroyed[np.sort(ctx.rng.choice(cand, size=k, replace=False))] = True
    tm["destroyed"] = destroyed
    ctx.notes["tmall_destroyed_ids"] = tm.loc[destroyed, "order_id"].tolist()
    version = tmall_versions(ctx, tm["month"].to_numpy())
    ok = ~destroyed
    full = ok & (version <= 2)
    em = ctx.emitted
    em.add(tm["rec"].to_numpy()[full], "tmall_nick", people["tmall_nick"].to_numpy()[pid[full]], pid[full])
    em.add(tm["rec"].to_numpy()[full], "phone", people["phone"].to_numpy()[pid[full]].astype(str), pid[full])
    with_oaid = ok & (version >= 2)
    em.add(tm["rec"].to_numpy()[with_oaid], "tmall_oaid", people["tmall_oaid"].to_numpy()[pid[with_oaid]],
           pid[with_oaid])

    for col in ("tmall_nick", "tmall_oaid", "phone", "name", "address"):  # person columns ride along
        tm[col] = people[col].to_numpy()[pid]
    bounds = ctx.file_bounds(ctx.file_of(tm["t"].to_numpy()))
    for f in range(ctx.n_files):
        part = tm.iloc[bounds[f]:bounds[f + 1]].reset_index(drop=True)
        if part.empty:
            continue
        m = ctx.file_month(f)
        v = tmall_version(ctx, m)
        nick = txt(part["tmall_nick"])
        phone_num = part["phone"].to_numpy()
        title = SKU_NAMES[part["first_sku"].to_numpy()] + np.where(part["n_lines"] > 1, " 等多件", "")
        created = ctx.tl.to_dt(part["t"].to_numpy())
        paid_s = part["paid_at"].to_numpy()
        paid_dt = np.where(paid_s >= 0, ctx.tl.to_dt(np.maximum(paid_s, 0)), np.datetime64("NaT"))
        paid_amount = part["gross_amount"].to_numpy()
        head_id = "订单号" if v == 2 else "订单编号"
        header = [head_id, "买家会员名"] + (["OAID"] if v >= 2 else []) + [
            "买家应付货款", "买家应付邮费", "总金额", "买家实际支付金额", "订单状态", "买家留言", "收货人姓名",
            "收货地址", "联系手机", "订单创建时间", "订单付款时间", "宝贝标题", "宝贝总数量", "店铺名称", "退款金额",
            "订单关闭原因"]
        if f == xlsx_month:
            name = f"tmall_orders_{ctx.file_label(f)}.xlsx"
            frame = pd.DataFrame({
                "id": part["order_id"], "nick": part["tmall_nick"], "goods": part["tm_goods"], "ship": part["tm_ship"],
                "total": part["tm_total"], "paid": paid_amount, "status": part["native_status"],
                "msg": MESSAGES[part["message_idx"]], "rname": part["name"],
                "addr": part["address"], "phone": phone_num.astype(str),
                "created": pd.to_datetime(created), "paid_at": pd.to_datetime(paid_dt), "title": title,
                "qty": part["qty_total"], "shop": part["shop"], "refund": part["refund_amount"],
                "close": part["close_reason"]})
            n = write_xlsx(ctx.path("tmall", name), header, frame, [], None, "订单列表")
            ctx.record("tmall", name, n)
            continue
        ids = txt(part["order_id"])
        id_cells = concat('="', ids, '"') if v in (1, 3) else concat("\t", ids)
        dmask = part["destroyed"].to_numpy()
        if dmask.any():
            id_cells[dmask] = excel_destroyed(part.loc[dmask, "order_id"].astype(np.int64).to_numpy())
        style = {1: "plain", 2: "yen", 3: "fixed"}[v]
        tstyle = {1: "iso", 2: "slash", 3: "iso"}[v]
        cols = [id_cells, nick if v <= 2 else mask_name(nick)]
        if v >= 2:
            cols.append(part["tmall_oaid"])
        cols += [money(part["tm_goods"].to_numpy(), style), money(part["tm_ship"].to_numpy(), style),
                 money(part["tm_total"].to_numpy(), style), money(paid_amount, style), part["native_status"],
                 MESSAGES[part["message_idx"]], part["name"], part["address"],
                 phone_num.astype(str) if v <= 2 else masked_phones(phone_num),
                 times(created, tstyle), times(paid_dt, tstyle), title, part["qty_total"].astype(str),
                 part["shop"], money(part["refund_amount"].to_numpy(), style), part["close_reason"]]
        titles = ["订单报表", ctx.export_line(m)] if v == 3 else []
        total = None
        if v == 3:
            total = ["总计"] + [""] * (len(header) - 1)
            total[header.index("买家实际支付金额")] = str(money([paid_amount.sum()], style)[0])
        name = f"tmall_orders_{ctx.file_label(f)}.csv"
        table = Table(header, cols, raw={0}, title_lines=titles, total_row=total)
        n = write_csv(ctx.path("tmall", name), table, "gbk" if v == 1 else "utf-8-sig")
        ctx.record("tmall", name, n)


def write_jd(ctx: Ctx) -> None:
    o, li = ctx.orders.orders, ctx.orders.lines
    people = ctx.people
    is_jd = (o["channel"] == JD).to_numpy()
    rec = ctx.emitted.new_records(len(o))
    lines = li[is_jd[li["order"].to_numpy()]].reset_index(drop=True)
    oi = lines["order"].to_numpy()
    pid = o["pid"].to_numpy()[oi]
    t = o["t"].to_numpy()[oi]
    month = ctx.month_of(t)
    nm = ctx.n_months
    masked_from = nm - 6
    full = month < masked_from
    em = ctx.emitted
    em.add(rec[oi][full], "jd_account", people["jd_account"].to_numpy()[pid[full]], pid[full])
    em.add(rec[oi][full], "phone", people["phone"].to_numpy()[pid[full]].astype(str), pid[full])
    # one frame per line with everything the export shows (order-level money repeats on every line)
    jl = pd.DataFrame({"month": month, "t": t, "sku": lines["sku"].to_numpy(), "qty": lines["qty"].to_numpy()})
    for col in ("order_id", "paid_at", "done_at", "goods", "jd_settle", "jd_payable", "native_status", "shop"):
        jl[col] = o[col].to_numpy()[oi]
    for col in ("jd_account", "name", "address", "phone"):
        jl[col] = people[col].to_numpy()[pid]
    prices = np.array([p[3] for p in cat.PRODUCTS])
    header = ["订单号", "商品ID", "商品名称", "订购数量", "支付方式", "下单时间", "京东价", "订单金额", "结算金额",
              "应付金额", "订单状态", "订单类型", "下单帐号", "客户姓名", "客户地址", "联系电话", "付款确认时间",
              "订单完成时间", "店铺名称"]
    bounds = ctx.file_bounds(ctx.file_of(t))
    for f in range(ctx.n_files):
        part = jl.iloc[bounds[f]:bounds[f + 1]].reset_index(drop=True)
        if part.empty:
            continue
        m = ctx.file_month(f)
        k = len(part)
        masked = m >= masked_from
        ids = txt(part["order_id"])
        # ids: ="…" in the newer export, a leading tab or apostrophe (Excel's text markers) in older ones
        id_cells = concat('="', ids, '"') if masked else concat("'" if m < nm // 3 else "\t", ids)
        phone_num = part["phone"].to_numpy()
        ps, ds = part["paid_at"].to_numpy(), part["done_at"].to_numpy()
        paid_dt = np.where(ps >= 0, ctx.tl.to_dt(np.maximum(ps, 0)), np.datetime64("NaT"))
        done_dt = np.where(ds >= 0, ctx.tl.to_dt(np.maximum(ds, 0)), np.datetime64("NaT"))
        sku = part["sku"].to_numpy()
        cols = [id_cells, JD_SKU_IDS[sku], SKU_NAMES[sku], part["qty"].to_numpy().astype(str),
                np.full(k, "在线支付", dtype=object), times(ctx.tl.to_dt(part["t"].to_numpy()), "iso"),
                money(prices[sku], "fixed"), money(part["goods"].to_numpy(), "fixed"),
                money(part["jd_settle"].to_numpy(), "fixed"), money(part["jd_payable"].to_numpy(), "fixed"),
                part["native_status"], np.full(k, "普通订单", dtype=object),
                mask_account(part["jd_account"]) if masked else part["jd_account"], part["name"], part["address"],
                masked_phones(phone_num) if masked else phone_num.astype(str),
                times(paid_dt, "iso"), times(done_dt, "iso"), part["shop"]]
        name = f"jd_orders_{ctx.file_label(f)}.csv"
        n = write_csv(ctx.path("jd", name), Table(header, cols, raw={0}, blank_trailing=1),
                      "utf-8-sig" if masked else "gbk")
        ctx.record("jd", name, n)
