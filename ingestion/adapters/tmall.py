"""Taobao/Tmall seller order export: one row per order."""

from __future__ import annotations

from core.sources import get_source
from ingestion.adapters.base import Adapter, Column

TMALL = get_source("tmall")


class TmallAdapter(Adapter):
    source = "tmall"
    columns = (
        Column("order_id", ("订单编号", "订单号", "主订单编号", "订单ID", "父订单编号"), "id",
               required=True, row_required=True),
        Column("buyer_nick", ("买家会员名", "买家昵称", "买家账号", "买家帐号", "会员名", "买家会员昵称"), "masked"),
        Column("oaid", ("OAID", "买家OAID", "买家oaid"), "id"),
        Column("goods_amount", ("买家应付货款", "应付货款"), "money"),
        Column("shipping_fee", ("买家应付邮费", "邮费", "运费", "应付邮费"), "money"),
        Column("total_amount", ("总金额", "订单金额", "订单总金额"), "money"),
        Column("paid_amount", ("买家实际支付金额", "实际支付金额", "实付金额", "买家实付金额", "买家实付"), "money"),
        Column("order_status", ("订单状态", "交易状态"), "text", required=True, row_required=True,
               known_values=TMALL.status_set("order_status")),
        Column("buyer_message", ("买家留言",), "text"),
        Column("receiver_name", ("收货人姓名", "收货人", "收件人"), "text"),
        Column("receiver_address", ("收货地址", "收货人地址", "详细地址", "收货地址 "), "text"),
        Column("phone", ("联系手机", "手机", "收货人手机", "联系电话", "手机号", "收货人手机号"), "phone"),
        Column("created_at", ("订单创建时间", "创建时间", "下单时间"), "time", required=True, row_required=True),
        Column("paid_at", ("订单付款时间", "付款时间", "支付时间"), "time", strict=True),
        Column("item_title", ("宝贝标题", "商品标题", "商品名称", "宝贝名称"), "text"),
        Column("item_count", ("宝贝总数量", "宝贝数量", "商品数量", "购买数量", "宝贝种类"), "int"),
        Column("shop_name", ("店铺名称", "店铺"), "text"),
        Column("refund_amount", ("退款金额",), "money"),
        Column("close_reason", ("订单关闭原因", "关闭原因"), "text"),
    )
