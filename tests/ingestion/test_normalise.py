"""Normalisers: each quirk of FORMATS.md, expected values written by hand."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from ingestion import normalise as nz


def s(*values: object) -> pd.Series:
    return pd.Series(list(values), dtype="str")


def test_half_width_digits_letters_and_punctuation() -> None:
    out = nz.to_half_width(s("１３８－１２３４", "ＡＢｃ", "（１２．５０）", "ascii", None))
    assert out.tolist()[:4] == ["138-1234", "ABc", "(12.50)", "ascii"]
    assert pd.isna(out.iloc[4])


@pytest.mark.parametrize(
    ("raw", "expected", "issue"),
    [
        ('="123456789012345678"', "123456789012345678", None),
        ("\t123456789012345678", "123456789012345678", None),
        ("'00123", "00123", None),
        ("  A-17 ", "A-17", None),
        ("１２３", "123", None),
        ("1.23457E+18", None, "id destroyed by Excel (1.23457E+18), cannot be repaired"),
        ("1.23457e18", None, "id destroyed by Excel (1.23457e18), cannot be repaired"),
        ("", None, None),
        ("-", None, None),
    ],
)
def test_clean_id(raw: str, expected: str | None, issue: str | None) -> None:
    res = nz.clean_id(s(raw))
    value, found = res.values.iloc[0], res.issue.iloc[0]
    assert (None if pd.isna(value) else value) == expected
    assert (None if pd.isna(found) else found) == issue


@pytest.mark.parametrize(
    ("raw", "phone", "masked", "issue"),
    [
        ("13812345678", "13812345678", False, None),
        ("+86 138 1234 5678", "13812345678", False, None),
        ("138-1234-5678", "13812345678", False, None),
        ("86-13812345678", "13812345678", False, None),
        ("008613812345678", "13812345678", False, None),
        ("１３９１２３４５６７８", "13912345678", False, None),
        ('="15912345678"', "15912345678", False, None),
        ("13812345678.0", "13812345678", False, None),  # a number column written as floats
        ("+8613812345678.00", "13812345678", False, None),
        ("138.1234.5678", "13812345678", False, None),  # dots between groups
        ("1381234567.0", None, False, "invalid"),  # ten digits: the ".0" is not an eleventh
        ("1381234567.8", None, False, "invalid"),  # a decimal number, not a dotted phone
        ("1.38123E+10", None, False, "invalid"),  # Excel's scientific form: digits lost
        ("138****5678", None, True, "masked"),
        ("13800000000", None, False, "placeholder"),
        ("13888888888", None, False, "placeholder"),
        ("11111111111", None, False, "placeholder"),
        ("12345678901", None, False, "placeholder"),
        ("021-12345678", None, False, "invalid"),
        ("1381234567", None, False, "invalid"),
        ("12812345678", None, False, "invalid"),
        ("", None, False, None),
    ],
)
def test_normalise_phone(raw: str, phone: str | None, masked: bool, issue: str | None) -> None:
    res = nz.normalise_phone(s(raw))
    got = res.phone.iloc[0]
    assert (None if pd.isna(got) else got) == phone
    assert bool(res.masked.iloc[0]) is masked
    got_issue = res.issue.iloc[0]
    assert (None if pd.isna(got_issue) else got_issue) == issue


def test_phone_missing_cell_has_no_issue() -> None:
    res = nz.normalise_phone(pd.Series([None, "13912345678"], dtype="str"))
    assert pd.isna(res.phone.iloc[0]) and pd.isna(res.issue.iloc[0]) and not res.masked.iloc[0]
    assert res.phone.iloc[1] == "13912345678"


@pytest.mark.parametrize(
    ("raw", "value"),
    [
        ("¥1,299.00", 1299.00),
        ("￥1,299.00", 1299.00),
        ("1299", 1299.0),
        ("1,299.5", 1299.5),
        ("１２９９．５０", 1299.5),
        ("-12.5", -12.5),
        ("(12.50)", -12.5),
        ("1,299.00元", 1299.0),
        ("2.675", 2.68),  # half away from zero on the digits (a binary float would give 2.67)
        ("-2.675", -2.68),
        ("0.00600", 0.01),
    ],
)
def test_parse_money(raw: str, value: float) -> None:
    res = nz.parse_money(s(raw))
    assert res.values.iloc[0] == value
    assert pd.isna(res.issue.iloc[0])


def test_no_value_cells_are_empty_not_unparseable() -> None:
    """A dash or slash typed for "none" (a refund column of an Excel / WPS sheet) is an empty cell: no
    value, no issue, so an optional column never sends its row to quarantine."""
    tokens = ("-", "－", "–", "—", "——", "/", "／", " — ", "N/A", "暂无")
    money = nz.parse_money(s(*tokens))
    assert np.isnan(money.values.to_numpy()).all() and money.issue.isna().all(), money.issue.tolist()
    ids = nz.clean_id(s(*tokens))
    assert ids.values.isna().all() and ids.issue.isna().all()
    time = nz.parse_time(s(*tokens))
    assert time.values.isna().all() and time.issue.isna().all()


def test_parse_money_unparseable_and_empty() -> None:
    res = nz.parse_money(s("abc", "", None, "12.3.4"))
    assert np.isnan(res.values.to_numpy()).all()
    assert res.issue.iloc[0] == "unparseable money (abc)"
    assert pd.isna(res.issue.iloc[1]) and pd.isna(res.issue.iloc[2])
    assert res.issue.iloc[3] == "unparseable money (12.3.4)"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("2025-03-01 12:00:00", dt.datetime(2025, 3, 1, 12, 0, 0)),
        ("2025/3/1 12:00", dt.datetime(2025, 3, 1, 12, 0)),
        ("2025年3月1日 12:00", dt.datetime(2025, 3, 1, 12, 0)),
        ("2025年3月1日", dt.datetime(2025, 3, 1)),
        ("2025-03-01", dt.datetime(2025, 3, 1)),
        ("2025-03-01T12:00:00", dt.datetime(2025, 3, 1, 12, 0)),
        ("2025-03-01 12:00:00.250", dt.datetime(2025, 3, 1, 12, 0, 0, 250000)),
        ("45717.5", dt.datetime(2025, 3, 1, 12, 0)),  # Excel serial: 45717 days after 1899-12-30
        ("45717", dt.datetime(2025, 3, 1)),
        ("2025-03-01T04:00:00Z", dt.datetime(2025, 3, 1, 12, 0)),  # UTC → Beijing
        ("２０２５－０３－０１ １２：００", dt.datetime(2025, 3, 1, 12, 0)),
        # 12-hour clocks: Excel / WPS in a Chinese locale, and English exports
        ("2025/3/1 下午 3:05:07", dt.datetime(2025, 3, 1, 15, 5, 7)),
        ("2025/3/1下午3:05", dt.datetime(2025, 3, 1, 15, 5)),
        ("2025/3/1 上午 9:05", dt.datetime(2025, 3, 1, 9, 5)),
        ("2025/3/1 下午 12:30", dt.datetime(2025, 3, 1, 12, 30)),
        ("2025/3/1 上午 12:30", dt.datetime(2025, 3, 1, 0, 30)),
        ("2025/3/1 下午 15:05", dt.datetime(2025, 3, 1, 15, 5)),  # a 24-hour time with 下午 stays
        ("2025年3月1日 下午3:05", dt.datetime(2025, 3, 1, 15, 5)),
        ("2025/3/1 3:05:07 PM", dt.datetime(2025, 3, 1, 15, 5, 7)),
        ("2025-03-01 12:05 am", dt.datetime(2025, 3, 1, 0, 5)),
        ("2025-03-01 3:05 p.m.", dt.datetime(2025, 3, 1, 15, 5)),
    ],
)
def test_parse_time(raw: str, expected: dt.datetime) -> None:
    res = nz.parse_time(s(raw))
    assert res.values.iloc[0] == pd.Timestamp(expected)
    assert pd.isna(res.issue.iloc[0])


def test_parse_time_rejects_garbage_and_impossible_dates() -> None:
    res = nz.parse_time(s("yesterday", "2025-02-30 10:00:00", "", "0000-00-00 00:00:00"))
    assert res.values.isna().all()
    assert res.issue.tolist()[:2] == ["unparseable time (yesterday)", "unparseable time (2025-02-30 10:00:00)"]
    assert pd.isna(res.issue.iloc[2])
    assert res.issue.iloc[3] == "unparseable time (0000-00-00 00:00:00)"


def test_parse_time_rejects_contradictory_twelve_hour_times() -> None:
    """A 12-hour marker is never guessed around: a morning hour above 12, a marker without a time, both
    markers, or an impossible date with a marker are unparseable (the row is quarantined with its text)."""
    raw = ("2025/3/5 上午 13:05", "2025/3/5 下午", "2025/3/5 下午 上午 3:05", "2025/2/30 下午 3:05", "中午 12:30")
    res = nz.parse_time(s(*raw))
    assert res.values.isna().all()
    assert res.issue.tolist() == [f"unparseable time ({text})" for text in raw]


def test_parse_bool() -> None:
    res = nz.parse_bool(s("是", "否", "Y", "n", "1", "0", "true", "FALSE", "已授权", "未授权", "maybe", ""))
    assert res.values.tolist()[:10] == [True, False, True, False, True, False, True, False, True, False]
    assert pd.isna(res.values.iloc[10]) and pd.isna(res.values.iloc[11])
    assert res.issue.iloc[10] == "unknown yes/no value (maybe)"
    assert pd.isna(res.issue.iloc[11])


def test_email_and_masked_text() -> None:
    em = nz.normalise_email(s("  Li.Lei@Example.COM ", "l***@example.com", "not-an-email", ""))
    assert em.values.iloc[0] == "li.lei@example.com"
    assert em.issue.tolist()[1:3] == ["masked", "invalid"]
    assert em.values.iloc[1:].isna().all()
    nick = nz.masked_text(s("t**1", "小明", ""))
    assert pd.isna(nick.values.iloc[0]) and nick.masked.iloc[0]
    assert nick.values.iloc[1] == "小明" and not nick.masked.iloc[1]


def test_int_and_tags() -> None:
    res = nz.parse_int(s("12", "1,200", "2.5", "x", "99999999999"))
    assert res.values.tolist()[:2] == [12, 1200]
    assert res.values.iloc[2:].isna().all()
    assert res.issue.tolist()[2:] == ["not a whole number (2.5)", "unparseable number (x)",
                                      "not a whole number (99999999999)"]
    assert nz.normalise_tags(s("高价值, 复购 新客、母婴")).iloc[0] == "高价值,复购,新客,母婴"


def test_header_key_is_width_case_space_insensitive() -> None:
    assert nz.header_key(" OpenID ") == nz.header_key("openid")
    assert nz.header_key("下单帐号") == nz.header_key("下单账号")
    assert nz.header_key("会员（手机号）") == nz.header_key("会员手机号")
