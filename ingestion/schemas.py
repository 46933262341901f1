"""Canonical schema of every raw table: ``raw.<source>``, ``raw._quarantine`` and ``raw._files``.

Adapters turn a native export into a frame with exactly the columns of ``CANONICAL[source]`` (plus the
lineage columns in ``LINEAGE``); the loader creates the tables from these definitions. Native values
stay as exported where they are categorical (``订单状态`` values such as ``交易成功`` stay Chinese: that is
data); staging maps them. Identifiers are always text. Money is DECIMAL(18,2), times are naive
Beijing time (Asia/Shanghai). Phones are normalised to an 11-digit mainland mobile or null, with
``phone_masked`` and ``phone_issue`` saying why a phone is null (``masked``, ``placeholder``,
``invalid``) — empty cells give null phone and null issue.
"""

from __future__ import annotations

MONEY = "DECIMAL(18,2)"

# Lineage columns every raw table carries, in this order, after the canonical columns.
LINEAGE: dict[str, str] = {
    "_file_sha256": "VARCHAR",  # sha256 of the file's bytes: idempotency key (with _row_number)
    "_file_name": "VARCHAR",  # path relative to the landing folder, e.g. pos/pos_2025-03.csv
    "_row_number": "INTEGER",  # 1-based row in the file as a person sees it (Excel row / text line)
    "_extra": "JSON",  # native columns the adapter could not map, {native header: value}
    "_loaded_at": "TIMESTAMP",  # UTC load time
}

_PHONE = {"phone": "VARCHAR", "phone_masked": "BOOLEAN", "phone_issue": "VARCHAR"}

CANONICAL: dict[str, dict[str, str]] = {
    # One row per receipt line. Returns: receipt_type 退货, negative quantity / paid_amount.
    "pos": {
        "receipt_no": "VARCHAR",  # 单据号
        "receipt_type": "VARCHAR",  # 单据类型: 销售 / 退货
        "original_receipt_no": "VARCHAR",  # 原单据号 (returns)
        "store_code": "VARCHAR",  # 门店编码
        "store_name": "VARCHAR",  # 门店名称
        "cashier": "VARCHAR",  # 收银员
        "sold_at": "TIMESTAMP",  # 销售时间
        "member_card": "VARCHAR",  # 会员卡号
        **_PHONE,  # 会员手机号
        "sku_code": "VARCHAR",  # 商品编码
        "sku_name": "VARCHAR",  # 商品名称
        "quantity": "DOUBLE",  # 数量
        "unit_price": MONEY,  # 单价
        "discount_amount": MONEY,  # 折扣金额
        "paid_amount": MONEY,  # 实收金额
        "payment_method": "VARCHAR",  # 支付方式
    },
    # One row per order.
    "tmall": {
        "order_id": "VARCHAR",  # 订单编号
        "buyer_nick": "VARCHAR",  # 买家会员名 (null when masked like t**1)
        "buyer_nick_masked": "BOOLEAN",
        "oaid": "VARCHAR",  # OAID
        "goods_amount": MONEY,  # 买家应付货款
        "shipping_fee": MONEY,  # 买家应付邮费
        "total_amount": MONEY,  # 总金额
        "paid_amount": MONEY,  # 买家实际支付金额
        "order_status": "VARCHAR",  # 订单状态 (native value)
        "buyer_message": "VARCHAR",  # 买家留言
        "receiver_name": "VARCHAR",  # 收货人姓名
        "receiver_address": "VARCHAR",  # 收货地址
        **_PHONE,  # 联系手机
        "created_at": "TIMESTAMP",  # 订单创建时间
        "paid_at": "TIMESTAMP",  # 订单付款时间
        "item_title": "VARCHAR",  # 宝贝标题
        "item_count": "INTEGER",  # 宝贝总数量
        "shop_name": "VARCHAR",  # 店铺名称
        "refund_amount": MONEY,  # 退款金额
        "close_reason": "VARCHAR",  # 订单关闭原因
    },
    # One row per order line; order-level money repeats on every line of an order.
    "jd": {
        "order_id": "VARCHAR",  # 订单号
        "sku_id": "VARCHAR",  # 商品ID
        "sku_name": "VARCHAR",  # 商品名称
        "quantity": "INTEGER",  # 订购数量
        "payment_method": "VARCHAR",  # 支付方式
        "ordered_at": "TIMESTAMP",  # 下单时间
        "jd_price": MONEY,  # 京东价 (line unit price)
        "order_amount": MONEY,  # 订单金额 (order level)
        "settlement_amount": MONEY,  # 结算金额 (order level)
        "payable_amount": MONEY,  # 应付金额 (order level)
        "order_status": "VARCHAR",  # 订单状态 (native value)
        "order_type": "VARCHAR",  # 订单类型
        "account": "VARCHAR",  # 下单帐号 (null when masked)
        "account_masked": "BOOLEAN",
        "customer_name": "VARCHAR",  # 客户姓名
        "customer_address": "VARCHAR",  # 客户地址
        **_PHONE,  # 联系电话
        "paid_at": "TIMESTAMP",  # 付款确认时间
        "completed_at": "TIMESTAMP",  # 订单完成时间
        "shop_name": "VARCHAR",  # 店铺名称 (when present)
    },
    # One row per member / follower.
    "wechat_members": {
        "openid": "VARCHAR",
        "unionid": "VARCHAR",  # null when the app is not bound to the open platform
        "app_id": "VARCHAR",  # appid / 公众账号ID when the export has it
        "nickname": "VARCHAR",  # 昵称
        **_PHONE,  # 手机号 (members bind a full phone)
        "email": "VARCHAR",  # 邮箱 (lower-cased)
        "gender": "VARCHAR",  # 性别
        "city": "VARCHAR",  # 城市
        "registered_at": "TIMESTAMP",  # 注册时间
        "follow_status": "VARCHAR",  # 关注状态: 关注 / 取消关注 (native value)
        "unfollowed_at": "TIMESTAMP",  # 取消关注时间
        "member_card": "VARCHAR",  # 会员卡号
        "member_level": "VARCHAR",  # 会员等级 (native value)
        "points": "INTEGER",  # 积分
        "tags": "VARCHAR",  # 标签, normalised to comma-separated
        "sms_consent": "BOOLEAN",  # 营销短信授权
        "wecom_friend": "BOOLEAN",  # 企微好友
    },
    # One row per bill detail line (summary block reconciled, not loaded).
    "wechat_pay": {
        "traded_at": "TIMESTAMP",  # 交易时间
        "app_id": "VARCHAR",  # 公众账号ID
        "mch_id": "VARCHAR",  # 商户号
        "sub_mch_id": "VARCHAR",  # 特约商户号
        "device_no": "VARCHAR",  # 设备号
        "transaction_id": "VARCHAR",  # 微信订单号
        "out_trade_no": "VARCHAR",  # 商户订单号
        "openid": "VARCHAR",  # 用户标识
        "trade_type": "VARCHAR",  # 交易类型
        "trade_state": "VARCHAR",  # 交易状态: SUCCESS / REFUND / REVOKED
        "bank_type": "VARCHAR",  # 付款银行
        "currency": "VARCHAR",  # 货币种类
        "settlement_amount": MONEY,  # 应结订单金额
        "coupon_amount": MONEY,  # 代金券金额
        "refund_id": "VARCHAR",  # 微信退款单号
        "out_refund_no": "VARCHAR",  # 商户退款单号
        "refund_amount": MONEY,  # 退款金额
        "coupon_refund_amount": MONEY,  # 充值券退款金额
        "refund_type": "VARCHAR",  # 退款类型
        "refund_status": "VARCHAR",  # 退款状态
        "product_name": "VARCHAR",  # 商品名称
        "merchant_data": "VARCHAR",  # 商户数据包
        "fee": MONEY,  # 手续费 (may carry more decimals in the export; rounded to 2)
        "fee_rate": "VARCHAR",  # 费率, e.g. 0.60%
        "order_amount": MONEY,  # 订单金额
        "requested_refund_amount": MONEY,  # 申请退款金额
        "fee_rate_note": "VARCHAR",  # 费率备注
    },
    # One row per touch event.
    "touches": {
        "campaign_id": "VARCHAR",
        "campaign_name": "VARCHAR",
        "channel": "VARCHAR",  # sms / wecom / email / app_push
        "variant": "VARCHAR",  # A, B, ... ; control = holdout; null when not an A/B test
        "recipient_type": "VARCHAR",  # phone / openid / unionid / member_card / email
        "recipient": "VARCHAR",  # normalised (phone → 11 digits, email lower-cased)
        "recipient_issue": "VARCHAR",  # why a recipient could not be normalised (masked, invalid, ...)
        "event_type": "VARCHAR",  # sent, delivered, opened, clicked, add_to_cart
        "event_time": "TIMESTAMP",
    },
}

