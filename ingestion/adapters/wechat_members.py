"""WeChat member / follower export (mini-program member centre, WeCom customer list).

生日 (birthday) comes as ``1990-05-17`` (also ``1990/5/17``, ``1990年5月17日``, ``1990.05.17``), as ``05-17``
(``5月17日``) when the member withheld the year, or empty. It is kept as ``birth_month_day`` (``MM-DD``) and
``birth_year`` (null when withheld). A birthday that is not a calendar date (``1990-02-30``, ``13-01``, a
year outside 1900 .. this year) is an optional field gone bad: the row loads with a null birthday and
``_extra._issues`` names the value; the member's other fields are still good.
"""

from __future__ import annotations

import datetime as dt
import re

import numpy as np
import pandas as pd

from core.sources import get_source
from ingestion import normalise as nz
from ingestion.adapters.base import Adapter, Column, Work, labelled

MEMBERS = get_source("wechat_members")
FIRST_BIRTH_YEAR = 1900
# year (optional), month, day with - / . or 年 月 日 between them (full-width digits are made half-width)
_BIRTHDAY = re.compile(r"^(?:(\d{4})\s*[-/.年]\s*)?(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?$")


def parse_birthday(text: str, this_year: int) -> tuple[int | None, str] | None:
    """(birth year or None when withheld, 'MM-DD') for a 生日 cell, None when it is not a date."""
    match = _BIRTHDAY.match(text.strip())
    if match is None:
        return None
    year = int(match.group(1)) if match.group(1) else None
    month, day = int(match.group(2)), int(match.group(3))
    if year is not None and not FIRST_BIRTH_YEAR <= year <= this_year:
        return None
    try:
        dt.date(year if year is not None else 2000, month, day)  # 2000: a leap year, so 02-29 is a date
    except ValueError:
        return None
    return year, f"{month:02d}-{day:02d}"


class WechatMembersAdapter(Adapter):
    source = "wechat_members"
    min_header_matches = 1
    columns = (
        Column("openid", ("openid", "OpenID", "用户openid", "open_id", "微信openid", "用户标识", "粉丝openid"),
               "id", required=True, row_required=True),
        Column("unionid", ("unionid", "UnionID", "union_id", "用户unionid", "微信unionid"), "id"),
        Column("app_id", ("appid", "app_id", "公众账号ID", "小程序appid", "公众号appid", "AppID"), "id"),
        Column("nickname", ("昵称", "微信昵称", "用户昵称", "粉丝昵称"), "text"),
        Column("phone", ("手机号", "绑定手机", "手机", "手机号码", "会员手机号", "绑定手机号", "会员手机"), "phone"),
        Column("email", ("邮箱", "email", "电子邮箱", "邮件", "e-mail", "邮箱地址"), "email"),
        Column("gender", ("性别",), "text"),
        Column("city", ("城市", "所在城市", "地区"), "text"),
        Column("registered_at", ("注册时间", "成为会员时间", "入会时间", "开卡时间", "关注时间", "注册日期"), "time"),
        Column("follow_status", ("关注状态", "是否关注", "状态"), "text",
               known_values=MEMBERS.status_set("follow_status")),
        Column("unfollowed_at", ("取消关注时间",), "time"),
        Column("member_card", ("会员卡号", "卡号", "会员号", "会员编号"), "id"),
        Column("member_level", ("会员等级", "等级", "会员级别"), "text"),
        Column("points", ("积分", "当前积分", "可用积分", "会员积分"), "int"),
        Column("tags", ("标签", "用户标签", "客户标签", "粉丝标签"), "tags"),
        Column("sms_consent", ("营销短信授权", "短信授权", "短信营销授权", "接收营销短信", "是否接收短信",
                               "短信订阅"), "bool"),
        Column("wecom_friend", ("企微好友", "是否企微好友", "企业微信好友", "已加企微", "企微好友状态"), "bool"),
        # the 生日 cell as written (text); finish() splits it into birth_year and MM-DD
        Column("birth_month_day", ("生日", "出生日期", "会员生日", "birthday"), "text"),
    )

    def finish(self, work: Work) -> None:
        v = work.values
        if work.native("birth_month_day") is None:
            return  # no 生日 column: both stay null
        text = nz.to_half_width(nz.clean_text(work.native("birth_month_day")))
        this_year = int(str(work.latest_time)[:4])
        parsed = [None if pd.isna(t) else parse_birthday(str(t), this_year) for t in text]
        bad = np.array([p is None and not pd.isna(t) for p, t in zip(parsed, text, strict=True)], dtype=bool)
        v["birth_month_day"] = pd.Series([p[1] if p else None for p in parsed], dtype=nz.STR)
        v["birth_year"] = pd.Series(pd.array([p[0] if p else None for p in parsed], dtype="Int32"))
        label = work.label("birth_month_day")
        work.issues.append(labelled(nz.issue_where(bad, "not a date", text), label))
