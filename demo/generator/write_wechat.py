"""WeChat member exports (mini-program member centre) and WeChat Pay monthly trade bills."""

from __future__ import annotations

import numpy as np
import pandas as pd

from . import catalog as cat
from .cells import money, phones, times, txt
from .context import XLSX_MAX_ROWS, Ctx
from .files import Table, join_rows, write_csv, write_xlsx
from .orders import WECHAT

PAY_HEADER = ["交易时间", "公众账号ID", "商户号", "特约商户号", "设备号", "微信订单号", "商户订单号", "用户标识", "交易类型", "交易状态", "付款银行", "货币种类", "应结订单金额", "代金券金额", "微信退款单号", "商户退款单号", "退款金额", "充值券退款金额", "退款类型", "退款状态", "商品名称", "商户数据包", "手续费", "费率", "订单金额", "申请退款金额", "费率备注"]
PAY_SUMMARY_HEADER = "总交易单数,应结订单总金额,退款总金额,充值券退款总金额,手续费总金额,订单总金额,申请退款总金额"
BANKS = np.array(["CMB_DEBIT", "ICBC_DEBIT", "CCB_CREDIT", "OTHERS", "CFT", "ABC_DEBIT"], dtype=object)
SKU_NAMES = np.array([p[2] for p in cat.PRODUCTS], dtype=object)
TAGS = np.array(cat.TAGS, dtype=object)
LEVELS = np.array(cat.MEMBER_LEVELS, dtype=object)
FEE_RATE = 0.006


def birthday_cells(pid: np.ndarray) -> pd.Series:
    """生日 cells derived from the person id alone (no draw from ctx.rng, so every other stream is unchanged):
    a day spread over the year, born 1960..2004; every 4th member withholds the year (``MM-DD``), every
    10th leaves it empty."""
    pid = pid.astype(np.int64)
    day = np.datetime64("2001-01-01") + (pid * 7919) % 365
    month_day = pd.Series(pd.to_datetime(day).strftime("%m-%d"))
    year = (1960 + (pid * 31) % 45).astype(str)
    cells = pd.Series(np.where(pid % 4 == 1, month_day, year + "-" + month_day), dtype="str")
    return cells.where(pid % 10 != 3, "")


