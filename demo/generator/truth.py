"""Ground truth beside the landing folder: people, identifiers, orders, campaigns, assignments.

Files in ``<out_dir>/ground_truth/``:

- ``people.parquet`` — one row per simulated person (walk-ins included): true 11-digit ``phone``,
  ``is_member``, ``member_card``, ``openid`` (the mini-program app), ``unionid`` (null when never bound),
  ``tmall_nick``/``tmall_oaid``/``jd_account`` (null when the person never ordered there), ``email``
  (lower-case), ``first_seen`` (first order or member registration, whichever is earlier; may precede
  the exported period), ``churned_at`` (null = still active), ``channels`` (comma-separated channels the
  person ordered in), ``home_store``, ``walk_in`` (non-member who bought in a store).
- ``identifiers.parquet`` — every identifier value printed UNMASKED and NOT a placeholder in some landing
  file, normalised as an adapter would (phone 11 digits, email lower-case, ids as text), with its owner.
  Values from quarantine-bound rows (destroyed ids) are not counted.
- ``placeholder_phones.parquet`` — phones that belong to nobody: cashier placeholders and stores' own
  numbers (``kind`` placeholder / store_phone).
- ``orders.parquet`` — one row per true order; ``order_id`` is POS 单据号 (sale receipt), Tmall 订单编号,
  JD 订单号, WeChat 商户订单号. Money: ``gross_amount`` is what the customer paid — POS: Σ 实收金额 of
  the sale receipt; Tmall: 买家实际支付金额 (0 while unpaid / cancelled unpaid); JD: 应付金额 once paid
  (付款确认时间 set), else 0; WeChat: 订单金额 of the SUCCESS bill line (0 for REVOKED).
  ``refund_amount``: POS returns (Σ of the 退货 receipts, positive), Tmall 退款金额, JD 应付金额 of an
  order cancelled after payment (已取消), WeChat Σ 退款金额 of REFUND lines. ``net = gross − refund``;
  ``is_purchase`` = paid and not fully refunded (JD 锁定 counts as paid). ``status`` is canonical
  (completed, partially_refunded, refunded, cancelled, pending_payment, paid_not_shipped, shipped, locked,
  revoked) beside ``native_status``. ``id_destroyed``: the id was written as 1.23457E+18.
  ``caused_by_campaign``: the extra purchase a treated recipient made because of a campaign.
- ``campaigns.parquet`` — one row per campaign × variant: ``recipients``, ``intended_share``,
  ``designed_extra_purchase_prob`` (the injected effect), ``true_conversion_rate`` (share of recipients
  with a purchase within 7 days after their first touch), ``counterfactual_conversion_rate`` (the same
  without the orders this campaign caused), ``causal_uplift_abs`` (their difference),
  ``true_uplift_abs`` (causal uplift minus the reference's: vs control, else vs variant A, else vs no
  treatment), ``observed_uplift_abs`` (conversion difference vs the reference an analyst would see).
- ``touch_assignments.parquet`` — one row per campaign recipient: variant, ``first_touch_at`` (first send,
  or the holdout time for control), ``converted_7d`` and ``converted_7d_without_campaign``.
- ``summary.json`` — the GenerateSummary, including identity linkability (share of same-person identifier
  pairs connected by co-occurrence on some landing record).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from . import catalog as cat
from .campaigns import WINDOW_DAYS, conversions
from .emitted import Emitted
from .orders import Orders
from .people import CHANNELS, Timeline

STORE_CODES = np.array([s[0] for s in cat.STORES], dtype=object)


def _null_empty(values) -> pd.Series:
    s = pd.Series(values, dtype="str")
    return s.where(s != "", None)


def _ts(tl: Timeline, seconds: np.ndarray) -> pd.Series:
    s = np.asarray(seconds, dtype=np.int64)
    out = pd.Series(tl.to_dt(np.maximum(s, 0)))
    return out.where(s >= 0, pd.NaT)


def identifiers_frame(emitted: Emitted, people: pd.DataFrame) -> pd.DataFrame:
    e = emitted.frame()
    ident = e.drop_duplicates(["identifier_type", "identifier_value", "pid"])
    clash = ident.duplicated(["identifier_type", "identifier_value"], keep=False)
    if clash.any():  # would mean the generator printed one value for two people
        raise AssertionError(f"identifier shared by several people: {ident[clash].head().to_dict('records')}")
    ident = ident.sort_values(["identifier_type", "identifier_value"]).reset_index(drop=True)
    return pd.DataFrame({"identifier_type": ident["identifier_type"].astype("str"),
                         "identifier_value": ident["identifier_value"].astype("str"),
                         "person_id": people["person_id"].to_numpy()[ident["pid"].to_numpy()]})


def linkability(emitted: Emitted) -> dict[str, float | int]:
    """Share of same-person identifier pairs connected by co-occurrence evidence in the files.

    Nodes are distinct identifier values; two are linked when they appear unmasked on the same record
    (a row, a receipt, an order). A person's pair of identifiers counts as connected when both lie in
    one connected component."""
    e = emitted.frame()
    if e.empty:
        return {"pairs_total": 0, "pairs_connected": 0, "share": 1.0}
    key = e["identifier_type"].astype("str") + "\x1f" + e["identifier_value"].astype("str")
    node, uniq = pd.factorize(key)
    rec, _ = pd.factorize(e["rec"])
    nn, nr = len(uniq), int(rec.max()) + 1
    g = coo_matrix((np.ones(len(e)), (node, nn + rec)), shape=(nn + nr, nn + nr))
    _, comp = connected_components(g, directed=False)
    per = pd.DataFrame({"pid": e["pid"].to_numpy(), "node": node}).drop_duplicates()
    per["comp"] = comp[per["node"].to_numpy()]
    k = per.groupby("pid").size()
    c = per.groupby(["pid", "comp"]).size()
    total = int((k * (k - 1) // 2).sum())
    connected = int((c * (c - 1) // 2).sum())
    return {"pairs_total": total, "pairs_connected": connected,
            "share": float(connected / total) if total else 1.0}


def write_truth(gt: Path, tl: Timeline, people: pd.DataFrame, orders: Orders, emitted: Emitted,
                assignments: pd.DataFrame, destroyed: set[str]) -> dict[str, object]:
    gt.mkdir(parents=True, exist_ok=True)
    o = orders.orders
    pid = o["pid"].to_numpy()
    first_order = o.groupby("pid")["t"].min().reindex(people["pid"]).to_numpy(dtype=float)
    reg_s = people["reg_day"].to_numpy() * 86400
    first_s = np.fmin(first_order, np.where(np.isnan(reg_s), np.inf, np.round(reg_s)))
    used = pd.crosstab(o["pid"], o["channel"]).reindex(index=people["pid"], columns=range(4), fill_value=0)
    channels = pd.Series("", index=range(len(people)), dtype="str")
    for ci, name in enumerate(CHANNELS):
        has = used[ci].to_numpy() > 0
        channels = channels.where(~has, channels.where(channels == "", channels + ",") + name)
    churn = people["churn_day"].to_numpy()
    ppl = pd.DataFrame({
        "person_id": people["person_id"],
        "phone": people["phone"].astype(str),
        "is_member": people["is_member"],
        "member_card": _null_empty(people["member_card"]),
        "openid": _null_empty(people["openid"]),
        "unionid": _null_empty(people["unionid"]),
        "tmall_nick": _null_empty(np.where(used[1].to_numpy() > 0, people["tmall_nick"].to_numpy(), "")),
        "tmall_oaid": _null_empty(np.where(used[1].to_numpy() > 0, people["tmall_oaid"].to_numpy(), "")),
        "jd_account": _null_empty(np.where(used[2].to_numpy() > 0, people["jd_account"].to_numpy(), "")),
        "email": _null_empty(pd.Series(people["email"], dtype="str").str.lower()),
        "first_seen": pd.Series(tl.start + np.round(first_s).astype(np.int64).astype("timedelta64[s]")),
        "churned_at": pd.Series(tl.start + np.nan_to_num(np.round(churn * 86400)).astype(np.int64)
                                .astype("timedelta64[s]")).where(~np.isnan(churn), pd.NaT),
        "channels": channels.to_numpy(),
        "home_store": STORE_CODES[people["home_store"].to_numpy()],
        "walk_in": ~people["is_member"].to_numpy() & (used[0].to_numpy() > 0),
    })
    ppl.to_parquet(gt / "people.parquet", index=False)

    ident = identifiers_frame(emitted, people)
    ident.to_parquet(gt / "identifiers.parquet", index=False)
    ph = pd.DataFrame({"value": list(cat.PLACEHOLDER_PHONES) + [s[3] for s in cat.STORES],
                       "kind": ["placeholder"] * len(cat.PLACEHOLDER_PHONES) + ["store_phone"] * len(cat.STORES),
                       "store_code": [None] * len(cat.PLACEHOLDER_PHONES) + [s[0] for s in cat.STORES]})
    ph.to_parquet(gt / "placeholder_phones.parquet", index=False)

    ch_names = np.array(CHANNELS, dtype=object)
    camp_ids = np.array([c.campaign_id for c in cat.CAMPAIGNS] + [None], dtype=object)
    od = pd.DataFrame({
        "channel": ch_names[o["channel"].to_numpy()],
        "order_id": o["order_id"].astype("str"),
        "person_id": people["person_id"].to_numpy()[pid],
        "ordered_at": _ts(tl, o["t"].to_numpy()),
        "paid_at": _ts(tl, o["paid_at"].to_numpy()),
        "status": o["status"].astype("str"),
        "native_status": o["native_status"].astype("str"),
        "gross_amount": o["gross_amount"].round(2),
        "refund_amount": o["refund_amount"].round(2),
        "net_amount": o["net_amount"].round(2),
        "is_purchase": o["is_purchase"],
        "store_or_shop": o["shop"].astype("str"),
        "store_code": pd.Series(np.where(o["channel"].to_numpy() == 0, STORE_CODES[o["store"].to_numpy()], None)),
        "id_destroyed": o["order_id"].isin(destroyed).to_numpy(),
        "caused_by_campaign": camp_ids[o["campaign"].to_numpy()],
    })
    od.to_parquet(gt / "orders.parquet", index=False)

    a = assignments.reset_index(drop=True)
    a["conv"] = conversions(a, o, exclude_campaign=False)
    a["conv_cf"] = conversions(a, o, exclude_campaign=True)
    ta = pd.DataFrame({
        "campaign_id": camp_ids[a["campaign"].to_numpy()],
        "person_id": people["person_id"].to_numpy()[a["pid"].to_numpy()],
        "variant": _null_empty(a["variant"]),
        "recipient_type": a["recipient_type"].astype("str"),
        "is_control": (a["variant"] == "control").to_numpy(),
        "first_touch_at": _ts(tl, a["first_touch_t"].to_numpy()),
        "converted_7d": a["conv"].to_numpy(),
        "converted_7d_without_campaign": a["conv_cf"].to_numpy(),
    })
    ta.to_parquet(gt / "touch_assignments.parquet", index=False)

    rows = []
    for ci, spec in enumerate(cat.CAMPAIGNS):
        part = a[a["campaign"] == ci]
        stats = {}
        for v, share, p_extra in zip(spec.variants, spec.shares, spec.extra_purchase_prob, strict=True):
            g = part[part["variant"] == v]
            conv = float(g["conv"].mean()) if len(g) else float("nan")
            cf = float(g["conv_cf"].mean()) if len(g) else float("nan")
            stats[v] = (len(g), share, p_extra, conv, cf, conv - cf)
        ref = "control" if "control" in stats else ("A" if "A" in stats else None)
        for v, (k, share, p_extra, conv, cf, att) in stats.items():
            rows.append({
                "campaign_id": spec.campaign_id, "campaign_name": spec.name, "channel": spec.channel,
                "variant": v or None, "is_control": v == "control", "recipients": k, "intended_share": share,
                "designed_extra_purchase_prob": p_extra, "true_conversion_rate": conv,
                "counterfactual_conversion_rate": cf, "causal_uplift_abs": att,
                "true_uplift_abs": att - (stats[ref][5] if ref else 0.0),
                "observed_uplift_abs": conv - (stats[ref][3] if ref else cf),
                "uplift_reference": ref or "no_treatment",
                "window_days": WINDOW_DAYS,
                "sent_at": pd.Timestamp(tl.start + np.timedelta64(
                    (tl.days - spec.days_before_end) * 86400 + 10 * 3600, "s")),
            })
    pd.DataFrame(rows).to_parquet(gt / "campaigns.parquet", index=False)
    link = linkability(emitted)
    return {"identifiers": len(ident), "linkability": link}
