"""A tiny hand-written world for the identity tests.

Ana    POS receipt R1 (phone 13900000001, card M001, 2025-01-01); member rows in two apps: wxA (openid oA1,
       unionid uAna, phone 13900000001, 2025-01-03) and wxB (openid oB1, unionid uAna, no phone,
       2025-01-04); WeChat Pay order P1 paid by oB1 (2025-01-06): openid -> unionid -> phone, one customer.
Chen   POS receipt R2 (phone 13700000002, 2025-01-02).
Dong   Tmall order T2 (buyer nick dong_nick, OAID oaidD, masked phone 137****0002, 2025-01-05).
Hub    POS receipts R10..R16 typed with the store phone 13912345678, each with its own card M10..M16
       (2025-01-07): 7 distinct cards > threshold 5, so the phone is a hub and the cards stay apart.
Masked Tmall orders T3, T4 from two buyers, same masked phone 138****5678, nicks masked too: no identifier.

Merge file: Tmall order T9 (2025-02-01) by dong_nick with Chen's full phone 13700000002: Chen and Dong merge.

Mint order (first seen, then component): Ana C0000000001 (01-01), Chen C0000000002 (01-02),
Dong C0000000003 (01-05), then the 7 card-only customers C0000000004..C0000000010 (01-07, by card).
"""

from __future__ import annotations

import datetime as dt

import duckdb

from tests.helpers.identity_raw_rows import LOADED_AT, insert_raw, ts


def _pos(receipt: str, sold_at: str, phone: str | None, card: str | None, amount: float) -> dict:
    return {
        "receipt_no": receipt, "receipt_type": "销售", "store_code": "S01", "store_name": "静安店",
        "sold_at": ts(sold_at), "member_card": card, "phone": phone, "phone_masked": False,
        "sku_code": "SKU1", "sku_name": "面霜", "quantity": 1, "unit_price": amount, "discount_amount": 0,
        "paid_amount": amount, "payment_method": "微信",
    }


def _tmall(order_id: str, created_at: str, nick: str | None, oaid: str | None, phone: str | None,
           masked_phone: bool, amount: float) -> dict:
    return {
        "order_id": order_id, "buyer_nick": nick, "buyer_nick_masked": nick is None, "oaid": oaid,
        "goods_amount": amount, "shipping_fee": 0, "total_amount": amount, "paid_amount": amount,
        "order_status": "交易成功", "receiver_name": "收货人" + order_id, "receiver_address": "上海市" + order_id,
        "phone": phone, "phone_masked": masked_phone, "phone_issue": "masked" if masked_phone else None,
        "created_at": ts(created_at), "paid_at": ts(created_at), "item_title": "面霜", "item_count": 1,
        "shop_name": "天猫旗舰店", "refund_amount": 0,
    }


def load_base(con: duckdb.DuckDBPyConnection) -> None:
    insert_raw(con, "pos", "pos_2025-01.csv", [
        _pos("R1", "2025-01-01 10:00:00", "13900000001", "M001", 100.0),
        _pos("R2", "2025-01-02 10:00:00", "13700000002", None, 50.0),
        *[_pos(f"R1{i}", "2025-01-07 10:00:00", "13912345678", f"M1{i}", 10.0) for i in range(7)],
    ])
    insert_raw(con, "wechat_members", "members.csv", [
        {"openid": "oA1", "unionid": "uAna", "app_id": "wxA", "phone": "13900000001", "phone_masked": False,
         "registered_at": ts("2025-01-03 09:00:00"), "follow_status": "关注", "member_card": "M001",
         "member_level": "金卡", "points": 1200, "tags": "敏感肌,高复购", "sms_consent": True,
         "wecom_friend": False, "email": "ana@example.com"},
        {"openid": "oB1", "unionid": "uAna", "app_id": "wxB", "phone": None, "phone_masked": False,
         "registered_at": ts("2025-01-04 09:00:00"), "follow_status": "取消关注", "sms_consent": False,
         "wecom_friend": True},
    ])
    insert_raw(con, "wechat_pay", "bill_2025-01-06.csv", [
        {"traded_at": ts("2025-01-06 12:00:00"), "app_id": "wxB", "mch_id": "1900000001",
         "transaction_id": "4200000001", "out_trade_no": "P1", "openid": "oB1", "trade_type": "JSAPI",
         "trade_state": "SUCCESS", "settlement_amount": 80.0, "order_amount": 80.0, "currency": "CNY"},
    ])
    insert_raw(con, "tmall", "tmall_2025-01.csv", [
        _tmall("T2", "2025-01-05 20:00:00", "dong_nick", "oaidD", None, True, 200.0),
        _tmall("T3", "2025-01-08 20:00:00", None, None, None, True, 30.0),
        _tmall("T4", "2025-01-08 21:00:00", None, None, None, True, 40.0),
    ])


def load_merge_file(con: duckdb.DuckDBPyConnection) -> None:
    # Loaded after the base files, as the loader stamps a later file (the incremental order models pick up
    # the rows loaded after their watermark).
    insert_raw(con, "tmall", "tmall_2025-02.csv", [
        {**_tmall("T9", "2025-02-01 20:00:00", "dong_nick", None, "13700000002", False, 300.0),
         "_loaded_at": LOADED_AT + dt.timedelta(days=1)},
    ])
