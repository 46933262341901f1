"""Orders: when people buy, in which channel, what, for how much, and what happened afterwards."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from . import catalog as cat
from .ids import unique_ints, yyyymmdd
from .people import Timeline

POS, TMALL, JD, WECHAT = 0, 1, 2, 3
PRICES = np.array([p[3] for p in cat.PRODUCTS])
POPULARITY = np.array([p[4] for p in cat.PRODUCTS]) / sum(p[4] for p in cat.PRODUCTS)
POS_HOURS = np.array([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 4, 6, 8, 7, 6, 6, 7, 8, 9, 9, 7, 4, 0, 0], float)
ONLINE_HOURS = np.array([3, 2, 1, 0.5, 0.3, 0.3, 0.5, 1, 2, 3, 4, 5, 6, 5, 5, 5, 5, 5, 6, 7, 9, 10, 9, 6], float)


TMALL_CANONICAL = {
    "等待买家付款": "pending_payment", "买家已付款，等待卖家发货": "paid_not_shipped",
    "卖家已发货，等待买家确认": "shipped", "交易成功": "completed", "交易成功_partial": "partially_refunded",
    "交易关闭": "cancelled", "交易关闭_refund": "refunded",
}
JD_CANONICAL = {
    "等待出库": "paid_not_shipped", "等待确认收货": "shipped", "完成": "completed", "锁定": "locked",
    "已取消_unpaid": "cancelled", "已取消_paid": "refunded",
}


def day_weights(tl: Timeline) -> tuple[np.ndarray, np.ndarray]:
    """Relative buying intensity per day (weekends, 618, 双11, 双12, 38 节, Spring Festival) and promo flags."""
    days = pd.date_range(pd.Timestamp(tl.start), periods=tl.days, freq="D")
    w = np.ones(tl.days)
    w[days.day_of_week >= 5] *= 1.15
    md = days.month * 100 + days.day
    promo = np.zeros(tl.days, dtype=bool)
    for lo, hi, f in ((1101, 1110, 1.6), (1111, 1111, 5.0), (601, 617, 1.4), (618, 618, 3.0),
                      (1212, 1212, 2.0), (308, 308, 1.8)):
        sel = (md >= lo) & (md <= hi)
        w[sel] *= f
        promo |= sel & (f >= 1.8)
    w[(days.month == 2) & (days.day <= 15)] *= 0.7
    return w, promo


def simulate_skeleton(rng: np.random.Generator, people: pd.DataFrame, tl: Timeline) -> pd.DataFrame:
    """Organic orders: person, time (seconds since start) and channel."""
    lo = people["arrival_day"].to_numpy()
    hi = np.fmin(people["churn_day"].to_numpy(), tl.days)
    hi = np.maximum(hi, np.minimum(lo + 1.0, tl.days))
    expected = people["rate"].to_numpy() * (hi - lo) / 365.0
    n = np.maximum(1, rng.poisson(expected))
    pid = np.repeat(people["pid"].to_numpy(), n)
    w, promo = day_weights(tl)
    cdf = np.concatenate([[0.0], np.cumsum(w)])
    grid = np.arange(tl.days + 1, dtype=float)
    c_lo, c_hi = np.interp(lo[pid], grid, cdf), np.interp(hi[pid], grid, cdf)
    target = c_lo + rng.random(pid.size) * (c_hi - c_lo)
    day = np.clip(np.floor(np.interp(target, cdf, grid)).astype(np.int64), 0, tl.days - 1)
    channel = choose_channel(rng, people, pid, promo[day])
    return pd.DataFrame({"pid": pid, "t": place_in_day(rng, day, channel), "channel": channel,
                         "campaign": np.full(pid.size, -1, dtype=np.int16)})


def choose_channel(rng: np.random.Generator, people: pd.DataFrame, pid: np.ndarray,
                   promo: np.ndarray) -> np.ndarray:
    w = people[["w_pos", "w_tmall", "w_jd", "w_wechat"]].to_numpy()[pid]
    w[:, 1:3] *= np.where(promo, 2.5, 1.0)[:, None]
    cum = np.cumsum(w, axis=1)
    u = rng.random(pid.size) * cum[:, -1]
    return (u[:, None] > cum).sum(axis=1).astype(np.int8)


def place_in_day(rng: np.random.Generator, day: np.ndarray, channel: np.ndarray) -> np.ndarray:
    hour = np.where(channel == POS, rng.choice(24, size=day.size, p=POS_HOURS / POS_HOURS.sum()),
                    rng.choice(24, size=day.size, p=ONLINE_HOURS / ONLINE_HOURS.sum()))
    return day * 86400 + hour * 3600 + rng.integers(0, 3600, day.size)


@dataclass
class Orders:
    orders: pd.DataFrame  # one row per order (all channels), sorted by time
    lines: pd.DataFrame  # one row per order line (sku, qty, amounts)
    pos_returns: pd.DataFrame  # return receipts: one row per returned line
    pay_refunds: pd.DataFrame  # WeChat Pay refunds: one row per refund


def materialize(rng: np.random.Generator, skel: pd.DataFrame, people: pd.DataFrame, tl: Timeline) -> Orders:
    """Give every order its lines, money, status, ids and the identifiers printed on it."""
    o = skel.sort_values(["t", "pid"], kind="stable").reset_index(drop=True)
    n = len(o)
    pid, ch = o["pid"].to_numpy(), o["channel"].to_numpy()
    spend = people["spend"].to_numpy()[pid]
    is_member = people["is_member"].to_numpy()[pid]
    age_days = (tl.end_s + 9 * 3600 + 1 - o["t"].to_numpy()) / 86400.0  # as of the export morning
    day = o["t"].to_numpy() // 86400
    _, promo = day_weights(tl)

    # --- lines
    lam = np.select([ch == POS, ch == JD], [0.7, 0.35], 0.45) * spend
    n_lines = np.minimum(1 + rng.poisson(lam), np.where(ch == POS, 6, 4))
    li_order = np.repeat(np.arange(n), n_lines)
    sku = rng.choice(len(cat.PRODUCTS), size=li_order.size, p=POPULARITY)
    qty = np.minimum(1 + rng.poisson(0.2 * spend[li_order]), 5)
    line_gross = PRICES[sku] * qty

    # --- POS display of identifiers and member discount
    card_shown = (ch == POS) & is_member & (rng.random(n) < 0.9)
    u = rng.random(n)
    phone_kind = np.zeros(n, dtype=np.int8)  # 0 empty, 1 real phone, 2 placeholder, 3 store's own number
    mem_card = card_shown
    # a cashier sometimes types a placeholder or the store's own number next to a scanned card: such numbers
    # then sit beside many unrelated cards (identity must treat them as hubs, not link through them)
    phone_kind[mem_card] = np.select([u[mem_card] < 0.45, u[mem_card] < 0.52, u[mem_card] < 0.55], [1, 2, 3], 0)
    mem_nocard = (ch == POS) & is_member & ~card_shown
    phone_kind[mem_nocard] = np.where(u[mem_nocard] < 0.8, 1, 0)
    walk = (ch == POS) & ~is_member
    phone_kind[walk] = np.select([u[walk] < 0.15, u[walk] < 0.30, u[walk] < 0.36], [1, 2, 3], 0)
    store = np.where(rng.random(n) < 0.85, people["home_store"].to_numpy()[pid],
                     rng.choice(len(cat.STORES), size=n, p=np.array(cat.STORE_WEIGHTS) / sum(cat.STORE_WEIGHTS)))
    placeholder = np.array(cat.PLACEHOLDER_PHONES, dtype=object)[
        rng.choice(len(cat.PLACEHOLDER_PHONES), size=n, p=cat.PLACEHOLDER_WEIGHTS)]

    disc_rate = np.where(card_shown, 0.05, 0.0) + np.where(promo[day], 0.10, 0.0)
    disc_rate = np.where(ch == POS, disc_rate, 0.0)
    line_disc = np.round(line_gross * disc_rate[li_order], 2)
    line_paid = np.round(line_gross - line_disc, 2)
    goods = np.bincount(li_order, line_gross, minlength=n)
    pos_paid = np.round(np.bincount(li_order, line_paid, minlength=n), 2)
    qty_total = np.bincount(li_order, qty, minlength=n).astype(np.int64)

    # --- marketplace / mini-program money
    mkt_disc = np.where(promo[day], np.floor(goods * 0.12), np.where(rng.random(n) < 0.2, 10.0, 0.0))
    mkt_disc = np.minimum(mkt_disc, np.floor(goods * 0.3))
    tm_goods = goods - mkt_disc
    tm_ship = np.where(tm_goods >= 59, 0.0, 8.0)
    tm_total = tm_goods + tm_ship
    jd_payable = goods - mkt_disc + np.where(goods - mkt_disc >= 99, 0.0, 6.0)
    jd_settle = np.round(jd_payable * 0.92, 2)
    wx_order_amount = np.round(goods * np.where(is_member, 0.95, 1.0), 2)
    wx_coupon = np.where(rng.random(n) < 0.05, rng.choice([5.0, 10.0, 20.0], n), 0.0)
    wx_coupon = np.minimum(wx_coupon, np.floor(wx_order_amount / 2))

    status, native, gross, refund, paid_at, done_at, close_reason = _statuses(
        rng, ch, age_days, o["t"].to_numpy(), tl, pos_paid, tm_total, jd_payable, wx_order_amount)

    # --- POS returns (separate receipts pointing at the original)
    _, ret_lines, ret_t = _pos_returns(rng, ch, o["t"].to_numpy(), tl, li_order, n_lines)
    if ret_lines.size:
        ret_amount = np.bincount(li_order[ret_lines], line_paid[ret_lines], minlength=n)
        refund = np.where(ch == POS, np.round(ret_amount, 2), refund)
        full = (ch == POS) & (np.abs(refund - gross) < 0.005) & (gross > 0)
        part = (ch == POS) & (refund > 0) & ~full
        status = np.where(full, "refunded", np.where(part, "partially_refunded", status))

    # --- WeChat Pay refunds
    wx_ref = (ch == WECHAT) & (status == "refunded") | (ch == WECHAT) & (status == "partially_refunded")
    wx_ref_idx = np.flatnonzero(wx_ref)
    ref_t = o["t"].to_numpy()[wx_ref_idx] + rng.integers(3600, 10 * 86400, wx_ref_idx.size)
    ref_t = np.minimum(ref_t, tl.end_s - 60)
    ref_t = np.maximum(ref_t, o["t"].to_numpy()[wx_ref_idx] + 60)

    # --- ids
    ids = np.full(n, "", dtype=object)
    store_num = store.astype(np.int64) + 1
    dates = yyyymmdd(tl.to_dt(o["t"].to_numpy()))
    is_pos = ch == POS
    seq = pd.Series(np.arange(n))[is_pos].groupby([dates[is_pos], store[is_pos]]).cumcount().to_numpy() + 1
    ids[is_pos] = ("XS" + dates[is_pos] + pd.Series(store_num[is_pos]).astype(str).str.zfill(3).to_numpy(object)
                   + pd.Series(seq).astype(str).str.zfill(4).to_numpy(object))
    for code, lo, hi in ((TMALL, 2_000_000_000_000_000_000, 4_600_000_000_000_000_000),
                         (JD, 250_000_000_000, 340_000_000_000)):
        sel = ch == code
        ids[sel] = unique_ints(rng, int(sel.sum()), lo, hi).astype(str)
    sel = ch == WECHAT
    ids[sel] = "MG" + dates[sel] + unique_ints(rng, int(sel.sum()), 10**9, 10**10).astype(str)
    txn = np.full(n, "", dtype=object)
    txn[sel] = "42000" + rng.integers(10**4, 10**5, int(sel.sum())).astype(str) + dates[sel] + \
        unique_ints(rng, int(sel.sum()), 10**9, 10**10).astype(str)

    shop = np.full(n, "", dtype=object)
    shop[is_pos] = np.array([s[1] for s in cat.STORES], dtype=object)[store[is_pos]]
    shop[ch == TMALL] = cat.TMALL_SHOP
    jd_sel = ch == JD
    shop[jd_sel] = np.array(cat.JD_SHOPS, dtype=object)[people["jd_shop"].to_numpy()[pid[jd_sel]]]
    shop[ch == WECHAT] = "沐光会员商城小程序"

    orders = o.assign(
        order_id=ids, status=status, native_status=native, gross_amount=np.round(gross, 2), refund_amount=np.round(refund, 2),
        paid_at=paid_at, done_at=done_at, close_reason=close_reason, store=store, shop=shop,
        card_shown=card_shown, phone_kind=phone_kind, placeholder=placeholder, goods=goods,
        pos_discount=np.round(goods - pos_paid, 2), pos_paid=pos_paid, qty_total=qty_total,
        n_lines=n_lines, first_sku=sku[np.cumsum(n_lines) - n_lines], tm_goods=tm_goods, tm_ship=tm_ship,
        tm_total=tm_total, jd_payable=jd_payable, jd_settle=jd_settle, wx_amount=wx_order_amount,
        wx_coupon=wx_coupon, transaction_id=txn, cashier_idx=rng.integers(0, len(cat.CASHIERS), n),
        pay_method=rng.choice(5, size=n, p=[0.52, 0.28, 0.06, 0.09, 0.05]),
        message_idx=rng.integers(0, len(cat.BUYER_MESSAGES), n),
    )
    orders["net_amount"] = np.round(orders["gross_amount"] - orders["refund_amount"], 2)
    orders["is_purchase"] = (orders["gross_amount"] > 0) & (orders["net_amount"] > 0.004)
    lines = pd.DataFrame({"order": li_order, "sku": sku, "qty": qty, "gross": line_gross,
                          "discount": line_disc, "paid": line_paid})
    returns = pd.DataFrame({"order": li_order[ret_lines], "line": ret_lines, "t": ret_t})
    pay_refunds = pd.DataFrame({"order": wx_ref_idx, "t": ref_t,
                                "amount": orders["refund_amount"].to_numpy()[wx_ref_idx]})
    return Orders(orders=orders, lines=lines, pos_returns=returns, pay_refunds=pay_refunds)


def _statuses(rng, ch, age, t, tl, pos_paid, tm_total, jd_payable, wx_amount):
    n = ch.size
    u = rng.random(n)
    status = np.full(n, "", dtype=object)
    native = np.full(n, "", dtype=object)
    gross = np.zeros(n)
    refund = np.zeros(n)
    paid_at = t + rng.integers(5, 900, n)
    done_at = np.full(n, -1, dtype=np.int64)
    close = np.full(n, "", dtype=object)

    # POS: a sale is paid at the till (returns are applied afterwards)
    pos = ch == POS
    status[pos] = "completed"
    native[pos] = "销售"
    gross[pos] = pos_paid[pos]
    paid_at[pos] = t[pos]

    # Tmall
    tm = ch == TMALL
    fresh, recent = age < 1.6, (age >= 1.6) & (age < 12)
    s_tm = np.where(fresh, np.select([u < 0.2, u < 0.6], ["等待买家付款", "买家已付款，等待卖家发货"],
                                     "卖家已发货，等待买家确认"),
                    np.where(recent, np.select([u < 0.04, u < 0.06], ["交易关闭", "交易关闭_refund"],
                                               np.where(u < 0.7, "卖家已发货，等待买家确认", "交易成功")),
                             np.select([u < 0.05, u < 0.075, u < 0.10], ["交易关闭", "交易关闭_refund",
                                                                        "交易成功_partial"], "交易成功")))
    unpaid = tm & np.isin(s_tm, ["等待买家付款", "交易关闭"])
    gross[tm & ~unpaid] = tm_total[tm & ~unpaid]
    full_ref = tm & (s_tm == "交易关闭_refund")
    refund[full_ref] = gross[full_ref]
    part = tm & (s_tm == "交易成功_partial")
    refund[part] = np.maximum(1.0, np.floor(gross[part] * rng.uniform(0.15, 0.6, n)[part]))
    close[tm & (s_tm == "交易关闭")] = np.where(rng.random(n) < 0.5, "买家取消订单", "超时未付款，交易自动关闭")[
        tm & (s_tm == "交易关闭")]
    close[full_ref] = "退款成功"
    native[tm] = pd.Series(s_tm[tm]).str.replace(r"_(refund|partial)$", "", regex=True).to_numpy(object)
    status[tm] = pd.Series(s_tm[tm]).map(TMALL_CANONICAL).to_numpy(object)
    paid_at[unpaid] = -1
    done_at[tm & (native == "交易成功")] = np.minimum(t + rng.integers(3, 10, n) * 86400, tl.end_s)[
        tm & (native == "交易成功")]

    # JD
    jd = ch == JD
    s_jd = np.where(age < 1.6, np.select([u < 0.05, u < 0.1], ["锁定", "已取消_unpaid"], "等待出库"),
                    np.where(age < 8, np.select([u < 0.05, u < 0.8], ["已取消_paid", "等待确认收货"], "完成"),
                             np.select([u < 0.03, u < 0.06, u < 0.064], ["已取消_unpaid", "已取消_paid", "锁定"],
                                       "完成")))
    unpaid_jd = jd & (s_jd == "已取消_unpaid")
    gross[jd & ~unpaid_jd] = jd_payable[jd & ~unpaid_jd]
    cancel_paid = jd & (s_jd == "已取消_paid")
    refund[cancel_paid] = gross[cancel_paid]
    native[jd] = pd.Series(s_jd[jd]).str.replace(r"_(paid|unpaid)$", "", regex=True).to_numpy(object)
    status[jd] = pd.Series(s_jd[jd]).map(JD_CANONICAL).to_numpy(object)
    paid_at[unpaid_jd] = -1
    done_jd = jd & (native == "完成")
    done_at[done_jd] = np.minimum(t + rng.integers(2, 8, n) * 86400 + rng.integers(0, 86400, n), tl.end_s)[done_jd]

    # WeChat mini-program (WeChat Pay): SUCCESS, REVOKED, or refunded later
    wx = ch == WECHAT
    s_wx = np.select([u < 0.015, u < 0.03, u < 0.05], ["revoked", "refunded", "partially_refunded"], "completed")
    s_wx = np.where(age < 0.5, np.where(s_wx == "revoked", "revoked", "completed"), s_wx)
    status[wx] = s_wx[wx]
    native[wx] = np.where(s_wx == "revoked", "REVOKED", "SUCCESS")[wx]
    paid_at[wx] = t[wx]  # a mini-program order exists for the merchant once WeChat Pay confirms it
    gross[wx & (status != "revoked")] = wx_amount[wx & (status != "revoked")]
    refund[wx & (status == "refunded")] = gross[wx & (status == "refunded")]
    pr = wx & (status == "partially_refunded")
    refund[pr] = np.maximum(1.0, np.round(gross[pr] * rng.uniform(0.2, 0.6, n)[pr], 0))
    paid_at = np.where(paid_at >= 0, np.minimum(paid_at, tl.end_s), -1)
    return status, native, gross, refund, paid_at, done_at, close


def _pos_returns(rng, ch, t, tl, li_order, n_lines):
    """About 3% of POS receipts come back within 14 days: all lines, or only the first line."""
    n = ch.size
    ret_day = t // 86400 + rng.integers(1, 15, n)
    ret_t = place_in_day(rng, ret_day, np.full(n, POS))
    returned = (ch == POS) & (rng.random(n) < 0.03) & (ret_t <= tl.end_s)
    all_lines = rng.random(n) < 0.5
    first_line = np.cumsum(n_lines) - n_lines
    line_no = np.arange(li_order.size) - first_line[li_order]
    take = returned[li_order] & (all_lines[li_order] | (line_no == 0))
    lines = np.flatnonzero(take)
    return returned, lines, ret_t[li_order[lines]]
