"""Vectorised normalisers for the values merchants export.

Every function takes a pandas Series of text (missing cells as NA or empty strings) and returns the
normalised values plus, where a value can be unusable, a per-row ``issue`` Series of text: NA when the
value is fine or the cell was empty, otherwise a short reason (``'masked'``, ``'placeholder'``,
``'invalid'``, ``'unparseable money (abc)'`` …). Nothing here loops over rows in Python: every step is a
pyarrow compute kernel (RE2 regexes, strptime) or a numpy operation over the whole column, which keeps a
million-row column well under a second per normaliser.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

STR = pd.StringDtype("pyarrow", na_value=np.nan)  # pandas' default "str" dtype

# Cells that mean "no value" in exports, full-width forms included (matched before width folding): dashes
# (hyphen, en and em dash, Chinese ——), a lone slash, null words.
NULL_TOKENS = ("-", "--", "---", "－", "–", "—", "——", "/", "／", "null", "NULL", "Null", "None", "none", "nan",
               "NaN", "N/A", "n/a", "#N/A", "无", "暂无")

_HALF_WIDTH = {cp: cp - 0xFEE0 for cp in range(0xFF01, 0xFF5F)}
_HALF_WIDTH.update({0x3000: 0x20, 0xFFE5: 0xA5})
TEXT = pa.large_string()  # the arrow type behind pandas' "str" dtype: no conversions in between
_NULL = pa.scalar(None, TEXT)
_EXCEL_EPOCH = np.datetime64("1899-12-30T00:00:00", "us")


# ------------------------------------------------------------------------------------ arrow helpers
def arrow(s: pd.Series | pa.ChunkedArray | pa.Array) -> pa.ChunkedArray:
    """The values as a pyarrow large_string ChunkedArray (zero-copy for pandas' pyarrow-backed str)."""
    if isinstance(s, pa.ChunkedArray):
        arr = s
    elif isinstance(s, pa.Array):
        arr = pa.chunked_array([s])
    else:
        values = s.array
        if hasattr(values, "_pa_array"):
            arr = values._pa_array
        else:
            text = s.astype(object).where(s.notna(), None)
            arr = pa.chunked_array([pa.array(text.map(_cell_text, na_action="ignore"), type=TEXT)])
    if arr.type != TEXT:
        arr = pc.cast(arr, TEXT)
    return arr


def join(*parts: object) -> pa.ChunkedArray:
    """``pc.binary_join_element_wise`` over arrays and literal strings (the last part is the separator)."""
    args = [pa.scalar(p, TEXT) if isinstance(p, str) else p for p in parts]
    return pc.binary_join_element_wise(*args)


def _cell_text(value: object) -> str:
    return value if isinstance(value, str) else str(value)


def series(arr: pa.ChunkedArray | pa.Array, index: pd.Index) -> pd.Series:
    """A pyarrow string array back to a pandas ``str`` Series (no copy when it is large_string)."""
    if isinstance(arr, pa.Array):
        arr = pa.chunked_array([arr])
    if arr.type != TEXT:
        arr = pc.cast(arr, TEXT)
    return pd.Series(pd.arrays.ArrowStringArray(arr, dtype=STR), index=index, copy=False)


def _mask(arr: pa.ChunkedArray) -> np.ndarray:
    """A boolean pyarrow array as a numpy bool array (null → False)."""
    return pc.fill_null(arr, False).to_numpy(zero_copy_only=False).astype(bool, copy=False)


def _where(mask: np.ndarray, arr: pa.ChunkedArray, other: pa.ChunkedArray | pa.Scalar = _NULL) -> pa.ChunkedArray:
    return pc.if_else(pa.array(mask), arr, other)


def _blank_to_null(arr: pa.ChunkedArray) -> pa.ChunkedArray:
    arr = pc.utf8_trim_whitespace(arr)
    empty = pc.or_(pc.equal(arr, ""), pc.is_in(arr, value_set=pa.array(NULL_TOKENS, type=TEXT)))
    if not pc.any(empty).as_py():
        return arr
    return pc.if_else(empty, _NULL, arr)


def _on_subset(arr: pa.ChunkedArray, mask: np.ndarray, fn) -> pa.ChunkedArray:
    """Apply ``fn`` (array → array of the same length) only to the rows where ``mask`` is true."""
    if not mask.any():
        return arr
    if mask.all():
        return fn(arr)
    sub = fn(arr.take(pa.array(np.flatnonzero(mask))))
    sub = sub.combine_chunks() if isinstance(sub, pa.ChunkedArray) else sub
    return pa.chunked_array([pc.replace_with_mask(arr.combine_chunks(), pa.array(mask), sub)])


def _half_width(arr: pa.ChunkedArray) -> pa.ChunkedArray:
    non_ascii = ~_mask(pc.fill_null(pc.string_is_ascii(arr), True))
    return _on_subset(arr, non_ascii, lambda a: pc.utf8_normalize(a, "NFKC"))


def _any(arr: pa.ChunkedArray, pattern: str) -> bool:
    """Whether any value contains the literal ``pattern`` (a cheap guard before a regex pass)."""
    return bool(pc.any(pc.match_substring(arr, pattern)).as_py())


def _replace_literal(arr: pa.ChunkedArray, pattern: str, repl: str) -> pa.ChunkedArray:
    return pc.replace_substring(arr, pattern, repl) if _any(arr, pattern) else arr


def _prepared(s: pd.Series) -> pa.ChunkedArray:
    """Trimmed, half-width, null for empty/null tokens, ``="…"`` unwrapped, leading ' and tab removed."""
    arr = _half_width(_blank_to_null(arrow(s)))
    changed = False
    if pc.any(pc.starts_with(arr, "=")).as_py():
        arr = pc.replace_substring_regex(arr, r'^=\s*"(.*)"$', r"\1")
        changed = True
    if pc.any(pc.match_substring_regex(arr, r"^['\t]")).as_py():
        arr = pc.utf8_trim_whitespace(pc.utf8_ltrim(arr, characters="'\t"))
        changed = True
    return pc.if_else(pc.equal(arr, ""), _NULL, arr) if changed else arr


def _issue(mask: np.ndarray, prefix: str, original: pa.ChunkedArray | None = None, suffix: str = "") -> pd.Series:
    """Issue text where ``mask``: ``prefix`` or ``prefix (original value)suffix``."""
    n = len(mask)
    if not mask.any():
        return na_text(n)
    if original is None:
        return series(pc.if_else(pa.array(mask), pa.scalar(prefix, TEXT), _NULL), pd.RangeIndex(n))
    # Only the rows with an issue get text: build it on that subset and scatter it into nulls.
    rows = np.flatnonzero(mask)
    sub = join(prefix + " (", pc.fill_null(original.take(pa.array(rows)), ""), ")" + suffix, "")
    text = pc.replace_with_mask(pa.nulls(n, TEXT), pa.array(mask), sub.combine_chunks())
    return series(text, pd.RangeIndex(n))


def issue_where(mask: np.ndarray, prefix: str, original: pd.Series | None = None, suffix: str = "",
                index: pd.Index | None = None) -> pd.Series:
    """Issue text where ``mask``: ``prefix`` or ``prefix (original cell)suffix``; NA elsewhere."""
    out = _issue(np.asarray(mask, dtype=bool), prefix, None if original is None else arrow(original), suffix)
    return out if index is None else _reindexed(out, index)


def na_text(n: int, index: pd.Index | None = None) -> pd.Series:
    """A str Series of ``n`` missing values (cheap: an all-null arrow array)."""
    return series(pa.nulls(n, TEXT), pd.RangeIndex(n) if index is None else index)


def coded_text(codes: np.ndarray, labels: tuple[str | None, ...], index: pd.Index) -> pd.Series:
    """A str Series from integer codes into ``labels`` (None → missing), without a per-row object array."""
    return series(pc.take(pa.array(labels, type=TEXT), pa.array(codes.astype(np.int32))), index)


def _reindexed(s: pd.Series, index: pd.Index) -> pd.Series:
    s.index = index
    return s


def combine_issues(*issues: pd.Series) -> pd.Series:
    """First non-null issue of each row (index of the first series)."""
    arrays = [arrow(i) for i in issues]
    present = [a for a in arrays if a.null_count < len(a)]  # most issue columns are all null
    if not present:
        return issues[0]
    if len(present) == 1:
        return series(present[0], issues[0].index)
    return series(pc.coalesce(*present), issues[0].index)


@dataclass(frozen=True)
class Normalised:
    values: pd.Series
    issue: pd.Series  # str, NA when fine or empty


# --------------------------------------------------------------------------------------------- text
def to_half_width(s: pd.Series) -> pd.Series:
    """Full-width digits, letters and punctuation (１２３, ＡＢＣ, ＋－，．：（）) → half-width (NFKC)."""
    return series(_half_width(arrow(s)), s.index)


def blank_to_na(s: pd.Series) -> pd.Series:
    """Strip whitespace; empty cells and null tokens (``-``, ``NULL``, ``无`` …) become NA."""
    return series(_blank_to_null(arrow(s)), s.index)


def clean_text(s: pd.Series) -> pd.Series:
    """Free text: stripped, a leading tab/apostrophe removed, empty → NA. Not otherwise altered."""
    arr = pc.utf8_trim_whitespace(pc.utf8_ltrim(pc.utf8_trim_whitespace(arrow(s)), characters="'\t"))
    return series(pc.if_else(pc.equal(arr, ""), _NULL, arr), s.index)


# ---------------------------------------------------------------------------------------------- ids
_SCIENTIFIC = r"^[+-]?\d+(?:\.\d+)?[eE][+-]?\d+$"


def clean_id(s: pd.Series) -> Normalised:
    """Identifiers stay text: strip ``="…"``, a leading tab or apostrophe, whitespace, full width.

    A value Excel already turned into scientific notation (``1.23457E+18``) lost its digits: the value
    becomes NA with issue ``'id destroyed by Excel (1.23457E+18), cannot be repaired'``.
    """
    arr = _prepared(s)
    if pc.any(pc.match_substring(arr, "e", ignore_case=True)).as_py():
        destroyed = _mask(pc.match_substring_regex(arr, _SCIENTIFIC))
    else:
        destroyed = np.zeros(len(arr), dtype=bool)
    issue = _issue(destroyed, "id destroyed by Excel", arr, ", cannot be repaired")
    values = _where(~destroyed, arr) if destroyed.any() else arr
    return Normalised(series(values, s.index), _reindexed(issue, s.index))


# ------------------------------------------------------------------------------------------- phones
_PLACEHOLDERS = ("12345678901", "12345678910", "10000000000", "13800138000", "01234567890", "10086100861")


@dataclass(frozen=True)
class PhoneResult:
    phone: pd.Series  # 11-digit mainland mobile or NA
    masked: pd.Series  # bool: the export masked the number (138****5678)
    issue: pd.Series  # NA / 'masked' / 'placeholder' / 'foreign' / 'invalid'


def normalise_phone(s: pd.Series) -> PhoneResult:
    """Phones → 11-digit mainland mobile (``^1[3-9]\\d{9}$``) or NA, with a masked flag and an issue.

    Accepts ``13812345678``, ``+86 138 1234 5678``, ``138-1234-5678``, ``86-13812345678``, ``0086…``,
    full-width digits, ``="…"`` and a number column written as floats (``13812345678.0``; any other
    decimal number is invalid). Masked numbers (``138****5678``) → NA, masked, 'masked'; cashier
    placeholders (13800000000, 13888888888, one digit repeated, 12345678901 …) → NA, 'placeholder';
    a number with another country code (``+1 415 555 0123``, ``0044 …``) → NA, 'foreign' (this platform keys
    people on mainland mobiles; ``+1 4155550123`` must not pass as the mainland ``14155550123``);
    anything else that is not empty → NA, 'invalid'. Empty → NA, no issue.
    """
    arr = _prepared(s)
    present = _mask(pc.is_valid(arr))
    if _any(arr, ".0"):
        # a number column written as floats (13812345678.0): the digits are whole, the ".0" is the writer's
        arr = pc.replace_substring_regex(arr, r"^(\+?\d+)\.0+$", r"\1")
    # any other number with a decimal point (1381234567.8) is no phone: dropping its point would make one
    decimal = np.zeros(len(arr), dtype=bool)
    if _any(arr, "."):
        decimal = _mask(pc.match_substring_regex(arr, r"^\+?\d+\.\d+$"))
    compact = pc.replace_substring_regex(arr, r"[\s\-().·/]", "")
    masked = _mask(pc.match_substring_regex(compact, r"\*|[xX]{3,}")) & present
    foreign = _mask(pc.match_substring_regex(compact, r"^(?:\+|00)\d")) & present & ~masked
    foreign &= ~_mask(pc.match_substring_regex(compact, r"^(?:\+|00)86"))
    digits = pc.replace_substring_regex(compact, r"^(?:\+86|0086|86)(1\d{10})$", r"\1")
    digits = pc.utf8_ltrim(digits, characters="+")
    first = pc.utf8_slice_codeunits(digits, 0, 1)
    same_digit = _mask(pc.equal(digits, pc.binary_repeat(first, 11)))
    tail = pc.utf8_slice_codeunits(digits, 3, 11)
    tail_repeat = _mask(pc.equal(tail, pc.binary_repeat(pc.utf8_slice_codeunits(digits, 3, 4), 8)))
    tail_repeat &= _mask(pc.match_substring_regex(digits, r"^\d{11}$"))
    listed = _mask(pc.is_in(digits, value_set=pa.array(_PLACEHOLDERS)))
    placeholder = (same_digit | tail_repeat | listed) & present & ~masked & ~foreign
    valid = _mask(pc.match_substring_regex(digits, r"^1[3-9]\d{9}$")) & present & ~masked & ~placeholder
    valid &= ~foreign & ~decimal
    invalid = present & ~masked & ~placeholder & ~valid & ~foreign
    codes = np.select([masked, placeholder, foreign, invalid], [1, 2, 3, 4], default=0)
    issue = coded_text(codes, (None, "masked", "placeholder", "foreign", "invalid"), s.index)
    return PhoneResult(
        phone=series(_where(valid, digits), s.index),
        masked=pd.Series(masked, index=s.index),
        issue=issue,
    )


# -------------------------------------------------------------------------------------------- money
_NUMBER = r"^[-+]?(?:\d+(?:\.\d*)?|\.\d+)$"


# Commas are thousands separators only: 1,299.00 / 12,345,678. A comma anywhere else (1.299,00 or 12,5: a
# European decimal comma) would silently make the amount 100 or 1000 times wrong once commas are dropped.
_THOUSANDS = r"^[-+(]?\d{1,3}(?:,\d{3})+(?:\.\d*)?\)?-?$"
COMMA_NOTE = ": a comma that is not a thousands separator (a European decimal comma?)"


def _numeric_text(s: pd.Series) -> tuple[pa.ChunkedArray, pa.ChunkedArray, np.ndarray, np.ndarray, np.ndarray]:
    """(original, cleaned numeric text, present mask, parseable mask, misplaced-comma mask) for numbers."""
    original = arrow(s)
    arr = _prepared(s)
    present = _mask(pc.is_valid(arr))
    bad_comma = np.zeros(len(arr), dtype=bool)
    messy = _mask(pc.match_substring_regex(arr, r"[^0-9.\-]"))  # anything beyond plain -1234.5
    if messy.any():
        idx = pa.array(np.flatnonzero(messy))
        sub = arr.take(idx)
        for junk in ("¥", "$", "元", " "):
            sub = _replace_literal(sub, junk, "")
        if _any(sub, ","):
            stripped = pc.replace_substring_regex(sub, r"^(?:RMB|CNY|rmb|cny)|(?:RMB|CNY|rmb|cny)$", "")
            wrong = _mask(pc.and_(pc.match_substring(stripped, ","),
                                  pc.invert(pc.match_substring_regex(stripped, _THOUSANDS))))
            bad_comma[np.flatnonzero(messy)[wrong]] = True
            sub = _replace_literal(sub, ",", "")
        if pc.any(pc.match_substring_regex(sub, r"[A-Za-z]")).as_py():
            sub = pc.replace_substring_regex(sub, r"^(?:RMB|CNY|rmb|cny)|(?:RMB|CNY|rmb|cny)$", "")
        if _any(sub, "("):
            sub = pc.replace_substring_regex(sub, r"^\((.*)\)$", r"-\1")  # (12.50) → -12.50
        arr = pc.replace_with_mask(arr.combine_chunks(), pa.array(messy), sub.combine_chunks())
        arr = pa.chunked_array([arr])
    if pc.any(pc.ends_with(arr, "-")).as_py():
        arr = pc.replace_substring_regex(arr, r"^(\d[\d.]*)-$", r"-\1")  # 12.50- → -12.50
    ok = _mask(pc.match_substring_regex(arr, _NUMBER)) & present & ~bad_comma
    return original, arr, present, ok, bad_comma


def _digits_to_int(arr: pa.ChunkedArray | pa.Array) -> np.ndarray:
    filled = pc.if_else(pc.equal(pc.fill_null(arr, ""), ""), "0", pc.fill_null(arr, "0"))
    return np.asarray(pc.cast(filled, pa.float64()).to_numpy(zero_copy_only=False), dtype=np.float64)


def parse_money(s: pd.Series, decimals: int = 2) -> Normalised:
    """Money text → float64 rounded exactly (half away from zero) to ``decimals`` places, or NaN.

    Takes ``¥1,299.00``, ``￥``, ``1299``, ``1,299.5``, full-width digits, ``-12.5``, ``(12.50)``,
    ``1,299.00元``. The rounding works on the digits, not on the binary float, so ``2.675`` → 2.68.
    Unparseable, non-empty cells give NaN and issue ``'unparseable money (<value>)'``; a comma that is not a
    thousands separator (``1.299,00``, ``12,5``: a European decimal comma) is unparseable, never guessed.
    """
    original, arr, present, ok, comma = _numeric_text(s)
    good = _where(ok, arr)
    scale = 10.0**decimals
    plain = np.asarray(pc.cast(good, pa.float64()).to_numpy(zero_copy_only=False), dtype=np.float64)
    values = np.round(plain * scale) / scale  # exact when the text has at most `decimals` decimals
    long = _mask(pc.match_substring_regex(good, rf"\.\d{{{decimals + 1},}}"))
    if long.any():  # more decimals than kept: round half away from zero on the digits themselves
        idx = pa.array(np.flatnonzero(long))
        sub = good.take(idx)
        parts = pc.extract_regex(sub, r"^(?P<sign>[-+]?)(?P<int>\d*)\.(?P<frac>\d*)$")
        sign = np.where(_mask(pc.equal(pc.struct_field(parts, "sign"), "-")), -1.0, 1.0)
        whole = _digits_to_int(pc.struct_field(parts, "int"))
        frac = pc.struct_field(parts, "frac")
        kept = _digits_to_int(pc.utf8_slice_codeunits(frac, 0, decimals))
        round_up = _mask(pc.greater_equal(pc.utf8_slice_codeunits(frac, decimals, decimals + 1), "5"))
        values[np.flatnonzero(long)] = sign * (whole * scale + kept + round_up) / scale
    values = np.where(ok, values, np.nan)
    issue = combine_issues(_issue(comma, "unparseable money", original, COMMA_NOTE),
                           _issue(present & ~ok, "unparseable money", original))
    return Normalised(pd.Series(values, index=s.index), _reindexed(issue, s.index))


def parse_number(s: pd.Series) -> Normalised:
    """A quantity or other number (``1,000``, ``-2``, ``１．５``) → float64 or NaN with issue."""
    original, arr, present, ok, comma = _numeric_text(s)
    values = pc.cast(_where(ok & present, arr), pa.float64()).to_numpy(zero_copy_only=False)
    values = np.asarray(values, dtype=np.float64)
    issue = combine_issues(_issue(comma, "unparseable number", original, COMMA_NOTE),
                           _issue(present & ~ok, "unparseable number", original))
    return Normalised(pd.Series(values, index=s.index), _reindexed(issue, s.index))


def parse_int(s: pd.Series) -> Normalised:
    """A whole number (count, points) → nullable Int32; fractions, overflow and text give an issue."""
    num = parse_number(s)
    v = num.values.to_numpy()
    finite = ~np.isnan(v)
    whole = finite & (np.floor(np.where(finite, v, 0)) == v) & (np.abs(np.where(finite, v, 0)) < 2**31)
    bad = finite & ~whole
    issue = combine_issues(num.issue, _reindexed(_issue(bad, "not a whole number", arrow(s)), s.index))
    out = pd.array(np.where(whole, v, 0).astype(np.int64), dtype="Int32")
    out[~whole] = pd.NA
    return Normalised(pd.Series(out, index=s.index), issue)


# --------------------------------------------------------------------------------------------- time
_TIME_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d", "%Y%m%d %H:%M:%S", "%Y%m%d%H%M%S",
                 "%Y%m%d")


