"""The source registry: one entry per landing source, and everything the rest of the platform derives.

A source's ``name`` is its landing folder (``landing/<name>/``), its raw table (``raw.<name>``), its GX
suite (``raw__<name>``) and its raw gate (``gx_raw__<name>``). From :data:`REGISTRY`:

- ``ingestion.schemas``: the canonical columns and DuckDB types of ``raw.<name>``;
- the adapters (``ingestion/adapters/<name>.py``): the native values they know (``known_values``);
- ``quality.suites``: the GX suite (not-null columns, unique-per-file keys, status and soft value sets,
  money bounds, phone patterns, freshness column) and its markdown summary in ``quality/README.md``;
- ``quality.raw_frames`` and the raw gates: the freshness policy (judged on file arrival) and the
  event-time column (its newest value is shown, as information);
- ``core.paths.SOURCES``: the names, in this order;
- dbt: the order channels (``var('order_channels')`` in ``dbt/dbt_project.yml``, which a test keeps equal
  to :func:`order_channels`) and each source's staging model.

Adding a source: one entry here, one adapter ``ingestion/adapters/<name>.py``, one staging model (plus
its table in ``dbt/models/staging/_raw__sources.yml``; an order channel also needs its entry in the dbt var
and its branch in ``int_orders_unioned``). Nothing here imports the rest of the platform.

Native categorical values stay as exported (``交易成功`` is data); staging maps them. Identifiers are
text, money is :data:`MONEY`, times are naive Beijing time. Phones are normalised to an 11-digit mainland
mobile or null, with ``phone_masked`` and ``phone_issue`` saying why a phone is null.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

MONEY = "DECIMAL(18,2)"
DUCKDB_TYPES = ("VARCHAR", "JSON", "TIMESTAMP", MONEY, "DOUBLE", "INTEGER", "BIGINT", "BOOLEAN")
PHONE_PATTERN = r"^1[3-9]\d{9}$"


@dataclass(frozen=True)
class Column:
    """One canonical column of ``raw.<source>``."""

    name: str
    type: str  # DuckDB type
    not_null: bool = False  # required: a null value fails the raw gate (critical)

    def __post_init__(self) -> None:
        if self.type not in DUCKDB_TYPES:
            raise ValueError(f"column {self.name}: unknown DuckDB type {self.type!r}")


@dataclass(frozen=True)
class PhoneColumn:
    """A column of normalised phones: not null ⇒ matches :data:`PHONE_PATTERN` (critical). With ``when``
    = (column, value) only the rows where that column has that value are phones."""

    column: str
    when: tuple[str, str] | None = None


@dataclass(frozen=True)
class Freshness:
    """How long a feed may go without a new file, in days, like dbt's source freshness: judged on when the
    source's newest loaded file ARRIVED (its export time when the file name states one, else when the loader
    first saw it: ``raw._files.loaded_at``), against the wall clock. Never on business events: a member list
    whose newest registration is a year old is still a fresh snapshot, and one far-future row cannot move
    any verdict (see ``quality.raw_frames.judge_freshness``).

    Older than ``warn_after_days``: the gate warns (WARN, never blocks). Older than ``error_after_days``: the
    gate blocks (ERROR). ``None`` switches a level off (``error_after_days=None``: the feed never blocks)."""

    error_after_days: int | None
    warn_after_days: int | None = None

    def __post_init__(self) -> None:
        for days in (self.warn_after_days, self.error_after_days):
            if days is not None and days <= 0:
                raise ValueError("freshness thresholds are positive whole days (or None: off)")
        if (
            self.warn_after_days is not None
            and self.error_after_days is not None
            and self.warn_after_days >= self.error_after_days
        ):
            raise ValueError("warn_after_days must be below error_after_days")


@dataclass(frozen=True)
class OrderChannel:
    """A source whose rows are orders: ``channel`` is its name in dbt (``int_orders_unioned.channel``),
    ``natural_key`` the raw column identifying an order (the unit the incremental models recompute),
    ``has_lines`` whether its export has one row per item line (``int_order_lines_unioned`` reads it)."""

    channel: str
    natural_key: str
    has_lines: bool = False


@dataclass(frozen=True)
class Source:
    name: str  # landing folder = raw table
    description: str
    columns: tuple[Column, ...]
    event_time: str  # the business time of a row; its newest value is shown by the gate (information only)
    freshness: Freshness  # judged on file arrival, not on event_time
    staging_model: str  # dbt/models/staging/<name>/<staging_model>.sql
    # one row per these columns within a file, where the export promises it (across files keys repeat by
    # design: re-exports of overlapping periods; staging keeps the latest file's row)
    unique_per_file: tuple[str, ...] = ()
    # native values the adapters know (values outside are kept in raw and noted in _extra._issues): an
    # unknown status decides nothing downstream can trust (is it a purchase?), so it blocks (critical)
    status_sets: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    # categories a merchant may extend: a new value is worth a look, not a stop (warning)
    soft_value_sets: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    # sane bounds in yuan (critical): beyond them is a unit or parsing error
    money_bounds: Mapping[str, tuple[float, float]] = field(default_factory=dict)
    phone_columns: tuple[PhoneColumn, ...] = ()
    order: OrderChannel | None = None

    def __post_init__(self) -> None:
        names = [c.name for c in self.columns]
        if len(set(names)) != len(names):
            raise ValueError(f"{self.name}: duplicate canonical column")
        referenced = [
            self.event_time,
            *self.unique_per_file,
            *self.status_sets,
            *self.soft_value_sets,
            *self.money_bounds,
            *(p.column for p in self.phone_columns),
            *(p.when[0] for p in self.phone_columns if p.when),
            *([self.order.natural_key] if self.order else []),
        ]
        unknown = [c for c in referenced if c not in names]
        if unknown:
            raise ValueError(f"{self.name}: rules name columns it does not have: {unknown}")
        not_money = [c for c in self.money_bounds if self.column_types[c] != MONEY]
        if not_money:
            raise ValueError(f"{self.name}: money bounds on non-money columns {not_money}")

    @property
    def column_types(self) -> dict[str, str]:
        """Canonical column → DuckDB type, in table order."""
        return {c.name: c.type for c in self.columns}

    @property
    def not_null(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns if c.not_null)

    def status_set(self, column: str) -> tuple[str, ...]:
        return self.status_sets[column]


def _phone() -> tuple[Column, ...]:
    """A phone as the adapters write it: the normalised phone, whether it was masked, why it is null."""
    return (
        Column("phone", "VARCHAR"),
        Column("phone_masked", "BOOLEAN"),
        Column("phone_issue", "VARCHAR"),  # masked / placeholder / invalid; null when empty or fine
    )


# ------------------------------------------------------------------------------ native value sets
# A superset of FORMATS.md: the spellings real exports use.
POS_RECEIPT_TYPES = ("销售", "退货")
POS_PAYMENT_METHODS = ("微信", "支付宝", "现金", "银行卡", "储值卡")
TMALL_STATUSES = (
    "交易成功",
    "交易关闭",
    "等待买家付款",
    "买家已付款，等待卖家发货",
    "卖家已发货，等待买家确认",
    "卖家部分发货",
    "买家已付款",
    "卖家已发货",
)
JD_STATUSES = ("完成", "已完成", "已取消", "取消", "等待出库", "等待确认收货", "锁定", "等待付款", "暂停",
               "等待发货", "正在出库", "已收货")
FOLLOW_STATUSES = ("关注", "取消关注", "已关注", "未关注", "已取消关注")
GENDERS = ("男", "女", "未知")
TRADE_STATES = ("SUCCESS", "REFUND", "REVOKED", "NOTPAY", "CLOSED", "USERPAYING", "PAYERROR")
CURRENCIES = ("CNY",)
# Touches: the canonical values the adapter maps native spellings to (holdout: a control group's row;
# failed, bounced, unsubscribed, complained: the delivery and consent events every SMS/email platform
# reports, which feed the suppression list of the automated touch).
TOUCH_CHANNELS = ("sms", "wecom", "email", "app_push")
TOUCH_EVENT_TYPES = ("sent", "delivered", "opened", "clicked", "add_to_cart", "holdout",
                     "failed", "bounced", "unsubscribed", "complained")
TOUCH_RECIPIENT_TYPES = ("phone", "openid", "unionid", "member_card", "email")

# Money bounds in yuan: a single receipt line / order / bill line beyond them is a unit or parsing error
# (cents read as yuan, two columns glued). Returns and refunds are negative on POS lines only.
LINE_LIMIT = 100_000
ORDER_LIMIT = 1_000_000

# Freshness: days since the newest file of a source arrived (its export time, else its load time), against
# the wall clock. Defaults a merchant can live with:
# - order feeds (pos, tmall, jd, wechat_pay): warn after 3 days, so a weekend without exports (Friday
#   evening's file, Monday morning's run: ~2.6 days) stays quiet and a missed weekday shows; block after 35
#   days, so a merchant who exports once a month (the month's file lands a few days after month end: up to
#   31 + 4 days) is never blocked, while a feed that stopped for more than a month cannot feed the marts.
# - wechat_members: a snapshot exported every week or two; warn after 14 days, block after 100 (a quarter
#   plus slack): consent, follow status and tiers older than that would drive campaigns on stale consent.
# - touches: campaign logs come when there are campaigns (irregular, months apart): warn after 30 days,
#   never block.
ORDER_FEED = Freshness(warn_after_days=3, error_after_days=35)
MEMBER_SNAPSHOT = Freshness(warn_after_days=14, error_after_days=100)
CAMPAIGN_LOG = Freshness(warn_after_days=30, error_after_days=None)

# ------------------------------------------------------------------------------------- registry
REGISTRY: tuple[Source, ...] = (
    Source(
        name="pos",
        description="Store POS sales detail, one row per receipt line; returns: receipt_type 退货 with "
        "negative quantity / paid_amount.",
        columns=(
            Column("receipt_no", "VARCHAR", not_null=True),  # 单据号
            Column("receipt_type", "VARCHAR", not_null=True),  # 单据类型: 销售 / 退货
            Column("original_receipt_no", "VARCHAR"),  # 原单据号 (returns)
            Column("store_code", "VARCHAR", not_null=True),  # 门店编码
            Column("store_name", "VARCHAR"),  # 门店名称
            Column("cashier", "VARCHAR"),  # 收银员
            Column("sold_at", "TIMESTAMP", not_null=True),  # 销售时间
            Column("member_card", "VARCHAR"),  # 会员卡号
            *_phone(),  # 会员手机号
            Column("sku_code", "VARCHAR", not_null=True),  # 商品编码
            Column("sku_name", "VARCHAR"),  # 商品名称
            Column("quantity", "DOUBLE", not_null=True),  # 数量
            Column("unit_price", MONEY),  # 单价
            Column("discount_amount", MONEY),  # 折扣金额
            Column("paid_amount", MONEY, not_null=True),  # 实收金额
            Column("payment_method", "VARCHAR"),  # 支付方式
        ),
        event_time="sold_at",
        freshness=ORDER_FEED,
        staging_model="stg_pos__receipt_lines",
        status_sets={"receipt_type": POS_RECEIPT_TYPES},
        soft_value_sets={"payment_method": POS_PAYMENT_METHODS},
        money_bounds={
            "unit_price": (0, LINE_LIMIT),
            "discount_amount": (-LINE_LIMIT, LINE_LIMIT),
            "paid_amount": (-LINE_LIMIT, LINE_LIMIT),
        },
        phone_columns=(PhoneColumn("phone"),),
        order=OrderChannel(channel="pos", natural_key="receipt_no", has_lines=True),
    ),
    Source(
        name="tmall",
        description="Taobao/Tmall seller order export, one row per order.",
        columns=(
            Column("order_id", "VARCHAR", not_null=True),  # 订单编号
            Column("buyer_nick", "VARCHAR"),  # 买家会员名 (null when masked like t**1)
            Column("buyer_nick_masked", "BOOLEAN"),
            Column("oaid", "VARCHAR"),  # OAID
            Column("goods_amount", MONEY),  # 买家应付货款
            Column("shipping_fee", MONEY),  # 买家应付邮费
            Column("total_amount", MONEY, not_null=True),  # 总金额
            Column("paid_amount", MONEY, not_null=True),  # 买家实际支付金额
            Column("order_status", "VARCHAR", not_null=True),  # 订单状态 (native value)
            Column("buyer_message", "VARCHAR"),  # 买家留言
            Column("receiver_name", "VARCHAR"),  # 收货人姓名
            Column("receiver_address", "VARCHAR"),  # 收货地址
            *_phone(),  # 联系手机
            Column("created_at", "TIMESTAMP", not_null=True),  # 订单创建时间
            Column("paid_at", "TIMESTAMP"),  # 订单付款时间
            Column("item_title", "VARCHAR"),  # 宝贝标题
            Column("item_count", "INTEGER"),  # 宝贝总数量
            Column("shop_name", "VARCHAR"),  # 店铺名称
            Column("refund_amount", MONEY),  # 退款金额
            Column("close_reason", "VARCHAR"),  # 订单关闭原因
        ),
        event_time="created_at",
        freshness=ORDER_FEED,
        staging_model="stg_tmall__orders",
        # a Tmall order twice in one file with different contents is a broken export, and staging would
        # silently keep one
        unique_per_file=("order_id",),
        status_sets={"order_status": TMALL_STATUSES},
        money_bounds={
            "goods_amount": (0, ORDER_LIMIT),
            "shipping_fee": (0, 10_000),
            "total_amount": (0, ORDER_LIMIT),
            "paid_amount": (0, ORDER_LIMIT),
            "refund_amount": (0, ORDER_LIMIT),
        },
        phone_columns=(PhoneColumn("phone"),),
        order=OrderChannel(channel="tmall", natural_key="order_id"),
    ),
    Source(
        name="jd",
        description="JD POP order export, one row per order line; order-level money repeats on every line "
        "of an order.",
        columns=(
            Column("order_id", "VARCHAR", not_null=True),  # 订单号
            Column("sku_id", "VARCHAR", not_null=True),  # 商品ID
            Column("sku_name", "VARCHAR"),  # 商品名称
            Column("quantity", "INTEGER", not_null=True),  # 订购数量
            Column("payment_method", "VARCHAR"),  # 支付方式
            Column("ordered_at", "TIMESTAMP", not_null=True),  # 下单时间
            Column("jd_price", MONEY),  # 京东价 (line unit price)
            Column("order_amount", MONEY),  # 订单金额 (order level)
            Column("settlement_amount", MONEY),  # 结算金额 (order level)
            Column("payable_amount", MONEY),  # 应付金额 (order level)
            Column("order_status", "VARCHAR", not_null=True),  # 订单状态 (native value)
            Column("order_type", "VARCHAR"),  # 订单类型
            Column("account", "VARCHAR"),  # 下单帐号 (null when masked)
            Column("account_masked", "BOOLEAN"),
            Column("customer_name", "VARCHAR"),  # 客户姓名
            Column("customer_address", "VARCHAR"),  # 客户地址
            *_phone(),  # 联系电话
            Column("paid_at", "TIMESTAMP"),  # 付款确认时间
            Column("completed_at", "TIMESTAMP"),  # 订单完成时间
            Column("shop_name", "VARCHAR"),  # 店铺名称 (when present)
        ),
        event_time="ordered_at",
        freshness=ORDER_FEED,
        staging_model="stg_jd__order_lines",
        status_sets={"order_status": JD_STATUSES},
        money_bounds={
            "jd_price": (0, LINE_LIMIT),
            "order_amount": (0, ORDER_LIMIT),
            "settlement_amount": (0, ORDER_LIMIT),
            "payable_amount": (0, ORDER_LIMIT),
        },
        phone_columns=(PhoneColumn("phone"),),
        order=OrderChannel(channel="jd", natural_key="order_id", has_lines=True),
    ),
    Source(
        name="wechat_members",
        description="WeChat member / follower export, one row per member.",
        columns=(
            Column("openid", "VARCHAR", not_null=True),
            Column("unionid", "VARCHAR"),  # null when the app is not bound to the open platform
            Column("app_id", "VARCHAR"),  # appid / 公众账号ID when the export has it
            Column("nickname", "VARCHAR"),  # 昵称
            *_phone(),  # 手机号 (members bind a full phone)
            Column("email", "VARCHAR"),  # 邮箱 (lower-cased)
            Column("gender", "VARCHAR"),  # 性别
            Column("city", "VARCHAR"),  # 城市
            Column("registered_at", "TIMESTAMP", not_null=True),  # 注册时间
            Column("follow_status", "VARCHAR"),  # 关注状态: 关注 / 取消关注 (native value)
            Column("unfollowed_at", "TIMESTAMP"),  # 取消关注时间
            Column("member_card", "VARCHAR"),  # 会员卡号
            Column("member_level", "VARCHAR"),  # 会员等级 (native value)
            Column("points", "INTEGER"),  # 积分
            Column("tags", "VARCHAR"),  # 标签, normalised to comma-separated
            Column("sms_consent", "BOOLEAN"),  # 营销短信授权
            Column("wecom_friend", "BOOLEAN"),  # 企微好友
            Column("birth_month_day", "VARCHAR"),  # 生日 as MM-DD (personal data: restricted downstream)
            Column("birth_year", "INTEGER"),  # 生日's year; null when withheld (the MM-DD form)
        ),
        event_time="registered_at",
        freshness=MEMBER_SNAPSHOT,
        staging_model="stg_wechat_members__members",
        unique_per_file=("openid",),
        status_sets={"follow_status": FOLLOW_STATUSES},
        soft_value_sets={"gender": GENDERS},
        phone_columns=(PhoneColumn("phone"),),
    ),
    Source(
        name="wechat_pay",
        description="WeChat Pay merchant trade bill, one row per detail line (the summary block is "
        "reconciled, not loaded).",
        columns=(
            Column("traded_at", "TIMESTAMP", not_null=True),  # 交易时间
            Column("app_id", "VARCHAR"),  # 公众账号ID
            Column("mch_id", "VARCHAR"),  # 商户号
            Column("sub_mch_id", "VARCHAR"),  # 特约商户号
            Column("device_no", "VARCHAR"),  # 设备号
            Column("transaction_id", "VARCHAR", not_null=True),  # 微信订单号
            Column("out_trade_no", "VARCHAR", not_null=True),  # 商户订单号
            Column("openid", "VARCHAR", not_null=True),  # 用户标识
            Column("trade_type", "VARCHAR"),  # 交易类型
            Column("trade_state", "VARCHAR", not_null=True),  # 交易状态: SUCCESS / REFUND / REVOKED
            Column("bank_type", "VARCHAR"),  # 付款银行
            Column("currency", "VARCHAR"),  # 货币种类
            Column("settlement_amount", MONEY, not_null=True),  # 应结订单金额
            Column("coupon_amount", MONEY),  # 代金券金额
            Column("refund_id", "VARCHAR"),  # 微信退款单号
            Column("out_refund_no", "VARCHAR"),  # 商户退款单号
            Column("refund_amount", MONEY),  # 退款金额
            Column("coupon_refund_amount", MONEY),  # 充值券退款金额
            Column("refund_type", "VARCHAR"),  # 退款类型
            Column("refund_status", "VARCHAR"),  # 退款状态
            Column("product_name", "VARCHAR"),  # 商品名称
            Column("merchant_data", "VARCHAR"),  # 商户数据包
            Column("fee", MONEY),  # 手续费 (may carry more decimals in the export; rounded to 2)
            Column("fee_rate", "VARCHAR"),  # 费率, e.g. 0.60%
            Column("order_amount", MONEY),  # 订单金额
            Column("requested_refund_amount", MONEY),  # 申请退款金额
            Column("fee_rate_note", "VARCHAR"),  # 费率备注
        ),
        event_time="traded_at",
        freshness=ORDER_FEED,
        staging_model="stg_wechat_pay__transactions",
        status_sets={"trade_state": TRADE_STATES},
        soft_value_sets={"currency": CURRENCIES},
        money_bounds={
            "settlement_amount": (0, ORDER_LIMIT),
            "coupon_amount": (0, ORDER_LIMIT),
            "refund_amount": (0, ORDER_LIMIT),
            "coupon_refund_amount": (0, ORDER_LIMIT),
            "fee": (-10_000, 10_000),  # a refund line carries a negative fee
            "order_amount": (0, ORDER_LIMIT),
            "requested_refund_amount": (0, ORDER_LIMIT),
        },
        order=OrderChannel(channel="wechat", natural_key="out_trade_no"),
    ),
    Source(
        name="touches",
        description="Campaign touch log, one row per touch event.",
        columns=(
            Column("campaign_id", "VARCHAR", not_null=True),
            Column("campaign_name", "VARCHAR"),
            Column("channel", "VARCHAR", not_null=True),  # sms / wecom / email / app_push
            Column("variant", "VARCHAR"),  # A, B, ... ; control = holdout; null when not an A/B test
            Column("recipient_type", "VARCHAR", not_null=True),  # phone / openid / unionid / member_card / email
            Column("recipient", "VARCHAR"),  # normalised (phone → 11 digits, email lower-cased)
            Column("recipient_issue", "VARCHAR"),  # why a recipient could not be normalised (masked, …)
            Column("event_type", "VARCHAR", not_null=True),  # sent … add_to_cart, failed … complained
            Column("event_time", "TIMESTAMP", not_null=True),
        ),
        event_time="event_time",
        freshness=CAMPAIGN_LOG,
        staging_model="stg_touches__events",
        status_sets={
            "channel": TOUCH_CHANNELS,
            "event_type": TOUCH_EVENT_TYPES,
            "recipient_type": TOUCH_RECIPIENT_TYPES,
        },
        phone_columns=(PhoneColumn("recipient", when=("recipient_type", "phone")),),
    ),
)

SOURCES_BY_NAME: dict[str, Source] = {source.name: source for source in REGISTRY}
SOURCE_NAMES: tuple[str, ...] = tuple(SOURCES_BY_NAME)


def get_source(name: str) -> Source:
    try:
        return SOURCES_BY_NAME[name]
    except KeyError:
        raise ValueError(f"unknown source {name!r}; known: {', '.join(SOURCE_NAMES)}") from None


def order_channels() -> list[dict[str, str | bool]]:
    """The order channels as dbt's ``var('order_channels')`` lists them: channel, raw source, natural key,
    whether the export has item lines."""
    return [
        {"channel": s.order.channel, "source": s.name, "key": s.order.natural_key, "has_lines": s.order.has_lines}
        for s in REGISTRY
        if s.order is not None
    ]