def write_members(ctx: Ctx) -> None:
    people = ctx.people
    tl = ctx.tl
    rng = ctx.rng
    mem = people[people["is_member"].to_numpy()].reset_index(drop=True)
    n = len(mem)
    pid = mem["pid"].to_numpy()
    reg_s = np.round(mem["reg_day"].to_numpy() * 86400).astype(np.int64)
    unfollow_s = reg_s + (rng.random(n) * (tl.end_s - reg_s)).astype(np.int64)
    cutoff_day = tl.days - 365
    cutoff_s = cutoff_day * 86400
    value = mem["rate"].to_numpy() * mem["spend"].to_numpy()
    level = LEVELS[np.searchsorted([2.0, 5.0, 10.0], value)]
    points = np.round(value * rng.uniform(200, 400, n)).astype(np.int64)
    n_tags = rng.choice(4, size=n, p=[0.35, 0.35, 0.2, 0.1])
    tag_idx = rng.integers(0, TAGS.size, size=(n, 3))
    phone_num = np.where(mem["phone_bound"].to_numpy(), mem["phone"].to_numpy(), 0)
    email = pd.Series(mem["email"].to_numpy(), dtype="str")
    shout = rng.random(n) < 0.2  # typed with capitals
    email = email.where(~shout, email.str.upper())
    rec = ctx.emitted.new_records(n)
    em = ctx.emitted
    em.add(rec, "openid", mem["openid"].to_numpy(), pid)
    em.add(rec, "unionid", mem["unionid"].to_numpy(), pid)
    em.add(rec, "phone", np.where(phone_num > 0, phone_num.astype(str), ""), pid)
    em.add(rec, "member_card", mem["member_card"].to_numpy(), pid)
    em.add(rec, "email", mem["email"].str.lower().to_numpy(), pid)

    old = reg_s < cutoff_s
    for is_old in (True, False):
        sel = old if is_old else ~old
        if not sel.any():
            continue
        at_s = cutoff_s if is_old else tl.end_s
        unf = mem["unfollowed"].to_numpy()[sel] & (unfollow_s[sel] < at_s)
        follow = np.where(unf, "取消关注", "关注")
        unf_dt = np.where(unf, tl.to_dt(unfollow_s[sel]), np.datetime64("NaT"))
        reg_dt = tl.to_dt(reg_s[sel])
        k = n_tags[sel]
        ti = tag_idx[sel]
        sep = " " if is_old else ","
        tags = pd.Series(np.where(k >= 1, TAGS[ti[:, 0]], ""), dtype="str")
        for j in (1, 2):
            tags = tags.where(k <= j, tags + sep + TAGS[ti[:, j]])
        styles = rng.choice(5, size=int(sel.sum()), p=[0.9, 0.04, 0.02, 0.02, 0.02])
        if not is_old:  # the newer export always has a few phones typed in odd shapes
            bound = np.flatnonzero(phone_num[sel] > 0)
            styles[bound[:4]] = [1, 2, 3, 4][: min(4, bound.size)]
        phone_cells = phones(phone_num[sel], styles)
        yes = np.array(["否", "是"], dtype=object)
        sms = yes[mem["sms_consent"].to_numpy()[sel].astype(int)]
        wecom = mem["wecom_friend"].to_numpy()[sel].astype(int)
        if is_old:
            header = ["openid", "unionid", "昵称", "手机号", "邮箱", "性别", "城市", "注册时间", "关注状态", "取消关注时间",
                      "会员卡号", "会员等级", "积分", "标签", "营销短信授权", "企微好友"]
            frame = pd.DataFrame({
                "openid": mem["openid"].to_numpy()[sel], "unionid": mem["unionid"].to_numpy()[sel],
                "nick": mem["wechat_nick"].to_numpy()[sel], "phone": phone_cells.astype(object),
                "email": email[sel].to_numpy(), "gender": mem["gender"].to_numpy()[sel],
                "city": mem["city"].to_numpy()[sel], "reg": pd.to_datetime(reg_dt), "follow": follow,
                "unf": pd.to_datetime(unf_dt), "card": mem["member_card"].to_numpy()[sel],
                "level": level[sel], "points": points[sel], "tags": tags.to_numpy(), "sms": sms,
                "wecom": wecom})
            label = str((tl.start + np.timedelta64(cutoff_s - 1, "s")).astype("datetime64[D]"))
            if len(frame) <= XLSX_MAX_ROWS:
                name = f"members_until_{label}.xlsx"
                frame = frame.apply(lambda c: c.astype(object).where(c != "", None)
                                    if pd.api.types.is_string_dtype(c) or c.dtype == object else c)
                rows = write_xlsx(ctx.path("wechat_members", name), header, frame, [], None, "会员列表")
            else:
                name = f"members_until_{label}.csv"
                cols = [times(frame[c].to_numpy(), "iso") if pd.api.types.is_datetime64_any_dtype(frame[c])
                        else frame[c].astype("str") for c in frame.columns]
                rows = write_csv(ctx.path("wechat_members", name), Table(header, cols), "utf-8-sig")
        else:
            header = ["appid", "openid", "unionid", "昵称", "绑定手机", "邮箱", "性别", "城市", "注册时间", "关注状态",
                      "取消关注时间", "会员卡号", "会员等级", "积分", "标签", "营销短信授权", "企微好友", "生日"]
            m = int(sel.sum())
            cols = [pd.Series([cat.WECHAT_APP_ID] * m), pd.Series(mem["openid"].to_numpy()[sel]),
                    pd.Series(mem["unionid"].to_numpy()[sel]), pd.Series(mem["wechat_nick"].to_numpy()[sel]),
                    phone_cells, email[sel].reset_index(drop=True), pd.Series(mem["gender"].to_numpy()[sel]),
                    pd.Series(mem["city"].to_numpy()[sel]), times(reg_dt, "iso"), pd.Series(follow),
                    times(unf_dt, "iso"), pd.Series(mem["member_card"].to_numpy()[sel]), pd.Series(level[sel]),
                    pd.Series(points[sel]).astype(str), tags, pd.Series(sms), pd.Series(yes[wecom]),
                    birthday_cells(pid[sel])]
            first = str((tl.start + np.timedelta64(cutoff_s, "s")).astype("datetime64[D]"))
            last = str((tl.start + np.timedelta64(tl.end_s, "s")).astype("datetime64[D]"))
            name = f"members_{first}_{last}.csv"
            rows = write_csv(ctx.path("wechat_members", name), Table(header, cols, blank_trailing=2),
                             "utf-8-sig", newline="\n")
        ctx.record("wechat_members", name, rows)


