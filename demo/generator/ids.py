"""Vectorised generators of unique identifiers (phones, order numbers, opaque ids)."""

from __future__ import annotations

import numpy as np

from .catalog import PLACEHOLDER_PHONES, STORES

MOBILE_PREFIXES = np.array(
    [130, 131, 132, 133, 135, 136, 137, 138, 139, 150, 151, 152, 155, 156, 157, 158, 159, 166, 176, 177,
     180, 181, 182, 183, 185, 186, 187, 188, 189, 191, 198, 199],
    dtype=np.int64,
)
_B62 = np.frombuffer(b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz", dtype=np.uint8)
_B64URL = np.frombuffer(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_", dtype=np.uint8)
_HEX = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)


def unique_ints(rng: np.random.Generator, n: int, low: int, high: int,
                exclude: np.ndarray | None = None) -> np.ndarray:
    """n distinct int64 values drawn uniformly in [low, high), none of them in exclude, in random order."""
    if n > (high - low) // 2:
        raise ValueError(f"cannot draw {n} distinct values from [{low}, {high})")
    out = np.empty(0, dtype=np.int64)
    banned = np.asarray(exclude if exclude is not None else [], dtype=np.int64)
    while out.size < n:
        need = n - out.size
        draw = rng.integers(low, high, size=int(need * 1.05) + 16, dtype=np.int64)
        cand = np.concatenate([out, draw])
        _, first = np.unique(cand, return_index=True)
        keep = np.zeros(cand.size, dtype=bool)
        keep[first] = True
        keep &= ~np.isin(cand, banned)
        # keep earlier values first so previously accepted ones stay
        out = cand[np.sort(np.flatnonzero(keep))][:n]
    return out


def unique_phones(rng: np.random.Generator, n: int) -> np.ndarray:
    """n distinct 11-digit mainland mobile numbers (int64), never a placeholder or a store number."""
    banned = np.array([int(p) for p in PLACEHOLDER_PHONES] + [int(s[3]) for s in STORES], dtype=np.int64)
    suffix_space = 100_000_000
    codes = unique_ints(rng, n, 0, MOBILE_PREFIXES.size * suffix_space)
    phones = MOBILE_PREFIXES[codes // suffix_space] * suffix_space + codes % suffix_space
    clash = np.isin(phones, banned)
    if clash.any():  # astronomically rare; shift into a free number deterministically
        phones[clash] += 1
    return phones


def random_strings(rng: np.random.Generator, n: int, length: int, alphabet: np.ndarray, prefix: str = "") -> np.ndarray:
    """n random strings of fixed length over alphabet, as a numpy unicode array (vectorised)."""
    idx = rng.integers(0, alphabet.size, size=(n, length))
    raw = np.ascontiguousarray(alphabet[idx]).view(f"S{length}").ravel()
    strings = raw.astype(f"U{length}")
    if prefix:
        strings = np.char.add(prefix, strings)
    return strings


def openids(rng: np.random.Generator, n: int, prefix: str) -> np.ndarray:
    """WeChat-style openids / unionids: a fixed app prefix then 22 base64url characters (28 chars)."""
    return random_strings(rng, n, 28 - len(prefix), _B64URL, prefix)


def hex_ids(rng: np.random.Generator, n: int, length: int) -> np.ndarray:
    return random_strings(rng, n, length, _HEX)


def b62_ids(rng: np.random.Generator, n: int, length: int) -> np.ndarray:
    return random_strings(rng, n, length, _B62)


def hex_of(values: np.ndarray, width: int) -> np.ndarray:
    """Fixed-width lower-case hex of non-negative ints (vectorised)."""
    v = np.asarray(values, dtype=np.int64)
    shifts = 4 * np.arange(width - 1, -1, -1, dtype=np.int64)
    digits = (v[:, None] >> shifts) & 15
    return np.ascontiguousarray(_HEX[digits]).view(f"S{width}").ravel().astype(f"U{width}")


def yyyymmdd(days: np.ndarray) -> np.ndarray:
    """datetime64 values to 'YYYYMMDD' strings (object array), vectorised."""
    d = np.asarray(days).astype("datetime64[D]")
    y = d.astype("datetime64[Y]").astype(np.int64) + 1970
    m = d.astype("datetime64[M]").astype(np.int64) % 12 + 1
    day = (d - d.astype("datetime64[M]")).astype(np.int64) + 1
    return (y * 10000 + m * 100 + day).astype(str).astype(object)
