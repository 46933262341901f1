"""JD (POP shop) order export: one row per order line; order-level money repeats on each line."""

from __future__ import annotations

from core.sources import get_source
from ingestion.adapters.base import QUANTITY_LIMIT, Adapter, Column

JD = get_source("jd")


class JdAdapter(Adapter):
    source = "jd"
    columns = (
        Column("order_id", ("订单号", "订单编号", "订单ID"), "id", required=True, row_required=True),
        Column("sku_id", ("商品ID", "商品编号", "SKU", "skuid", "商品编码", "sku编号"), "id"),
        Column("sku_name", ("商品名称", "商品标题"), "text"),
        Column("quantity", ("订购数量", "数量", "商品数量", "购买数量"), "int",
               max_abs=QUANTITY_LIMIT),
        Column("payment_method", ("支付方式", "付款方式"), "text"),
        Column("ordered_at", ("下单时间", "订单创建时间", "创建时间"), "time", required=True, row_required=True),
        Column("jd_price", ("京东价", "单价", "商品单价"), "money"),
        Column("order_amount", ("订单金额", "订单总金额"), "money"),
        Column("settlement_amount", ("结算金额",), "money"),
        Column("payable_amount", ("应付金额", "用户应付金额", "实付金额", "应付总额"), "money"),
        Column("order_status", ("订单状态",), "text", required=True, row_required=True, known_values=JD.status_set("order_status")),
        Column("order_type", ("订单类型",), "text"),
        Column("account", ("下单帐号", "下单账号", "用户账号", "用户帐号", "客户账号", "下单用户", "用户pin",
                           "京东账号", "账号"), "masked"),
        Column("customer_name", ("客户姓名", "收货人", "收货人姓名", "客户名称"), "text"),
        Column("customer_address", ("客户地址", "收货地址", "收货人地址"), "text"),
        Column("phone", ("联系电话", "客户电话", "联系手机", "手机", "收货人电话", "收货人手机"), "phone"),
        Column("paid_at", ("付款确认时间", "付款时间", "支付时间"), "time", strict=True),
        Column("completed_at", ("订单完成时间", "完成时间"), "time"),
        Column("shop_name", ("店铺名称", "店铺"), "text"),
    )
