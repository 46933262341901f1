"""Static reference data of the fictional merchant: stores, shops, products, names, campaigns."""

from __future__ import annotations

from dataclasses import dataclass

BRAND = "沐光"

# Stores: code, name, city, the store's own mobile number (cashiers type it for walk-ins).
STORES: tuple[tuple[str, str, str, str], ...] = (
    ("S001", "沐光上海南京西路店", "上海", "13917250001"),
    ("S002", "沐光上海徐家汇店", "上海", "13917250002"),
    ("S003", "沐光北京三里屯店", "北京", "13671180003"),
    ("S004", "沐光杭州湖滨银泰店", "杭州", "13758190004"),
    ("S005", "沐光深圳万象城店", "深圳", "13828760005"),
    ("S006", "沐光成都太古里店", "成都", "13980660006"),
    ("S007", "沐光广州天河城店", "广州", "13926010007"),
    ("S008", "沐光南京新街口店", "南京", "13913370008"),
)
STORE_WEIGHTS: tuple[float, ...] = (0.18, 0.12, 0.15, 0.12, 0.12, 0.11, 0.11, 0.09)
CASHIERS: tuple[str, ...] = ("王芳", "李娜", "张敏", "刘洋", "陈静", "杨磊", "赵丽", "黄婷", "周杰", "吴倩", "收银01", "收银02")

# Phones cashiers type for walk-ins who won't give a number; shared by many unrelated people.
PLACEHOLDER_PHONES: tuple[str, ...] = ("13800000000", "13888888888", "11111111111")
PLACEHOLDER_WEIGHTS: tuple[float, ...] = (0.5, 0.3, 0.2)

TMALL_SHOP = "沐光官方旗舰店"
JD_SHOPS: tuple[str, ...] = ("沐光京东官方旗舰店", "沐光个护京东专营店")
JD_SHOP_WEIGHTS: tuple[float, ...] = (0.8, 0.2)

WECHAT_APP_ID = "wx8a3c5f2e1b7d9046"  # the merchant's mini-program
WECHAT_MCH_ID = "1900012345"

# Products: sku code (barcode), JD sku id, name, unit price, popularity weight.
PRODUCTS: tuple[tuple[str, str, str, float, float], ...] = (
    ("6971234560011", "100023456711", "氨基酸洁面乳 120g", 89.0, 10.0),
    ("6971234560028", "100023456728", "玻尿酸保湿精华水 150ml", 159.0, 8.0),
    ("6971234560035", "100023456735", "烟酰胺焕亮精华液 30ml", 239.0, 7.0),
    ("6971234560042", "100023456742", "神经酰胺修护面霜 50g", 269.0, 6.0),
    ("6971234560059", "100023456759", "温和防晒乳 SPF50+ 50ml", 139.0, 8.0),
    ("6971234560066", "100023456766", "补水面膜 5片装", 69.0, 12.0),
    ("6971234560073", "100023456773", "视黄醇抗皱眼霜 15g", 299.0, 3.0),
    ("6971234560080", "100023456780", "控油洗发水 500ml", 79.0, 9.0),
    ("6971234560097", "100023456797", "丝滑护发素 500ml", 79.0, 6.0),
    ("6971234560103", "100023456803", "香氛沐浴露 500ml", 69.0, 9.0),
    ("6971234560110", "100023456810", "身体乳 250ml", 99.0, 6.0),
    ("6971234560127", "100023456827", "护手霜礼盒 3支装", 59.0, 7.0),
    ("6971234560134", "100023456834", "卸妆油 200ml", 129.0, 5.0),
    ("6971234560141", "100023456841", "洁面仪替换刷头 2只", 49.0, 3.0),
    ("6971234560158", "100023456858", "精华三件套礼盒", 599.0, 2.0),
    ("6971234560165", "100023456865", "旅行装套组", 39.9, 6.0),
    ("6971234560172", "100023456872", "男士控油洁面 100g", 79.0, 4.0),
    ("6971234560189", "100023456889", "唇部精华 10g", 59.0, 4.0),
    ("6971234560196", "100023456896", "头皮精华 50ml", 189.0, 2.0),
    ("6971234560202", "100023456902", "明星修护精华 50ml 会员专享", 1299.0, 0.6),
)

