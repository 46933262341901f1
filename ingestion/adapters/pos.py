"""Store POS sales detail: one row per receipt line (GBK CSV or XLSX, title and 合计 rows common).

Rules beyond the shared ones (:mod:`ingestion.adapters.base`):

- a 销售 (sale) line with a negative 数量 or a negative 实收金额 is quarantined: returns are 退货 lines, so a
  negative sale is a typo or a line that lost its type;
- a 数量 beyond ±QUANTITY_LIMIT on one line is quarantined;
- the 合计 row's 实收金额 is reconciled against the lines (a mismatch rejects the file), and the loader
  refuses a file without a 合计 row whose receipts were already loaded from a file that had one (a truncated
  re-export must not replace complete receipts).
"""

from __future__ import annotations

import numpy as np

from core.sources import get_source
from ingestion import normalise as nz
from ingestion.adapters.base import QUANTITY_LIMIT, Adapter, Column, Work, labelled

POS = get_source("pos")
SALE = "销售"  # the receipt type of a sale line (returns are 退货)


class PosAdapter(Adapter):
    source = "pos"
    total_columns = ("paid_amount",)
    record_key = "receipt_no"
    columns = (
        Column("receipt_no", ("单据号", "单据编号", "小票号", "小票编号", "流水号", "销售单号", "单号"),
               "id", required=True, row_required=True),
        Column("receipt_type", ("单据类型", "销售类型", "业务类型", "类型"), "text",
               known_values=POS.status_set("receipt_type")),
        Column("original_receipt_no", ("原单据号", "原单号", "原小票号", "原销售单号", "原单据编号", "原流水号"), "id"),
        Column("store_code", ("门店编码", "门店代码", "门店编号", "店铺编码", "门店ID"), "id"),
        Column("store_name", ("门店名称", "门店", "店铺名称", "店名"), "text"),
        Column("cashier", ("收银员", "收银员姓名", "收银员名称", "操作员"), "text"),
        Column("sold_at", ("销售时间", "交易时间", "销售日期", "单据时间", "收银时间", "日期时间"), "time",
               required=True, row_required=True),
        Column("member_card", ("会员卡号", "会员号", "会员编号", "卡号"), "id"),
        Column("phone", ("会员手机号", "手机号", "会员手机", "手机号码", "会员电话", "会员手机号码", "联系电话",
                         "手机"), "phone"),
        Column("sku_code", ("商品编码", "商品代码", "商品编号", "货号", "商品条码", "条码", "SKU", "sku编码"), "id"),
        Column("sku_name", ("商品名称", "品名", "商品"), "text"),
        Column("quantity", ("数量", "销售数量", "件数"), "number", max_abs=QUANTITY_LIMIT),
        Column("unit_price", ("单价", "零售价", "售价", "销售单价"), "money"),
        Column("discount_amount", ("折扣金额", "优惠金额", "折扣", "折让金额"), "money"),
        Column("paid_amount", ("实收金额", "实付金额", "收款金额", "实收", "成交金额", "销售金额"), "money",
               required=True, row_required=True),
        Column("payment_method", ("支付方式", "付款方式", "结算方式", "收款方式"), "text"),
    )

    def finish(self, work: Work) -> None:
        if "receipt_type" not in work.mapping:
            return
        sale = work.values["receipt_type"].eq(SALE).fillna(False).to_numpy(dtype=bool)
        for column in ("quantity", "paid_amount"):
            raw = work.native(column)
            if raw is None:
                continue
            values = work.values[column].to_numpy(dtype=np.float64, na_value=np.nan)
            with np.errstate(invalid="ignore"):
                negative = sale & (values < 0)
            work.reasons.append(labelled(
                nz.issue_where(negative, f"negative on a {SALE} line", raw,
                               f"; a return is a 退货 line, not a negative {SALE} (sale)"),
                work.label(column)))
