"""Store POS sales detail: one row per receipt line (GBK CSV or XLSX, title and 合计 rows common)."""

from __future__ import annotations

from core.sources import get_source
from ingestion.adapters.base import Adapter, Column

POS = get_source("pos")


class PosAdapter(Adapter):
    source = "pos"
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
        Column("quantity", ("数量", "销售数量", "件数"), "number"),
        Column("unit_price", ("单价", "零售价", "售价", "销售单价"), "money"),
        Column("discount_amount", ("折扣金额", "优惠金额", "折扣", "折让金额"), "money"),
        Column("paid_amount", ("实收金额", "实付金额", "收款金额", "实收", "成交金额", "销售金额"), "money",
               required=True, row_required=True),
        Column("payment_method", ("支付方式", "付款方式", "结算方式", "收款方式"), "text"),
    )
