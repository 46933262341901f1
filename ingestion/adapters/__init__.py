"""One adapter per landing source: native export → canonical frame + quarantined rows with reasons."""

from __future__ import annotations

from ingestion.adapters.base import Adapter, Column, ParseResult
from ingestion.adapters.jd import JdAdapter
from ingestion.adapters.pos import PosAdapter
from ingestion.adapters.tmall import TmallAdapter
from ingestion.adapters.touches import TouchesAdapter
from ingestion.adapters.wechat_members import WechatMembersAdapter
from ingestion.adapters.wechat_pay import WechatPayAdapter
from ingestion.errors import FileRejected

ADAPTERS: dict[str, Adapter] = {
    a.source: a
    for a in (PosAdapter(), TmallAdapter(), JdAdapter(), WechatMembersAdapter(), WechatPayAdapter(),
              TouchesAdapter())
}


def get_adapter(source: str) -> Adapter:
    try:
        return ADAPTERS[source]
    except KeyError:
        raise ValueError(f"no adapter for source {source!r}; known: {', '.join(ADAPTERS)}") from None


__all__ = ["ADAPTERS", "Adapter", "Column", "FileRejected", "ParseResult", "get_adapter"]