QUARANTINE: dict[str, str] = {
    "source": "VARCHAR",
    "file_name": "VARCHAR",
    "file_sha256": "VARCHAR",
    "row_number": "INTEGER",
    "raw_row": "JSON",  # {native header: cell text}
    "reason": "VARCHAR",  # e.g. "订单编号: id destroyed by Excel (1.23457E+18)"
    "quarantined_at": "TIMESTAMP",
}

FILES: dict[str, str] = {
    "source": "VARCHAR",
    "file_name": "VARCHAR",  # relative to the landing folder
    "sha256": "VARCHAR",
    "size_bytes": "BIGINT",
    "rows_in": "INTEGER",  # data rows found (title, header, total and blank rows excluded)
    "rows_loaded": "INTEGER",
    "rows_quarantined": "INTEGER",
    "status": "VARCHAR",  # loaded / rejected
    "message": "VARCHAR",  # what happened, in words a person can act on
    "loaded_at": "TIMESTAMP",
}


def raw_table_columns(source: str) -> dict[str, str]:
    """All columns of raw.<source>: canonical columns then lineage columns."""
    return {**CANONICAL[source], **LINEAGE}


def create_raw_tables(con) -> None:
    """Create the raw schema and every raw table if missing (names come from this module, never files)."""
    con.execute("create schema if not exists raw")
    tables = {source: raw_table_columns(source) for source in CANONICAL}
    tables["_quarantine"] = QUARANTINE
    tables["_files"] = FILES
    for table, columns in tables.items():
        cols = ", ".join(f'"{name}" {dtype}' for name, dtype in columns.items())
        con.execute(f'create table if not exists raw."{table}" ({cols})')
