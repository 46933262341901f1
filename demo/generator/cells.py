"""Vectorised cell formatting in the shapes merchants' exports really use (money, times, phones, ids).

Every function takes array-likes and returns a numpy array of ``StringDType`` (fast for a hundred rows
and for millions alike; pandas string ops carry too much per-call overhead for small monthly files).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from numpy.dtypes import StringDType

S = StringDType()
FULLWIDTH = str.maketrans("0123456789", "０１２３４５６７８９")
_FW_DIGITS = "０１２３４５６７８９"


def txt(values) -> np.ndarray:
    """Any array-like (Series, ndarray, list) as StringDType text; None / NaN become empty cells."""
    if isinstance(values, np.ndarray) and values.dtype == S:
        return values
    if isinstance(values, pd.Series):
        values = values.to_numpy(dtype=object, na_value="")
    arr = np.asarray(values)
    if arr.dtype == object:
        arr = np.where(pd.isna(arr), "", arr)
    return arr.astype(S)


def const(value: str, n: int) -> np.ndarray:
    return np.full(n, value, dtype=S)


def concat(*parts) -> np.ndarray:
    """Element-wise concatenation of text arrays and scalars."""
    out = parts[0] if isinstance(parts[0], str) else txt(parts[0])
    for p in parts[1:]:
        out = np.strings.add(out, p if isinstance(p, str) else txt(p))
    return out


def _int_str(values) -> np.ndarray:
    return np.asarray(values, dtype=np.int64).astype(S)


def _zfill(values, width: int) -> np.ndarray:
    return np.strings.zfill(_int_str(values), width)


def money(values, style: str) -> np.ndarray:
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
        body = np.where(yuan < 1000, _int_str(u), concat(_int_str(t), ",", _zfill(u, 3)))
        body = np.where(yuan < 1_000_000, body, concat(_int_str(m), ",", _zfill(t, 3), ",", _zfill(u, 3)))
    elif style in ("plain", "fixed"):
        body = _int_str(yuan)
    else:
        raise ValueError(f"unknown money style {style!r}")
    if style in ("fixed", "yen", "fwyen"):
        frac = concat(".", _zfill(fen, 2))
    else:
        frac = np.where(fen == 0, "", np.where(fen % 10 == 0, concat(".", _int_str(fen // 10)),
                                                concat(".", _zfill(fen, 2)))).astype(S)
    out = concat(body, frac)
    if style == "yen":
        out = concat("¥", out)
    elif style == "fwyen":
        out = concat("￥", out)
    return np.where(neg, concat("-", out), out).astype(S)


def fullwidth(values, mask) -> np.ndarray:
    """Digits of the masked cells turned into full-width digits (a few cells in some exports)."""
    out = txt(values).copy()
    mask = np.asarray(mask, dtype=bool)
    if mask.any():
        out[mask] = np.array([s.translate(FULLWIDTH) for s in out[mask].tolist()], dtype=S)
    return out


def times(values, style: str) -> np.ndarray:
    """Format naive datetimes: ``iso`` 2025-03-01 12:00:00 · ``slash`` 2025/3/1 12:00 ·
    ``cn`` 2025年3月1日 12:00 · ``iso_min`` 2025-03-01 12:00. NaT gives an empty cell."""
    dt = np.asarray(values, dtype="datetime64[s]")
    nat = np.isnat(dt)
    secs = np.where(nat, 0, dt.astype(np.int64))
    days = secs // 86400
    sod = secs % 86400
    d = days.astype("datetime64[D]")
    y = d.astype("datetime64[Y]").astype(np.int64) + 1970
    mo = d.astype("datetime64[M]").astype(np.int64) % 12 + 1
    dd = (d - d.astype("datetime64[M]")).astype(np.int64) + 1
    h, mi, se = sod // 3600, (sod // 60) % 60, sod % 60
    hm = concat(_zfill(h, 2), ":", _zfill(mi, 2))
    if style == "iso":
        out = concat(_int_str(y), "-", _zfill(mo, 2), "-", _zfill(dd, 2), " ", hm, ":", _zfill(se, 2))
    elif style == "iso_min":
        out = concat(_int_str(y), "-", _zfill(mo, 2), "-", _zfill(dd, 2), " ", hm)
    elif style == "slash":
        out = concat(_int_str(y), "/", _int_str(mo), "/", _int_str(dd), " ", _int_str(h), ":", _zfill(mi, 2))
    elif style == "cn":
        out = concat(_int_str(y), "年", _int_str(mo), "月", _int_str(dd), "日 ", hm)
    else:
        raise ValueError(f"unknown time style {style!r}")
    return np.where(nat, "", out).astype(S)


def phones(values, styles) -> np.ndarray:
    """Format 11-digit phones (int64; 0 = empty cell) per row style:
    0 13812345678 · 1 +86 138 1234 5678 · 2 138-1234-5678 · 3 86-13812345678 · 4 full-width digits."""
    v = np.asarray(values, dtype=np.int64)
    styles = np.asarray(styles)
    s = _int_str(v)
    a, b, c = np.strings.slice(s, 0, 3), np.strings.slice(s, 3, 7), np.strings.slice(s, 7, 11)
    out = np.where(styles == 1, concat("+86 ", a, " ", b, " ", c), s)
    out = np.where(styles == 2, concat(a, "-", b, "-", c), out)
    out = np.where(styles == 3, concat("86-", s), out).astype(S)
    out = fullwidth(out, styles == 4)
    return np.where(v != 0, out, "").astype(S)


def masked_phones(values) -> np.ndarray:
    """138****5678 (how marketplaces show buyers' phones)."""
    v = np.asarray(values, dtype=np.int64)
    s = _int_str(v)
    return np.where(v != 0, concat(np.strings.slice(s, 0, 3), "****", np.strings.slice(s, 7, 11)), "").astype(S)


def mask_name(values) -> np.ndarray:
    """t**1 style: first and last character kept."""
    s = txt(values)
    return concat(np.strings.slice(s, 0, 1), "**", np.strings.slice(s, -1, None))


def mask_account(values) -> np.ndarray:
    """jd***3f style: two first and two last characters kept."""
    s = txt(values)
    return concat(np.strings.slice(s, 0, 2), "***", np.strings.slice(s, -2, None))


def excel_destroyed(values) -> np.ndarray:
    """What Excel leaves of a long numeric id: 1.23457E+18 (used on a handful of cells)."""
    out = []
    for x in np.asarray(values, dtype=np.int64).astype(np.float64).tolist():
        mantissa, exponent = f"{x:.5E}".split("E")
        out.append(mantissa.rstrip("0").rstrip(".") + "E" + exponent)
    return np.array(out, dtype=S)


def choice_str(rng: np.random.Generator, pool: tuple[str, ...], n: int, p=None) -> np.ndarray:
    arr = np.array(pool, dtype=object)
    if p is not None:
        p = np.asarray(p, dtype=float) / np.sum(p)
    return arr[rng.choice(len(pool), size=n, p=p)]


def none_if_empty(values) -> np.ndarray:
    """Object array with None for empty cells (what an xlsx writer leaves blank)."""
    arr = txt(values).astype(object)
    arr[arr == ""] = None
    return arr
