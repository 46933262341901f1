"""Vectorised cell formatting in the shapes merchants' exports really use (money, times, phones, ids)."""

from __future__ import annotations

import numpy as np
import pandas as pd

FULLWIDTH = str.maketrans("0123456789", "０１２３４５６７８９")


def _s(values) -> pd.Series:
    return pd.Series(values, dtype="str").reset_index(drop=True)


def _int_str(values: np.ndarray) -> pd.Series:
    return pd.Series(np.asarray(values, dtype=np.int64)).astype("str")


def _zfill(values: np.ndarray, width: int) -> pd.Series:
    return _int_str(values).str.zfill(width)


def money(values: np.ndarray, style: str) -> pd.Series:
    """Format amounts (yuan, float) in one export style.

    styles: ``plain`` 1299 / 1299.5 / 1299.05 · ``fixed`` 1299.00 · ``comma`` 1,299.5 ·
    ``yen`` ¥1,299.00 · ``fwyen`` ￥1,299.00 (the yen sign GBK can encode).
    """
    cents = np.rint(np.asarray(values, dtype=np.float64) * 100).astype(np.int64)
    neg = cents < 0
    a = np.abs(cents)
    yuan, fen = a // 100, a % 100
    if style in ("comma", "yen", "fwyen"):
        m, t, u = yuan // 1_000_000, (yuan // 1000) % 1000, yuan % 1000
        s_u, s_t = _int_str(u), _int_str(t)
        body = s_u.where(yuan < 1000, s_t + "," + _zfill(u, 3))
        body = body.where(yuan < 1_000_000, _int_str(m) + "," + _zfill(t, 3) + "," + _zfill(u, 3))
    else:
        body = _int_str(yuan)
    if style in ("fixed", "yen", "fwyen"):
        frac = "." + _zfill(fen, 2)
    else:
        frac = pd.Series("", index=body.index, dtype="str")
        frac = frac.where(fen == 0, "." + _zfill(fen, 2))
        frac = frac.where((fen == 0) | (fen % 10 != 0), "." + _int_str(fen // 10))
    out = body + frac
    if style == "yen":
        out = "¥" + out
    elif style == "fwyen":
        out = "￥" + out
    return out.where(~neg, "-" + out)


def fullwidth(series: pd.Series, mask: np.ndarray) -> pd.Series:
    """Digits of the masked cells turned into full-width digits (a few cells in some exports)."""
    mask = np.asarray(mask, dtype=bool)
    if not mask.any():
        return series
    out = series.copy()
    out[mask] = series[mask].str.translate(FULLWIDTH)
    return out


def times(values: np.ndarray, style: str) -> pd.Series:
    """Format naive datetimes: ``iso`` 2025-03-01 12:00:00 · ``slash`` 2025/3/1 12:00 ·
    ``cn`` 2025年3月1日 12:00 · ``iso_min`` 2025-03-01 12:00. NaT gives an empty cell."""
    dt = pd.DatetimeIndex(np.asarray(values, dtype="datetime64[s]"))
    nat = np.asarray(dt.isna())
    y = np.where(nat, 2000, dt.year)
    mo, d = np.where(nat, 1, dt.month), np.where(nat, 1, dt.day)
    h, mi, se = np.where(nat, 0, dt.hour), np.where(nat, 0, dt.minute), np.where(nat, 0, dt.second)
    hm = _zfill(h, 2) + ":" + _zfill(mi, 2)
    if style == "iso":
        out = _int_str(y) + "-" + _zfill(mo, 2) + "-" + _zfill(d, 2) + " " + hm + ":" + _zfill(se, 2)
    elif style == "iso_min":
        out = _int_str(y) + "-" + _zfill(mo, 2) + "-" + _zfill(d, 2) + " " + hm
    elif style == "slash":
        out = _int_str(y) + "/" + _int_str(mo) + "/" + _int_str(d) + " " + _int_str(h) + ":" + _zfill(mi, 2)
    elif style == "cn":
        out = _int_str(y) + "年" + _int_str(mo) + "月" + _int_str(d) + "日 " + hm
    else:
        raise ValueError(f"unknown time style {style!r}")
    return out.where(~nat, "")


def phones(values: np.ndarray, styles: np.ndarray) -> pd.Series:
    """Format 11-digit phones (int64; 0 = empty cell) per row style:
    0 13812345678 · 1 +86 138 1234 5678 · 2 138-1234-5678 · 3 86-13812345678 · 4 full-width digits."""
    v = np.asarray(values, dtype=np.int64)
    styles = np.asarray(styles)
    s = _int_str(v)
    a, b, c = s.str.slice(0, 3), s.str.slice(3, 7), s.str.slice(7, 11)
    out = s.copy()
    out = out.where(styles != 1, "+86 " + a + " " + b + " " + c)
    out = out.where(styles != 2, a + "-" + b + "-" + c)
    out = out.where(styles != 3, "86-" + s)
    out = fullwidth(out, styles == 4)
    return out.where(v != 0, "")


def masked_phones(values: np.ndarray) -> pd.Series:
    """138****5678 (how marketplaces show buyers' phones)."""
    s = _int_str(values)
    return (s.str.slice(0, 3) + "****" + s.str.slice(7, 11)).where(np.asarray(values) != 0, "")


def mask_name(values: pd.Series) -> pd.Series:
    """t**1 style: first and last character kept."""
    s = _s(values)
    return s.str.slice(0, 1) + "**" + s.str.slice(-1)


def excel_destroyed(values: np.ndarray) -> pd.Series:
    """What Excel leaves of a long numeric id: 1.23457E+18."""
    v = np.asarray(values, dtype=np.int64).astype(np.float64)
    exp = np.floor(np.log10(v)).astype(np.int64)
    mant = np.round(v / 10.0 ** exp, 5)
    mant_s = pd.Series(mant).map("{:.5f}".format).str.rstrip("0").str.rstrip(".")
    return mant_s + "E+" + _zfill(exp, 2)


def choice_str(rng: np.random.Generator, pool: tuple[str, ...], n: int, p=None) -> np.ndarray:
    arr = np.array(pool, dtype=object)
    if p is not None:
        p = np.asarray(p, dtype=float) / np.sum(p)
    return arr[rng.choice(len(pool), size=n, p=p)]
