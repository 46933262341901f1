"""WeChat Pay merchant trade bill (交易账单): backticked detail lines, then a summary block.

Every field starts with a backtick (`` `2025-03-01 12:00:01``), stripped here. The summary header
(总交易单数,应结订单总金额,退款总金额,充值券退款总金额,手续费总金额,订单总金额,申请退款总金额) and its one
backticked line are reconciled against the details; a bill whose totals disagree, or that has no summary
block at all, is a truncated download and the whole file is rejected.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from core.sources import get_source
from ingestion import normalise as nz
from ingestion.adapters.base import Adapter, Column, Work
from ingestion.errors import FileRejected

WECHAT_PAY = get_source("wechat_pay")

# summary header → (aliases, detail column summed, kind)
SUMMARY: dict[str, tuple[tuple[str, ...], str | None]] = {
    "总交易单数": (("总交易单数", "总交易单", "交易总笔数"), None),
    "应结订单总金额": (("应结订单总金额", "总交易额", "应结订单总额"), "settlement_amount"),
    "退款总金额": (("退款总金额", "总退款金额"), "refund_amount"),
    "充值券退款总金额": (("充值券退款总金额", "总代金券或立减优惠退款金额", "总充值券退款金额"), "coupon_refund_amount"),
    "手续费总金额": (("手续费总金额", "总手续费"), "fee"),
    "订单总金额": (("订单总金额",), "order_amount"),
    "申请退款总金额": (("申请退款总金额",), "requested_refund_amount"),
}
FEE_TOLERANCE_FIXED = 0.01  # yuan, plus
FEE_TOLERANCE_PER_LINE = 0.005  # each detail fee may be rounded by up to half a cent in the summary


class WechatPayAdapter(Adapter):
    source = "wechat_pay"
    rows_independent = False  # finish() reconciles the summary against all detail lines
    cell_prefix_strip = "`"
    stop_keys = tuple(a for aliases, _ in SUMMARY.values() for a in aliases[:1]) + ("总交易单",)
    columns = (
        Column("traded_at", ("交易时间",), "time", required=True, row_required=True),
        Column("app_id", ("公众账号ID", "公众账号id", "appid"), "id", required=True),
        Column("mch_id", ("商户号",), "id", required=True),
        Column("sub_mch_id", ("特约商户号", "子商户号"), "id"),
        Column("device_no", ("设备号",), "text"),
        Column("transaction_id", ("微信订单号",), "id", required=True, row_required=True),
        Column("out_trade_no", ("商户订单号",), "id", required=True),
        Column("openid", ("用户标识",), "id", required=True),
        Column("trade_type", ("交易类型",), "text", required=True),
        Column("trade_state", ("交易状态",), "text", required=True, known_values=WECHAT_PAY.status_set("trade_state")),
        Column("bank_type", ("付款银行",), "text"),
        Column("currency", ("货币种类",), "text"),
        Column("settlement_amount", ("应结订单金额", "总金额"), "money", required=True, row_required=True),
        Column("coupon_amount", ("代金券金额", "代金券或立减优惠金额", "企业红包金额"), "money"),
        Column("refund_id", ("微信退款单号",), "id"),
        Column("out_refund_no", ("商户退款单号",), "id"),
        Column("refund_amount", ("退款金额",), "money", required=True),
        Column("coupon_refund_amount", ("充值券退款金额", "代金券或立减优惠退款金额", "企业红包退款金额"), "money"),
        Column("refund_type", ("退款类型",), "text"),
        Column("refund_status", ("退款状态",), "text"),
        Column("product_name", ("商品名称",), "text"),
        Column("merchant_data", ("商户数据包",), "text"),
        Column("fee", ("手续费",), "money", required=True),
        Column("fee_rate", ("费率",), "text"),
        Column("order_amount", ("订单金额",), "money"),
        Column("requested_refund_amount", ("申请退款金额",), "money"),
        Column("fee_rate_note", ("费率备注",), "text"),
    )

    def finish(self, work: Work) -> None:
        summary = self._summary(work)
        name = work.table.file_name
        problems: list[str] = []
        checked: list[str] = []
        for label, (aliases, column) in SUMMARY.items():
            keys = {nz.header_key(a) for a in aliases}
            found = next((v for k, v in summary.items() if k in keys), None)
            if found is None:
                continue
            if column is None:
                total = nz.parse_number(pd.Series([found], dtype=nz.STR)).values.iloc[0]
                if np.isnan(total) or int(total) != work.n:
                    problems.append(f"{label} {found} in the summary but {work.n} detail lines in the file")
                checked.append(label)
                continue
            if column not in work.mapping:
                continue
            total = nz.parse_money(pd.Series([found], dtype=nz.STR), decimals=6).values.iloc[0]
            if np.isnan(total):
                problems.append(f"{label}: the summary value is not a number")
                continue
            if column == "fee":  # details may carry more decimals than the total
                detail = nz.parse_money(work.native("fee"), decimals=6).values
                got = float(np.nansum(detail.to_numpy()))
                tolerance = FEE_TOLERANCE_FIXED + FEE_TOLERANCE_PER_LINE * work.n
                ok = abs(got - total) <= tolerance
            else:
                cents = np.round(work.values[column].to_numpy(dtype=np.float64) * 100)
                got = float(np.nansum(cents)) / 100
                ok = round(got * 100) == round(total * 100)
            if not ok:
                problems.append(f"{label} {total:.2f} in the summary but the details sum to {got:.2f}")
            checked.append(label)
        if problems:
            raise FileRejected(
                f"{name}: the bill's details do not match its summary (a truncated or edited download): "
                + "; ".join(problems)
            )
        work.notes.append(f"summary reconciled: {', '.join(checked)}")

    def _summary(self, work: Work) -> dict[str, str]:
        """{summary header key: value} from the summary header and the line after it."""
        name = work.table.file_name
        trailer = work.table.trailer
        if trailer.empty:
            raise FileRejected(
                f"{name}: no summary block (总交易单数,应结订单总金额,…) after the {work.n} detail lines: "
                "the bill is truncated; download it again"
            )
        header = [str(c).strip() for c in trailer.iloc[0]]
        rows = [list(r) for r in trailer.iloc[1:].itertuples(index=False) if any(str(c).strip() for c in r)]
        if not rows:
            raise FileRejected(
                f"{name}: the summary header (row {int(work.table.trailer_row_numbers[0])}) has no summary "
                "line under it: the bill is truncated; download it again"
            )
        values = [str(c).strip() for c in rows[0]]
        return {nz.header_key(h): v for h, v in zip(header, values, strict=False) if h}