# 12-hour clocks: a Chinese locale writes 上午 / 下午 between the date and the time (Excel and WPS with the
# Windows long-time format "tt h:mm:ss": 2025/3/1 下午 3:05:07), an English one AM / PM after the time.
_PM = r"下午|(?i:\d\s*p\.?m\.?)$"
_AM = r"上午|(?i:\d\s*a\.?m\.?)$"
_MERIDIEM = r"\s*(?:上午|下午)\s*|(?i:\s*[ap]\.?m\.?)$"
_HOUR_US = 3_600_000_000


def _strip_meridiem(arr: pa.ChunkedArray) -> tuple[pa.ChunkedArray, np.ndarray]:
    """The times without their 上午/下午 or AM/PM, and per row +1 (afternoon), -1 (morning) or 0 (none)."""
    chinese = bool(pc.any(pc.invert(pc.string_is_ascii(arr))).as_py()) and _any(arr, "午")
    latin = bool(pc.any(pc.match_substring(arr, "m", ignore_case=True)).as_py()) and bool(
        pc.any(pc.match_substring_regex(arr, r"(?i)\d\s*[ap]\.?m\.?$")).as_py()
    )
    if not (chinese or latin):  # the usual column: two cheap scans
        return arr, np.zeros(len(arr), dtype=np.int8)
    pm = _mask(pc.match_substring_regex(arr, _PM))
    am = _mask(pc.match_substring_regex(arr, _AM))
    meridiem = np.where(pm & ~am, 1, np.where(am & ~pm, -1, 0)).astype(np.int8)
    meridiem[pm & am] = 2  # both: contradictory, unparseable
    stripped = pc.utf8_trim(pc.replace_substring_regex(arr, _MERIDIEM, " "), characters=" ")
    return pc.if_else(pa.array(meridiem != 0), stripped, arr), meridiem


