"""WeChat member / follower export (mini-program member centre, WeCom customer list)."""

from __future__ import annotations

from core.sources import get_source
from ingestion.adapters.base import Adapter, Column

MEMBERS = get_source("wechat_members")


class WechatMembersAdapter(Adapter):
    source = "wechat_members"
    min_header_matches = 1
    columns = (
        Column("openid", ("openid", "OpenID", "用户openid", "open_id", "微信openid", "用户标识", "粉丝openid"),
               "id", required=True, row_required=True),
        Column("unionid", ("unionid", "UnionID", "union_id", "用户unionid", "微信unionid"), "id"),
        Column("app_id", ("appid", "app_id", "公众账号ID", "小程序appid", "公众号appid", "AppID"), "id"),
        Column("nickname", ("昵称", "微信昵称", "用户昵称", "粉丝昵称"), "text"),
        Column("phone", ("手机号", "绑定手机", "手机", "手机号码", "会员手机号", "绑定手机号", "会员手机"), "phone"),
        Column("email", ("邮箱", "email", "电子邮箱", "邮件", "e-mail", "邮箱地址"), "email"),
        Column("gender", ("性别",), "text"),
        Column("city", ("城市", "所在城市", "地区"), "text"),
        Column("registered_at", ("注册时间", "成为会员时间", "入会时间", "开卡时间", "关注时间", "注册日期"), "time"),
        Column("follow_status", ("关注状态", "是否关注", "状态"), "text",
               known_values=MEMBERS.status_set("follow_status")),
        Column("unfollowed_at", ("取消关注时间",), "time"),
        Column("member_card", ("会员卡号", "卡号", "会员号", "会员编号"), "id"),
        Column("member_level", ("会员等级", "等级", "会员级别"), "text"),
        Column("points", ("积分", "当前积分", "可用积分", "会员积分"), "int"),
        Column("tags", ("标签", "用户标签", "客户标签", "粉丝标签"), "tags"),
        Column("sms_consent", ("营销短信授权", "短信授权", "短信营销授权", "接收营销短信", "是否接收短信",
                               "短信订阅"), "bool"),
        Column("wecom_friend", ("企微好友", "是否企微好友", "企业微信好友", "已加企微", "企微好友状态"), "bool"),
    )