SURNAMES: tuple[str, ...] = tuple("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈")
GIVEN: tuple[str, ...] = (
    "伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟", "涛", "明", "超", "秀英",
    "霞", "平", "刚", "桂英", "晨", "雨涵", "子轩", "欣怡", "浩然", "梓涵", "思远", "佳怡", "一诺", "雅琪", "宇航", "婷婷",
)
NICK_WORDS: tuple[str, ...] = (
    "小鱼儿", "星河", "momo", "晴天", "阿狸", "橘子汽水", "lucky", "夏天", "木子", "sunny", "糖果", "清风",
    "tb", "小米粒", "奶茶", "jojo", "云朵", "Ada", "柠檬", "walker", "大白", "喵喵", "豆豆", "Cindy",
)
CITIES: tuple[str, ...] = ("上海", "北京", "杭州", "深圳", "成都", "广州", "南京", "苏州", "武汉", "西安", "重庆", "天津")
PROVINCE_OF: dict[str, str] = {
    "上海": "上海", "北京": "北京", "杭州": "浙江省", "深圳": "广东省", "成都": "四川省", "广州": "广东省",
    "南京": "江苏省", "苏州": "江苏省", "武汉": "湖北省", "西安": "陕西省", "重庆": "重庆", "天津": "天津",
}
DISTRICTS: tuple[str, ...] = ("中心区", "新城区", "高新区", "东城区", "西湖区", "南山区", "浦东新区", "朝阳区")
STREETS: tuple[str, ...] = ("人民路", "解放路", "中山路", "建设路", "和平路", "长江路", "滨江大道", "文三路", "科技园路")
EMAIL_DOMAINS: tuple[str, ...] = ("qq.com", "163.com", "126.com", "gmail.com", "outlook.com", "sina.com")
MEMBER_LEVELS: tuple[str, ...] = ("普通会员", "银卡会员", "金卡会员", "黑金会员")
TAGS: tuple[str, ...] = ("敏感肌", "油皮", "干皮", "宝妈", "学生党", "高客单", "礼盒偏好", "促销敏感", "男士", "新品尝鲜")
BUYER_MESSAGES: tuple[str, ...] = ("", "", "", "", "", "", "请尽快发货", "要赠品小样", "不要放快递柜", "送人的，不要放发票")


@dataclass(frozen=True)
class CampaignSpec:
    campaign_id: str
    name: str
    channel: str  # sms / wecom / email / app_push
    recipient_type: str  # the identifier the platform addresses
    days_before_end: int  # send day relative to end_date
    audience: str  # lapsed / wecom_friends / email / members
    max_share: float  # share of the eligible audience touched
    variants: tuple[str, ...]  # "" = no A/B test; "control" = holdout (no send)
    shares: tuple[float, ...]
    extra_purchase_prob: tuple[float, ...]  # injected 7-day purchase probability per variant (control 0)
    resend_share: float  # share of sent recipients who get a second send 2 days later


CAMPAIGNS: tuple[CampaignSpec, ...] = (
    CampaignSpec("CMP2026SMS01", "老客召回短信 满199减40", "sms", "phone", 80, "lapsed", 0.9,
                 ("A", "B", "control"), (0.45, 0.45, 0.10), (0.04, 0.07, 0.0), 0.25),
    CampaignSpec("CMP2026WECOM02", "企微一对一 新品试用邀请", "wecom", "unionid", 50, "wecom_friends", 0.8,
                 ("",), (1.0,), (0.05,), 0.0),
    CampaignSpec("CMP2026EMAIL03", "会员月刊 邮件", "email", "email", 35, "email", 1.0,
                 ("A", "B"), (0.5, 0.5), (0.02, 0.035), 0.0),
    CampaignSpec("CMP2026PUSH04", "小程序订阅消息 积分到期提醒", "app_push", "member_card", 20, "members", 0.6,
                 ("A", "control"), (0.9, 0.1), (0.03, 0.0), 0.1),
)