def _apply_meridiem(micros: np.ndarray, meridiem: np.ndarray, arr: pa.ChunkedArray) -> tuple[np.ndarray, np.ndarray]:
    """12-hour times to 24-hour: 下午 3:05 is 15:05, 上午 12:30 is 00:30; 下午 15:05 stays 15:05. A
    morning hour above 12, a 12-hour marker without a time of day, or both markers are unparseable."""
    parsed = micros != np.iinfo(np.int64).min
    hour = np.where(parsed, (micros // _HOUR_US) % 24, -1)
    with_time = _mask(pc.match_substring(arr, ":"))
    afternoon = parsed & (meridiem == 1) & (hour < 12)
    midnight = parsed & (meridiem == -1) & (hour == 12)
    out = micros + afternoon * (12 * _HOUR_US) - midnight * (12 * _HOUR_US)
    bad = parsed & (meridiem != 0) & (((meridiem == -1) & (hour > 12)) | ~with_time | (meridiem == 2))
    return out, bad


def parse_time(s: pd.Series) -> Normalised:
    """Beijing times → naive datetime64[us]. Unparseable, non-empty cells give NaT and an issue.

    Accepts ``2025-03-01 12:00:00``, ``2025/3/1 12:00``, ``2025年3月1日 12:00``, ``2025-03-01``,
    ``2025-03-01T12:00:00``, fractional seconds, 12-hour times (``2025/3/1 下午 3:05:07``, ``3:05:07 PM``),
    Excel serial day numbers (``45717.5``, days since 1899-12-30) and the text of datetimes read from xlsx
    cells. A value with an explicit zone (``…Z``, ``…+00:00``) is converted to Beijing time. Impossible
    dates (2025-02-30) and a morning hour above 12 (``上午 15:05``) are unparseable.
    """
    original = arrow(s)
    arr = _prepared(s)
    present = _mask(pc.is_valid(arr))
    arr, meridiem = _strip_meridiem(arr)
    arr = _replace_literal(arr, "/", "-")
    def chinese(a: pa.ChunkedArray) -> pa.ChunkedArray:
        for char, repl in (("年", "-"), ("月", "-"), ("日", " "), ("时", ":"), ("分", ":"), ("秒", "")):
            a = _replace_literal(a, char, repl)
        return pc.utf8_trim(a, characters=" :")

    arr = _on_subset(arr, ~_mask(pc.fill_null(pc.string_is_ascii(arr), True)), chinese)
    if _any(arr, "T"):
        arr = pc.replace_substring_regex(arr, r"(\d)T(\d)", r"\1 \2")
    if _any(arr, "  ") or _any(arr, "\t"):
        arr = pc.utf8_trim(pc.replace_substring_regex(arr, r"\s+", " "), characters=" ")
    n = len(arr)
    nat = np.iinfo(np.int64).min
    micros = np.full(n, nat, dtype=np.int64)
    todo = present.copy()

    for fmt in _TIME_FORMATS:
        idx = np.flatnonzero(todo)
        if not len(idx):
            break
        sub = arr if len(idx) == n else arr.take(pa.array(idx))
        parsed = pc.strptime(sub, format=fmt, unit="us", error_is_null=True)
        got = _mask(pc.is_valid(parsed))
        if got.any():
            vals = pc.cast(pc.fill_null(parsed, pa.scalar(0, pa.timestamp("us"))), pa.int64())
            vals = np.asarray(vals.to_numpy(zero_copy_only=False), dtype=np.int64)
            micros[idx[got]] = vals[got]
            todo[idx[got]] = False

    # Excel serial day numbers (45717.5): looked for only among the rows no format matched.
    serial = np.zeros(n, dtype=bool)
    rest = np.flatnonzero(todo)
    if len(rest):
        sub = arr.take(pa.array(rest))
        is_serial = _mask(pc.match_substring_regex(sub, r"^\d{5}(?:\.\d+)?$"))
        if is_serial.any():
            rows = rest[is_serial]
            days = np.asarray(pc.cast(sub.filter(pa.array(is_serial)), pa.float64()).to_numpy(
                zero_copy_only=False), dtype=np.float64)
            ok = (days >= 20000) & (days <= 80000)
            stamp = _EXCEL_EPOCH.astype(np.int64) + np.round(days * 86_400).astype(np.int64) * 1_000_000
            micros[rows[ok]] = stamp[ok]
            serial[rows] = True
            todo[rows] = False

    # Fractional seconds and explicit zones (rare): pandas' ISO 8601 parser on just those rows.
    if todo.any():
        idx = np.flatnonzero(todo)
        text = pd.Series(arr.take(pa.array(idx)).to_pylist(), dtype=object)
        parsed = pd.to_datetime(text, format="ISO8601", errors="coerce", utc=True)
        zoned = text.str.contains(r"(?:Z|[+-]\d{2}:?\d{2})$", regex=True).fillna(False).to_numpy(dtype=bool)
        local = parsed.dt.tz_convert("Asia/Shanghai").dt.tz_localize(None)
        naive = parsed.dt.tz_localize(None)
        chosen = local.where(zoned, naive).astype("datetime64[us]")
        vals = chosen.to_numpy().astype(np.int64)
        micros[idx] = np.where(chosen.notna().to_numpy(), vals, micros[idx])

    bad = np.zeros(n, dtype=bool)
    if meridiem.any():
        micros, bad = _apply_meridiem(micros, meridiem, arr)
    out = pd.Series(micros.view("datetime64[us]"), index=s.index)
    got = out.notna().to_numpy()
    # strptime rolls impossible dates over (02-30 → 03-02): only days 1-3 can be the result of that,
    # so only those rows are checked against the day written in the text.
    parsed_day = out.dt.day.to_numpy(dtype=np.float64, na_value=np.nan)
    suspect = got & ~serial & (parsed_day <= 3)
    if suspect.any():
        idx = np.flatnonzero(suspect)
        written = pc.extract_regex(arr.take(pa.array(idx)), r"^\d{4}-?\d{1,2}-?(?P<d>\d{1,2})(?:\D|$)")
        day = _digits_to_int(pc.struct_field(written, "d"))
        bad[idx] |= _mask(pc.is_valid(written)) & (day != parsed_day[idx])
    years = out.dt.year.to_numpy(dtype=np.float64, na_value=np.nan)
    bad |= got & ((years < 1900) | (years > 2999))  # 1900-1999 and the far future: implausible_times
    if bad.any():
        out[bad] = pd.NaT
    failed = present & out.isna().to_numpy()
    issue = _issue(failed, "unparseable time", original)
    return Normalised(out, _reindexed(issue, s.index))


EARLIEST_TIME = np.datetime64("2000-01-01T00:00:00", "us")  # before this a business event is a clock error


def implausible_times(values: pd.Series, original: pd.Series, latest: np.datetime64,
                      earliest: np.datetime64 = EARLIEST_TIME, latest_label: str = "") -> pd.Series:
    """Issue text for parsed times after ``latest`` or before ``earliest`` (a cashier's clock set to 2099,
    a 1970 default); NA for plausible or missing times. ``latest_label`` says what ``latest`` is."""
    v = values.to_numpy(dtype="datetime64[us]")
    got = ~np.isnat(v)
    late = got & (v > np.datetime64(latest, "us"))
    early = got & (v < np.datetime64(earliest, "us"))
    if not (late.any() or early.any()):
        return na_text(len(values), values.index)
    after = f": later than {latest_label or np.datetime_as_string(latest, unit='s')} (a device clock set wrong?)"
    before = f": before {np.datetime_as_string(earliest, unit='D')} (a device clock set wrong or a default date?)"
    return combine_issues(issue_where(late, "implausible time", original, after, values.index),
                          issue_where(early, "implausible time", original, before, values.index))


def out_of_range(values: pd.Series, original: pd.Series, low: float, high: float, what: str) -> pd.Series:
    """Issue text where a value is below ``low`` or above ``high`` (infinities included):
    ``out of range (<cell>): <what>``; NA elsewhere."""
    v = values.to_numpy(dtype=np.float64, na_value=np.nan)
    with np.errstate(invalid="ignore"):
        over = ~np.isnan(v) & ((v < low) | (v > high))
    return issue_where(over, "out of range", original, f": {what}", values.index)


# --------------------------------------------------------------------------------------- flags, etc.
_TRUE = ("是", "y", "yes", "true", "t", "1", "已授权", "授权", "同意", "已同意", "已订阅", "订阅", "允许",
         "开启", "已开启", "是好友", "好友", "已添加", "已加", "√", "✓", "on", "有")
_FALSE = ("否", "n", "no", "false", "f", "0", "未授权", "不授权", "拒绝", "不同意", "未同意", "未订阅",
          "退订", "已退订", "不允许", "关闭", "已关闭", "非好友", "不是好友", "未添加", "未加", "已删除",
          "×", "✗", "off", "没有")


def parse_bool(s: pd.Series) -> Normalised:
    """Consent flags (是/否, Y/N, 1/0, true/false, 已授权/未授权 …) → nullable boolean with issue."""
    original = arrow(s)
    key = pc.replace_substring_regex(pc.utf8_lower(_prepared(s)), r"\.0+$", "")
    true = _mask(pc.is_in(key, value_set=pa.array(_TRUE)))
    false = _mask(pc.is_in(key, value_set=pa.array(_FALSE)))
    out = pd.array(true, dtype="boolean")
    out[~true & ~false] = pd.NA
    present = _mask(pc.is_valid(key))
    issue = _issue(present & ~true & ~false, "unknown yes/no value", original)
    return Normalised(pd.Series(out, index=s.index), _reindexed(issue, s.index))


def normalise_email(s: pd.Series) -> Normalised:
    """E-mail → trimmed lower case; masked (``a***@x.com``) → NA 'masked'; malformed → NA 'invalid'."""
    arr = pc.utf8_lower(_prepared(s))
    present = _mask(pc.is_valid(arr))
    masked = _mask(pc.match_substring(arr, "*")) & present
    valid = _mask(pc.match_substring_regex(arr, r"^[^@\s]+@[^@\s]+\.[^@\s]+$")) & present & ~masked
    codes = np.select([masked, present & ~valid], [1, 2], default=0)
    issue = coded_text(codes, (None, "masked", "invalid"), s.index)
    return Normalised(series(_where(valid, arr), s.index), issue)


@dataclass(frozen=True)
class MaskedText:
    values: pd.Series
    masked: pd.Series


def masked_text(s: pd.Series) -> MaskedText:
    """Marketplace nicks / accounts: a value containing ``*`` (``t**1``) is masked → NA, masked=True."""
    text = clean_text(s)
    arr = arrow(text)
    masked = _mask(pc.match_substring_regex(arr, r"[*＊]"))
    return MaskedText(series(_where(~masked, arr), s.index), pd.Series(masked, index=s.index))


def normalise_tags(s: pd.Series) -> pd.Series:
    """Tags separated by commas, spaces, 、, ; or | → one comma-separated list (no empty tags)."""
    arr = pc.replace_substring_regex(_blank_to_null(arrow(s)), r"[,，、;；|\s]+", ",")
    arr = pc.utf8_trim(arr, characters=",")
    return series(pc.if_else(pc.equal(arr, ""), _NULL, arr), s.index)


def header_key(header: object) -> str:
    """A header compared case-, space-, width- and punctuation-insensitively (帐/账 treated alike)."""
    text = str(header if header is not None else "").translate(_HALF_WIDTH)
    text = text.replace("\ufeff", "").replace("`", "").replace("帐", "账").lower()
    for ch in " \t\r\n_-:()[]【】（）：*#":
        text = text.replace(ch, "")
    return text


def header_keys(headers: Iterable[object]) -> list[str]:
    return [header_key(h) for h in headers]
