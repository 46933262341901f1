"""The simulated population: who buys, where, how often, and which identifiers each person has."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from . import catalog as cat
from .cells import choice_str
from .ids import hex_ids, hex_of, openids, unique_ints, unique_phones

CHANNELS: tuple[str, ...] = ("pos", "tmall", "jd", "wechat")
PRIMARY_P = np.array([0.40, 0.25, 0.15, 0.20])


@dataclass
class Timeline:
    """The simulated period in seconds since start 00:00 (naive Beijing time)."""

    start: np.datetime64  # first day 00:00
    days: int
    export_at: np.datetime64  # when every export was taken (end_date + 1 day 09:00)

    @property
    def end_s(self) -> int:
        return self.days * 86400 - 1

    def to_dt(self, seconds: np.ndarray) -> np.ndarray:
        return self.start + np.asarray(seconds, dtype=np.int64).astype("timedelta64[s]")


def simulate_people(rng: np.random.Generator, n: int, tl: Timeline) -> pd.DataFrame:
    """One row per person (index = pid 0..n-1) with behaviour parameters and true identifiers."""
    d = tl.days
    pid = np.arange(n)
    pre_existing = rng.random(n) < 0.30
    arrival = np.where(pre_existing, 0.0, rng.uniform(0, d, n))
    life = rng.exponential(620.0, n)
    churn = arrival + life
    churned = churn < d
    rate = rng.gamma(0.9, 3.4 / 0.9, n)  # orders per active year
    spend = rng.lognormal(0.0, 0.45, n)

    primary = rng.choice(4, size=n, p=PRIMARY_P)
    w = np.zeros((n, 4))
    w[pid, primary] = 1.0
    for extra_p, weight in ((0.55, 0.7), (0.15, 0.35)):
        pick = rng.random(n) < extra_p
        other = rng.choice(4, size=n, p=PRIMARY_P)
        add = pick & (w[pid, other] == 0)
        w[pid[add], other[add]] = weight
    w /= w.sum(axis=1, keepdims=True)
    uses = w > 0

    member_p = np.where(uses[:, 3], 0.9, np.where(uses[:, 0], 0.5, 0.22))
    is_member = rng.random(n) < member_p
    has_openid = is_member | uses[:, 3]
    has_unionid = has_openid & (rng.random(n) < 0.88)
    phone = unique_phones(rng, n)
    phone_bound = is_member & (rng.random(n) < 0.99)

    card = np.full(n, "", dtype=object)
    card[is_member] = (unique_ints(rng, int(is_member.sum()), 10**9, 10**10) + 880000000000).astype(str)
    openid = np.where(has_openid, openids(rng, n, "oXk3"), "").astype(object)
    unionid = np.where(has_unionid, openids(rng, n, "oU_"), "").astype(object)

    nick_idx = unique_ints(rng, n, 1000, 10**7)
    nick_word = choice_str(rng, cat.NICK_WORDS, n)
    tmall_nick = np.where(uses[:, 1], nick_word + nick_idx.astype(str).astype(object), "").astype(object)
    oaid = np.where(uses[:, 1], hex_ids(rng, n, 32), "").astype(object)
    jd_idx = unique_ints(rng, n, 16**7, 16**8)
    jd_account = np.where(uses[:, 2], np.char.add("jd_", hex_of(jd_idx, 8)).astype(object), "")

    has_email = is_member & (rng.random(n) < 0.25)
    email_local = (choice_str(rng, ("zhang", "li", "wang", "liu", "chen", "yang", "zhao", "huang", "amy", "leo",
                                    "kiki", "coco", "sky", "rain"), n)
                   + unique_ints(rng, n, 100, 10**7).astype(str).astype(object))
    email = np.where(has_email, email_local + "@" + choice_str(rng, cat.EMAIL_DOMAINS, n), "").astype(object)

    city = choice_str(rng, cat.CITIES, n, p=[14, 10, 8, 8, 7, 7, 6, 5, 4, 4, 3, 3])
    store_city = np.array([s[2] for s in cat.STORES], dtype=object)
    any_store = rng.choice(len(cat.STORES), size=n, p=np.array(cat.STORE_WEIGHTS) / sum(cat.STORE_WEIGHTS))
    home_store = any_store.copy()
    for sc in dict.fromkeys(store_city):  # per store city, not per person
        here = np.flatnonzero(city == sc)
        same = np.flatnonzero(store_city == sc)
        home_store[here] = same[rng.integers(0, same.size, here.size)]
    name = choice_str(rng, cat.SURNAMES, n) + choice_str(rng, cat.GIVEN, n)
    address = (np.array([cat.PROVINCE_OF[c] for c in cat.CITIES], dtype=object)[
        pd.Categorical(city, categories=list(cat.CITIES)).codes] + " " + city + "市 "
        + choice_str(rng, cat.DISTRICTS, n) + " " + choice_str(rng, cat.STREETS, n)
        + rng.integers(1, 999, n).astype(str).astype(object) + "号")

    reg_day = np.where(pre_existing, -rng.uniform(0, 900, n), arrival - rng.uniform(0, 20, n))
    first_day = np.minimum(arrival, np.where(is_member, reg_day, np.inf))
    jd_shop = rng.choice(len(cat.JD_SHOPS), size=n, p=cat.JD_SHOP_WEIGHTS)

    return pd.DataFrame({
        "pid": pid,
        "person_id": "P" + pd.Series(pid + 1).astype(str).str.zfill(8),
        "arrival_day": arrival,
        "churn_day": np.where(churned, churn, np.nan),
        "rate": rate,
        "spend": spend,
        "w_pos": w[:, 0], "w_tmall": w[:, 1], "w_jd": w[:, 2], "w_wechat": w[:, 3],
        "is_member": is_member,
        "phone": phone,
        "phone_bound": phone_bound,
        "member_card": card,
        "openid": openid,
        "unionid": unionid,
        "tmall_nick": tmall_nick,
        "tmall_oaid": oaid,
        "jd_account": jd_account,
        "jd_shop": jd_shop,
        "email": email,
        "city": city,
        "home_store": home_store,
        "name": name,
        "address": address,
        "gender": choice_str(rng, ("女", "男", "未知"), n, p=[0.68, 0.27, 0.05]),
        "wechat_nick": choice_str(rng, cat.NICK_WORDS, n) + rng.integers(0, 100, n).astype(str).astype(object),
        "reg_day": np.where(is_member, reg_day, np.nan),
        "first_day": first_day,
        "wecom_friend": is_member & (rng.random(n) < 0.38),
        "sms_consent": is_member & (rng.random(n) < 0.72),
        "unfollowed": is_member & (rng.random(n) < 0.12),
    })