def pay_lines(ctx: Ctx) -> pd.DataFrame:
    """One bill detail per SUCCESS / REVOKED payment and per refund, with the raw amounts."""
    o = ctx.orders.orders
    wx = o[(o["channel"] == WECHAT).to_numpy()]
    openid = ctx.people["openid"].to_numpy()[wx["pid"].to_numpy()]
    revoked = (wx["native_status"] == "REVOKED").to_numpy()
    amount = wx["wx_amount"].to_numpy()
    coupon = np.where(revoked, 0.0, wx["wx_coupon"].to_numpy())
    settle = np.where(revoked, 0.0, np.round(amount - coupon, 2))
    pay = pd.DataFrame({
        "t": wx["paid_at"].to_numpy(), "txn": wx["transaction_id"].to_numpy(), "out_no": wx["order_id"].to_numpy(),
        "openid": openid, "state": wx["native_status"].to_numpy(), "settle": settle, "coupon": coupon,
        "refund_id": "", "refund_no": "", "refund": 0.0, "refund_type": "", "refund_status": "",
        "product": SKU_NAMES[wx["first_sku"].to_numpy()], "fee": np.round(settle * FEE_RATE, 2),
        "amount": amount, "req_refund": 0.0, "pid": wx["pid"].to_numpy(),
    })
    r = ctx.orders.pay_refunds
    ro = r["order"].to_numpy()
    k = len(r)
    ref_serial = np.arange(1, k + 1)
    ref = pd.DataFrame({
        "t": r["t"].to_numpy(), "txn": o["transaction_id"].to_numpy()[ro], "out_no": o["order_id"].to_numpy()[ro],
        "openid": ctx.people["openid"].to_numpy()[o["pid"].to_numpy()[ro]], "state": "REFUND", "settle": 0.0,
        "coupon": 0.0, "refund_id": "50300" + pd.Series(ref_serial + 10**12).astype(str).to_numpy(object)
        + pd.Series(ctx.rng.integers(10**8, 10**9, k)).astype(str).to_numpy(object),
        "refund_no": np.strings.add("RF", np.strings.slice(txt(o["order_id"].to_numpy()[ro]), 2, None)),
        "refund": r["amount"].to_numpy(), "refund_type": "ORIGINAL", "refund_status": "SUCCESS",
        "product": SKU_NAMES[o["first_sku"].to_numpy()[ro]], "fee": -np.round(r["amount"].to_numpy() * FEE_RATE, 2),
        "amount": 0.0, "req_refund": r["amount"].to_numpy(), "pid": o["pid"].to_numpy()[ro],
    })
    lines = pd.concat([pay, ref], ignore_index=True)
    lines["month"] = ctx.month_of(lines["t"].to_numpy())
    return lines.sort_values(["t", "out_no"], kind="stable").reset_index(drop=True)


