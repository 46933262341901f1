"""Campaigns: audiences, A/B variants, holdout groups, touch funnels and the injected true uplift."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .catalog import CAMPAIGNS, CampaignSpec
from .orders import choose_channel
from .people import Timeline

WINDOW_DAYS = 7
DELIVERED = {"sms": 0.95, "wecom": 0.98, "email": 0.9, "app_push": 0.85}
OPENED = {"sms": 0.0, "wecom": 0.62, "email": 0.28, "app_push": 0.35}
CLICKED = {"sms": 0.07, "wecom": 0.3, "email": 0.22, "app_push": 0.3}  # sms: of delivered; else of opened
CART = 0.35


@dataclass
class CampaignRun:
    touches: pd.DataFrame  # campaign (index), pid, variant, recipient_type, event_type, t
    assignments: pd.DataFrame  # campaign, pid, variant, recipient_type, first_touch_t, treated
    extra_orders: pd.DataFrame  # skeleton rows (pid, t, channel, campaign) caused by the campaigns


def audience(spec: CampaignSpec, people: pd.DataFrame, skel: pd.DataFrame, send_s: int) -> np.ndarray:
    """pids eligible for a campaign sent at send_s (seconds since start)."""
    send_day = send_s / 86400.0
    reg = people["reg_day"].to_numpy()
    member_then = people["is_member"].to_numpy() & (reg < send_day)
    if spec.audience == "lapsed":
        before = skel[skel["t"] < send_s]
        last = before.groupby("pid")["t"].max()
        gap = (send_s - last) / 86400.0
        lapsed = np.zeros(len(people), dtype=bool)
        lapsed[last.index.to_numpy()[(gap >= 60).to_numpy() & (gap <= 365).to_numpy()]] = True
        ok = lapsed & member_then & people["sms_consent"].to_numpy() & people["phone_bound"].to_numpy()
    elif spec.audience == "wecom_friends":
        ok = member_then & people["wecom_friend"].to_numpy()
    elif spec.audience == "email":
        ok = member_then & (people["email"].to_numpy() != "")
    elif spec.audience == "members":
        ok = member_then
    else:
        raise ValueError(f"unknown audience {spec.audience!r}")
    return np.flatnonzero(ok)


def run_campaigns(rng: np.random.Generator, people: pd.DataFrame, skel: pd.DataFrame, tl: Timeline) -> CampaignRun:
    touches, assigns, extras, platform_events = [], [], [], []
    for ci, spec in enumerate(CAMPAIGNS):
        send_s = (tl.days - spec.days_before_end) * 86400 + 10 * 3600
        elig = audience(spec, people, skel, send_s)
        pids = np.sort(rng.choice(elig, size=round(elig.size * spec.max_share), replace=False))
        k = pids.size
        variant = np.array(spec.variants, dtype=object)[rng.choice(len(spec.variants), size=k, p=spec.shares)]
        control = variant == "control"
        t0 = send_s + rng.integers(0, 5400, k)  # batch sending over 90 minutes
        rtype = np.full(k, spec.recipient_type, dtype=object)
        if spec.recipient_type == "unionid":
            rtype[people["unionid"].to_numpy()[pids] == ""] = "openid"
        ev = [_events(pids, variant, rtype, control, "holdout", t0)]
        sent = ~control
        ev.append(_events(pids[sent], variant[sent], rtype[sent], None, "sent", t0[sent]))
        deliv = sent & (rng.random(k) < DELIVERED[spec.channel])
        t_del = t0 + rng.integers(2, 90, k)
        ev.append(_events(pids[deliv], variant[deliv], rtype[deliv], None, "delivered", t_del[deliv]))
        lift = np.where(variant == "B", 1.3, 1.0)
        if OPENED[spec.channel] > 0:
            opened = deliv & (rng.random(k) < OPENED[spec.channel])
            t_open = t_del + rng.integers(60, 2 * 86400, k)
            ev.append(_events(pids[opened], variant[opened], rtype[opened], None, "opened", t_open[opened]))
        else:
            opened, t_open = deliv, t_del
        clicked = opened & (rng.random(k) < CLICKED[spec.channel] * lift)
        t_click = t_open + rng.integers(5, 3600, k)
        ev.append(_events(pids[clicked], variant[clicked], rtype[clicked], None, "clicked", t_click[clicked]))
        cart = clicked & (rng.random(k) < CART)
        t_cart = t_click + rng.integers(20, 1800, k)
        ev.append(_events(pids[cart], variant[cart], rtype[cart], None, "add_to_cart", t_cart[cart]))
        resend = sent & ~clicked & (rng.random(k) < spec.resend_share)
        t_re = t0 + 2 * 86400 + rng.integers(0, 3600, k)
        ev.append(_events(pids[resend], variant[resend], rtype[resend], None, "sent", t_re[resend]))
        re_del = resend & (rng.random(k) < DELIVERED[spec.channel])
        ev.append(_events(pids[re_del], variant[re_del], rtype[re_del], None, "delivered", t_re[re_del] + 30))
        ev_df = pd.concat(ev, ignore_index=True)
        ev_df.insert(0, "campaign", ci)
        # appended after every campaign's funnel events, so the rows (and the writer's draws over them)
        # that existed before these events keep their positions
        platform = pd.concat(_delivery_and_consent_events(spec.channel, pids, variant, rtype, sent, deliv, t0,
                                                          t_del), ignore_index=True)
        platform.insert(0, "campaign", ci)
        platform_events.append(platform)
        touches.append(ev_df)

        prob = dict(zip(spec.variants, spec.extra_purchase_prob, strict=True))
        p_extra = pd.Series(variant).map(prob).to_numpy(dtype=float)
        buy = sent & (rng.random(k) < p_extra)
        t_buy = t0 + rng.integers(600, int((WINDOW_DAYS - 0.2) * 86400), k)
        buy &= t_buy <= tl.end_s
        ch = choose_channel(rng, people, pids[buy], np.zeros(int(buy.sum()), dtype=bool))
        extras.append(pd.DataFrame({"pid": pids[buy], "t": t_buy[buy], "channel": ch,
                                    "campaign": np.full(int(buy.sum()), ci, dtype=np.int16)}))
        assigns.append(pd.DataFrame({"campaign": ci, "pid": pids, "variant": variant, "recipient_type": rtype,
                                     "first_touch_t": t0, "treated": sent}))
    return CampaignRun(touches=pd.concat(touches + platform_events, ignore_index=True),
                       assignments=pd.concat(assigns, ignore_index=True),
                       extra_orders=pd.concat(extras, ignore_index=True))


def _delivery_and_consent_events(channel, pids, variant, rtype, sent, deliv, t0, t_del) -> list[pd.DataFrame]:
    """The platform's delivery and consent events (FORMATS.md), derived from the person id and the draws
    already made (no draw from rng, so every other stream is unchanged): a send not delivered is reported
    failed (an email bounced) two minutes later; every 53rd delivered recipient unsubscribes ten minutes
    after delivery, and every 131st email recipient complains."""
    undelivered = sent & ~deliv
    failure = "bounced" if channel == "email" else "failed"
    unsubscribed = deliv & (pids % 53 == 0)
    complained = deliv & (pids % 131 == 0) & (channel == "email")
    return [
        _events(pids, variant, rtype, undelivered, failure, t0 + 120),
        _events(pids, variant, rtype, unsubscribed, "unsubscribed", t_del + 600),
        _events(pids, variant, rtype, complained, "complained", t_del + 900),
    ]


def _events(pids, variant, rtype, mask, event, t) -> pd.DataFrame:
    if mask is not None:
        pids, variant, rtype, t = pids[mask], variant[mask], rtype[mask], t[mask]
    return pd.DataFrame({"pid": pids, "variant": variant, "recipient_type": rtype, "event_type": event, "t": t})


def conversions(assign: pd.DataFrame, orders: pd.DataFrame, exclude_campaign: bool) -> np.ndarray:
    """Whether each assignment's person made a purchase within WINDOW_DAYS after first touch.

    With exclude_campaign the orders this very campaign caused are ignored (the counterfactual)."""
    purch = orders.loc[orders["is_purchase"], ["pid", "t", "campaign"]]
    a = assign.reset_index(drop=True).assign(row=lambda d: np.arange(len(d)))
    m = a.merge(purch, on="pid", how="inner", suffixes=("", "_o"))
    ok = (m["t"] > m["first_touch_t"]) & (m["t"] <= m["first_touch_t"] + WINDOW_DAYS * 86400)
    if exclude_campaign:
        ok &= m["campaign_o"] != m["campaign"]
    conv = np.zeros(len(a), dtype=bool)
    conv[m.loc[ok, "row"].to_numpy()] = True
    return conv
