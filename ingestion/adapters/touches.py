"""Campaign touch log (SMS platform, WeCom mass message, email, app push): one row per event.

Recipients are normalised per recipient_type (phone → 11 digits, email → lower case, ids stripped); a
recipient that cannot be normalised keeps its row with recipient null and ``recipient_issue`` saying why.
An unknown event_type or recipient_type sends the row to quarantine. A holdout group is variant
``control``; its rows are accepted whatever their event type (the generator writes ``holdout``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from core.sources import get_source
from ingestion import normalise as nz
from ingestion.adapters.base import Adapter, Column, Work, labelled

TOUCHES = get_source("touches")
# Native spellings of the registry's canonical values (a value without spellings here matches only
# itself, compared case-, width- and separator-insensitively).
RECIPIENT_TYPE_SPELLINGS: dict[str, tuple[str, ...]] = {
    "phone": ("phone", "mobile", "手机", "手机号", "手机号码", "tel", "sms"),
    "openid": ("openid", "用户openid", "微信openid"),
    "unionid": ("unionid", "用户unionid"),
    "member_card": ("member_card", "membercard", "card", "会员卡号", "会员卡", "卡号"),
    "email": ("email", "e-mail", "mail", "邮箱", "电子邮箱"),
}
EVENT_TYPE_SPELLINGS: dict[str, tuple[str, ...]] = {
    "sent": ("sent", "send", "发送", "已发送"),
    "delivered": ("delivered", "deliver", "送达", "已送达"),
    "opened": ("opened", "open", "read", "打开", "已打开", "已读"),
    "clicked": ("clicked", "click", "点击", "已点击"),
    "add_to_cart": ("add_to_cart", "addtocart", "cart", "加购", "加入购物车"),
    "holdout": ("holdout", "control", "对照组", "不发送"),
    "failed": ("failed", "fail", "发送失败", "失败", "undelivered"),
    "bounced": ("bounced", "bounce", "退信", "被退回"),
    "unsubscribed": ("unsubscribed", "unsubscribe", "退订", "已退订", "td"),
    "complained": ("complained", "complaint", "spam", "投诉", "举报"),
}
# canonical value (the registry's, in its order) → native spellings
RECIPIENT_TYPES: dict[str, tuple[str, ...]] = {
    value: RECIPIENT_TYPE_SPELLINGS.get(value, ()) for value in TOUCHES.status_set("recipient_type")
}
EVENT_TYPES: dict[str, tuple[str, ...]] = {
    value: EVENT_TYPE_SPELLINGS.get(value, ()) for value in TOUCHES.status_set("event_type")
}
CHANNELS = TOUCHES.status_set("channel")


def _lookup_key(arr: pa.ChunkedArray) -> pa.ChunkedArray:
    arr = pc.utf8_lower(pc.utf8_normalize(pc.fill_null(arr, ""), "NFKC"))
    return pc.replace_substring_regex(arr, r"[\s_\-]+", "")


def canonical_values(values: pd.Series, synonyms: dict[str, tuple[str, ...]]) -> pd.Series:
    """Map each value through ``synonyms`` (canonical → spellings); unknown → NA."""
    keys, targets = [], []
    for canonical, spellings in synonyms.items():
        for spelling in (canonical, *spellings):
            key = _lookup_key(pa.chunked_array([pa.array([spelling])]))[0].as_py()
            if key not in keys:
                keys.append(key)
                targets.append(canonical)
    pos = pc.index_in(_lookup_key(nz.arrow(values)), value_set=pa.array(keys))
    return nz.series(pc.take(pa.array(targets), pos), values.index)


class TouchesAdapter(Adapter):
    source = "touches"
    columns = (
        Column("campaign_id", ("campaign_id", "活动ID", "活动编号", "营销活动ID", "campaign"), "id",
               required=True, row_required=True),
        Column("campaign_name", ("campaign_name", "活动名称", "营销活动名称"), "text"),
        Column("channel", ("channel", "渠道", "触达渠道", "发送渠道"), "text"),
        Column("variant", ("variant", "分组", "实验组", "ab_group", "实验分组"), "text"),
        Column("recipient_type", ("recipient_type", "接收人类型", "用户标识类型", "id_type"), "text",
               required=True, row_required=True),
        Column("recipient", ("recipient", "接收人", "recipient_id", "接收人标识"), "text", required=True),
        Column("event_type", ("event_type", "事件类型", "事件", "event"), "text", required=True,
               row_required=True),
        Column("event_time", ("event_time", "事件时间", "时间", "触达时间"), "time", required=True,
               row_required=True),
    )

    def finish(self, work: Work) -> None:
        v = work.values
        rtype_label, event_label = work.label("recipient_type"), work.label("event_type")
        native_type = v["recipient_type"]
        rtype = canonical_values(native_type, RECIPIENT_TYPES)
        unknown_type = (native_type.notna() & rtype.isna()).to_numpy()
        work.reasons.append(_reason(unknown_type, f"{rtype_label}: unknown recipient type (", native_type))
        v["recipient_type"] = rtype.where(rtype.notna(), native_type)

        native_event = v["event_type"]
        event = canonical_values(native_event, EVENT_TYPES)
        variant = v["variant"]
        control = variant.str.lower().eq("control").fillna(False).to_numpy(dtype=bool)
        v["variant"] = variant.where(~control, "control")
        unknown_event = (native_event.notna() & event.isna()).to_numpy() & ~control
        work.reasons.append(_reason(unknown_event, f"{event_label}: unknown event type (", native_event))
        v["event_type"] = event.where(event.notna(), native_event)

        channel = v["channel"].str.lower()
        v["channel"] = channel
        work.issues.append(_issue_unknown(channel, CHANNELS, work.label("channel")))

        raw = work.native("recipient")
        recipient = pd.Series(np.nan, index=raw.index, dtype=nz.STR)
        issue = pd.Series(np.nan, index=raw.index, dtype=nz.STR)
        types = rtype.to_numpy(dtype=object, na_value=None)
        phone_rows = types == "phone"
        email_rows = types == "email"
        id_rows = ~phone_rows & ~email_rows
        if phone_rows.any():
            ph = nz.normalise_phone(raw)
            recipient = recipient.where(~phone_rows, ph.phone)
            issue = issue.where(~phone_rows, ph.issue)
        if email_rows.any():
            em = nz.normalise_email(raw)
            recipient = recipient.where(~email_rows, em.values)
            issue = issue.where(~email_rows, em.issue)
        if id_rows.any():
            ids = nz.clean_id(raw)
            recipient = recipient.where(~id_rows, ids.values)
            destroyed = ids.issue.notna()
            issue = issue.where(~(id_rows & destroyed.to_numpy()), "destroyed")
            if (id_rows & destroyed.to_numpy()).any():
                work.issues.append(labelled(ids.issue.where(id_rows), work.label("recipient")))
        empty = nz.blank_to_na(raw).isna().to_numpy()
        issue = issue.where(~empty, "missing")
        v["recipient"] = recipient
        v["recipient_issue"] = issue


def _reason(mask: np.ndarray, prefix: str, values: pd.Series) -> pd.Series:
    text = nz.join(prefix, pc.fill_null(nz.arrow(values), ""), ")", "")
    return nz.series(pc.if_else(pa.array(mask), text, pa.scalar(None, nz.TEXT)), pd.RangeIndex(len(mask)))


def _issue_unknown(values: pd.Series, known: tuple[str, ...], label: str) -> pd.Series:
    unknown = (values.notna() & ~values.isin(list(known))).to_numpy()
    return _reason(unknown, f"{label}: unknown value (", values)