def write_pay(ctx: Ctx) -> None:
    lines = pay_lines(ctx)
    rec = ctx.emitted.new_records(len(lines))
    ctx.emitted.add(rec, "openid", lines["openid"].to_numpy(), lines["pid"].to_numpy(), alone=True)
    bank = BANKS[ctx.rng.choice(BANKS.size, size=len(lines), p=[0.25, 0.15, 0.15, 0.15, 0.2, 0.1])]
    lines["bank"] = np.where(lines["state"] == "SUCCESS", bank, np.where(lines["state"] == "REFUND", bank, "OTHERS"))
    bounds = ctx.file_bounds(ctx.file_of(lines["t"].to_numpy()))
    for f in range(ctx.n_files):
        part = lines.iloc[bounds[f]:bounds[f + 1]].reset_index(drop=True)
        if part.empty:
            continue
        k = len(part)


        def const(v: str, k: int = k) -> np.ndarray:
            return np.full(k, v, dtype=object)

        cells = [times(ctx.tl.to_dt(part["t"].to_numpy()), "iso"), const(cat.WECHAT_APP_ID),
                 const(cat.WECHAT_MCH_ID), const("0"), const(""), part["txn"].astype("str"),
                 part["out_no"].astype("str"), part["openid"].astype("str"), const("JSAPI"), part["state"].astype("str"),
                 part["bank"].astype("str"), const("CNY"), money(part["settle"], "fixed"), money(part["coupon"], "fixed"),
                 part["refund_id"].astype("str"), part["refund_no"].astype("str"), money(part["refund"], "fixed"),
                 money(np.zeros(k), "fixed"), part["refund_type"].astype("str"), part["refund_status"].astype("str"),
                 part["product"].astype("str"), const(""), money(part["fee"], "fixed"), const("0.60%"),
                 money(part["amount"], "fixed"), money(part["req_refund"], "fixed"), const("")]
        cells = [np.strings.add("`", txt(c)) for c in cells]
        summary = [k, part["settle"].sum(), part["refund"].sum(), 0.0, part["fee"].sum(), part["amount"].sum(),
                   part["req_refund"].sum()]
        summary_cells = [str(k)] + money(np.round(np.array(summary[1:], dtype=float), 2), "fixed").tolist()
        body = join_rows(cells)
        text = (",".join(PAY_HEADER) + "\r\n" + "\r\n".join(body.tolist()) + "\r\n" + PAY_SUMMARY_HEADER + "\r\n"
                + ",".join("`" + c for c in summary_cells) + "\r\n")
        name = f"wechatpay_bill_{cat.WECHAT_MCH_ID}_{ctx.file_label(f)}.csv"
        ctx.path("wechat_pay", name).write_bytes(text.encode("utf-8"))
        ctx.record("wechat_pay", name, k)


def write_touches(ctx: Ctx, touches: pd.DataFrame) -> None:
    from .catalog import CAMPAIGNS

    people = ctx.people
    rec = ctx.emitted.new_records(len(touches))
    pid = touches["pid"].to_numpy()
    rtype = touches["recipient_type"].to_numpy()
    raw = {
        "phone": people["phone"].to_numpy()[pid].astype(str),
        "openid": people["openid"].to_numpy()[pid], "unionid": people["unionid"].to_numpy()[pid],
        "member_card": people["member_card"].to_numpy()[pid], "email": people["email"].to_numpy()[pid],
    }
    recipient = np.full(len(touches), "", dtype=object)
    for rt, vals in raw.items():
        sel = rtype == rt
        recipient[sel] = vals[sel]
        ctx.emitted.add(rec[sel], rt, pd.Series(vals[sel], dtype="str").str.lower().to_numpy()
                        if rt == "email" else vals[sel], pid[sel], alone=True)
    styles = ctx.rng.choice(5, size=len(touches), p=[0.8, 0.08, 0.06, 0.05, 0.01])
    ph = phones(people["phone"].to_numpy()[pid], styles)
    text = np.where(rtype != "phone", txt(recipient), ph)
    shout = (rtype == "email") & (ctx.rng.random(len(touches)) < 0.15)
    text = np.where(shout, np.strings.upper(text), text).astype(object)
    touches = touches.assign(recipient=text)
    for ci, spec in enumerate(CAMPAIGNS):
        part = touches[touches["campaign"].to_numpy() == ci].sort_values(["t", "pid"], kind="stable")
        if part.empty:
            continue
        k = len(part)
        cols = [pd.Series([spec.campaign_id] * k), pd.Series([spec.name] * k), pd.Series([spec.channel] * k),
                part["variant"].astype("str"), part["recipient_type"].astype("str"), part["recipient"].astype("str"),
                part["event_type"].astype("str"), times(ctx.tl.to_dt(part["t"].to_numpy()), "iso")]
        header = ["campaign_id", "campaign_name", "channel", "variant", "recipient_type", "recipient", "event_type",
                  "event_time"]
        name = f"touches_{spec.campaign_id}.csv"
        n = write_csv(ctx.path("touches", name), Table(header, cols, blank_trailing=0), "utf-8", newline="\n")
        ctx.record("touches", name, n)


