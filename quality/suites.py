"""The Great Expectations suite of every raw table, ``raw__<source>``, defined in code.

The committed JSON under ``expectations/gx/expectations/`` is what :func:`build_suite` returns (a test
compares them); the bootstrap only adds what is missing, so the JSON never changes behind a reviewer's
back. Rules per table:

- columns and their order (``ingestion.schemas``: canonical then lineage columns) and each column's type as
  the DuckDB table reads into pandas (:data:`PANDAS_DTYPES`);
- keys not null (:data:`NOT_NULL`) and the lineage columns not null;
- one row per key within a file where the export promises it (:data:`UNIQUE_PER_FILE`: a Tmall order
  twice in one file with different contents is a broken export, and staging would silently keep one);
- native status values within the set the adapters know (``TMALL_STATUSES``…, a superset of FORMATS.md);
- money within sane bounds (:data:`MONEY_BOUNDS`);
- normalised phones match ``^1[3-9]\\d{9}$`` when not null (touches: recipients of type ``phone``);
- row count equal to the manifest's loaded rows (parameter ``manifest_rows_loaded``);
- freshness: the newest event time not older than the parameter ``fresh_since``.

Free-text categories a merchant may extend (payment methods, gender, currency) are ``warning``
expectations: shown, never blocking. Everything else is ``critical``: a failure blocks the marts.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from core.paths import SOURCES
from ingestion.adapters.jd import JD_STATUSES
from ingestion.adapters.tmall import TMALL_STATUSES
from ingestion.adapters.touches import CHANNELS, EVENT_TYPES, RECIPIENT_TYPES
from ingestion.adapters.wechat_pay import TRADE_STATES
from ingestion.schemas import raw_table_columns

if TYPE_CHECKING:  # GX takes ~4 s to import: only when a suite is built, not when definitions load
    import great_expectations.expectations as gxe
    from great_expectations.core import ExpectationSuite

PHONE_PATTERN = r"^1[3-9]\d{9}$"
MANIFEST_ROWS_PARAMETER = "manifest_rows_loaded"
FRESH_SINCE_PARAMETER = "fresh_since"

# How a DuckDB column type reads into pandas (``con.execute(...).df()``), named as GX's pandas type check
# compares them: by the dtype's scalar type (``Int32`` and ``int32`` are both ``int32``, ``boolean`` is
# ``bool``; pandas 3 text is ``str``).
PANDAS_DTYPES: dict[str, str] = {
    "VARCHAR": "str",
    "JSON": "str",
    "TIMESTAMP": "datetime64[us]",
    "DECIMAL(18,2)": "float64",
    "DOUBLE": "float64",
    "INTEGER": "int32",
    "BIGINT": "int64",
    "BOOLEAN": "bool",
}

# The event time whose newest value says how fresh a feed is.
EVENT_TIME: dict[str, str] = {
    "pos": "sold_at",
    "tmall": "created_at",
    "jd": "ordered_at",
    "wechat_members": "registered_at",
    "wechat_pay": "traded_at",
    "touches": "event_time",
}

NOT_NULL: dict[str, tuple[str, ...]] = {
    "pos": ("receipt_no", "receipt_type", "store_code", "sold_at", "sku_code", "quantity", "paid_amount"),
    "tmall": ("order_id", "order_status", "created_at", "total_amount", "paid_amount"),
    "jd": ("order_id", "sku_id", "quantity", "ordered_at", "order_status"),
    "wechat_members": ("openid", "registered_at"),
    "wechat_pay": (
        "traded_at",
        "transaction_id",
        "out_trade_no",
        "openid",
        "trade_state",
        "settlement_amount",
    ),
    "touches": ("campaign_id", "channel", "recipient_type", "event_type", "event_time"),
}
LINEAGE_NOT_NULL = ("_file_sha256", "_file_name", "_row_number", "_loaded_at")

# Exports with one row per key (FORMATS.md): unique within a file. (Across files a key repeats by design:
# re-exports of overlapping periods; staging keeps the latest file's row.)
UNIQUE_PER_FILE: dict[str, tuple[str, ...]] = {
    "tmall": ("order_id",),
    "wechat_members": ("openid",),
}

# Native values the adapters know (values outside are kept in raw and noted in _extra._issues): an unknown
# status decides nothing downstream can trust (is it a purchase?), so it blocks.
STATUS_SETS: dict[str, dict[str, tuple[str, ...]]] = {
    "pos": {"receipt_type": ("销售", "退货")},
    "tmall": {"order_status": TMALL_STATUSES},
    "jd": {"order_status": JD_STATUSES},
    "wechat_members": {"follow_status": ("关注", "取消关注", "已关注", "未关注", "已取消关注")},
    "wechat_pay": {"trade_state": TRADE_STATES},
    "touches": {
        "channel": CHANNELS,
        "event_type": tuple(EVENT_TYPES),
        "recipient_type": tuple(RECIPIENT_TYPES),
    },
}
# Categories a merchant may extend: a new value is worth a look, not a stop.
SOFT_VALUE_SETS: dict[str, dict[str, tuple[str, ...]]] = {
    "pos": {"payment_method": ("微信", "支付宝", "现金", "银行卡", "储值卡")},
    "wechat_members": {"gender": ("男", "女", "未知")},
    "wechat_pay": {"currency": ("CNY",)},
}

# Sane bounds in yuan: a single receipt line / order / bill line beyond them is a unit or parsing error
# (cents read as yuan, two columns glued). Returns and refunds are negative on POS lines only.
LINE_LIMIT = 100_000
ORDER_LIMIT = 1_000_000
MONEY_BOUNDS: dict[str, dict[str, tuple[float, float]]] = {
    "pos": {
        "unit_price": (0, LINE_LIMIT),
        "discount_amount": (-LINE_LIMIT, LINE_LIMIT),
        "paid_amount": (-LINE_LIMIT, LINE_LIMIT),
    },
    "tmall": {
        "goods_amount": (0, ORDER_LIMIT),
        "shipping_fee": (0, 10_000),
        "total_amount": (0, ORDER_LIMIT),
        "paid_amount": (0, ORDER_LIMIT),
        "refund_amount": (0, ORDER_LIMIT),
    },
    "jd": {
        "jd_price": (0, LINE_LIMIT),
        "order_amount": (0, ORDER_LIMIT),
        "settlement_amount": (0, ORDER_LIMIT),
        "payable_amount": (0, ORDER_LIMIT),
    },
    "wechat_pay": {
        "settlement_amount": (0, ORDER_LIMIT),
        "coupon_amount": (0, ORDER_LIMIT),
        "refund_amount": (0, ORDER_LIMIT),
        "coupon_refund_amount": (0, ORDER_LIMIT),
        "fee": (-10_000, 10_000),  # a refund line carries a negative fee
        "order_amount": (0, ORDER_LIMIT),
        "requested_refund_amount": (0, ORDER_LIMIT),
    },
}


def suite_name(source: str) -> str:
    return f"raw__{source}"


def _soft(expectation: gxe.Expectation) -> gxe.Expectation:
    from great_expectations.expectations.metadata_types import FailureSeverity

    expectation.severity = FailureSeverity.WARNING
    return expectation


def expectations_for(source: str) -> list[gxe.Expectation]:
    """The expectations of ``raw__<source>``, in a fixed order."""
    import great_expectations.expectations as gxe
    from great_expectations.expectations.row_conditions import Column

    if source not in SOURCES:
        raise ValueError(f"unknown source {source!r}; known: {', '.join(SOURCES)}")
    columns = raw_table_columns(source)
    found: list[gxe.Expectation] = [
        gxe.ExpectTableColumnsToMatchOrderedList(column_list=list(columns)),
        gxe.ExpectTableRowCountToEqual(value={"$PARAMETER": MANIFEST_ROWS_PARAMETER}),
    ]
    for column, duckdb_type in columns.items():
        found.append(gxe.ExpectColumnValuesToBeOfType(column=column, type_=PANDAS_DTYPES[duckdb_type]))
    for column in (*NOT_NULL[source], *LINEAGE_NOT_NULL):
        found.append(gxe.ExpectColumnValuesToNotBeNull(column=column))
    if source in UNIQUE_PER_FILE:
        found.append(
            gxe.ExpectCompoundColumnsToBeUnique(column_list=["_file_sha256", *UNIQUE_PER_FILE[source]])
        )
    for column, values in STATUS_SETS[source].items():
        found.append(gxe.ExpectColumnValuesToBeInSet(column=column, value_set=list(values)))
    for column, values in SOFT_VALUE_SETS.get(source, {}).items():
        found.append(_soft(gxe.ExpectColumnValuesToBeInSet(column=column, value_set=list(values))))
    for column, (low, high) in MONEY_BOUNDS.get(source, {}).items():
        found.append(gxe.ExpectColumnValuesToBeBetween(column=column, min_value=low, max_value=high))
    if "phone" in columns:
        found.append(gxe.ExpectColumnValuesToMatchRegex(column="phone", regex=PHONE_PATTERN))
    if source == "touches":
        found.append(
            gxe.ExpectColumnValuesToMatchRegex(
                column="recipient", regex=PHONE_PATTERN, row_condition=Column("recipient_type") == "phone"
            )
        )
    found.append(
        gxe.ExpectColumnMaxToBeBetween(
            column=EVENT_TIME[source], min_value={"$PARAMETER": FRESH_SINCE_PARAMETER}
        )
    )
    return found


def build_suite(source: str) -> ExpectationSuite:
    from great_expectations.core import ExpectationSuite

    return ExpectationSuite(name=suite_name(source), expectations=expectations_for(source))


def comparable(expectation: gxe.Expectation | Mapping) -> dict:
    """An expectation as a dict without its id (ids are assigned when a suite is first stored)."""
    config = expectation if isinstance(expectation, Mapping) else expectation.configuration.to_json_dict()
    return {key: value for key, value in dict(config).items() if key not in ("id",)}
