"""The automated touch's daily lists (自动化触达): one CSV per channel in the import shapes the tools take,
written to the restricted exports folder (full names, phones and emails: owner-only), and the send log the
next days' frequency cap reads (``raw._touch_send_log``, read by dbt as ``stg_raw__touch_send_log``).

Only rows of ``marts.activation_triggers`` (and ``marts.activation_triggers_churn_risk``) with ``is_sent`` are written; each (customer, trigger, day) once,
on its one channel. A rerun for the same as_of rewrites that day's files and replaces that day's send-log
rows (the cap counts only earlier days). Cells that could run as spreadsheet formulas are neutralised
(``reporting.csv_files``).
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import duckdb
import pandas as pd

from core.warehouse import MARTS_SCHEMA as MARTS
from core.warehouse import RESTRICTED_SCHEMA as RESTRICTED
from reporting.csv_files import write_csv

TRIGGER_CHANNELS = ("sms", "wecom", "email")
# native headers of each tool's import template (SMS platform variables, WeCom customer list, EDM list)
CHANNEL_COLUMNS: dict[str, dict[str, str]] = {
    "sms": {"phone": "手机号", "name": "姓名"},
    "wecom": {"phone": "客户手机号", "name": "客户名称"},
    "email": {"email": "邮箱", "name": "姓名"},
}
MESSAGE_COLUMNS: dict[str, str] = {
    "trigger_code": "触发规则",
    "recommended_action": "推荐动作",
    "segment": "客户分层",
    "member_tier": "会员等级",
    "points": "积分",
    "last_product": "最近购买商品",
    "last_store": "最近购买门店",
    "customer_id": "客户ID",
}

# written by prediction/churn_risk.py after the predictive-CLV asset
CHURN_RISK_TABLE = "activation_triggers_churn_risk"
_DBT_TRIGGERS = f"{MARTS}.activation_triggers"
_ALL_TRIGGERS = (
    f"(select * from {MARTS}.activation_triggers union all by name select * from {MARTS}.{CHURN_RISK_TABLE} "
    f"where as_of_date = (select as_of_date from {MARTS}.repurchase_as_of))"
)  # churn_risk rows of another as_of (a dbt rerun for another day without the CLV step) are not today's


def triggers_relation(con: duckdb.DuckDBPyConnection) -> str:
    """The day's triggers: activation_triggers, with the churn_risk rows once that step has written them."""
    present = con.execute(
        "select count(*) from information_schema.tables where table_schema = ? and table_name = ?",
        [MARTS, CHURN_RISK_TABLE],
    ).fetchone()
    return _ALL_TRIGGERS if present and present[0] else _DBT_TRIGGERS


_SENT_SQL = """
    select
        triggers.as_of_date,
        triggers.customer_id,
        triggers.trigger_code,
        triggers.channel,
        triggers.recommended_action,
        triggers.segment,
        triggers.member_tier,
        triggers.points,
        triggers.last_product,
        triggers.last_store,
        pii.phone,
        pii.email,
        pii.name
    from {triggers} as triggers
    left join {restricted}.customer_pii as pii
        on pii.customer_id = triggers.customer_id
    where triggers.is_sent
    order by triggers.trigger_priority, triggers.customer_id
"""


def write_trigger_exports(
    con: duckdb.DuckDBPyConnection, exports_dir: Path, now: dt.datetime | None = None
) -> list[Path]:
    """Write ``restricted/triggers/<as_of>/<channel>_triggers.csv`` for sms, wecom and email and append the
    day's sent touches to ``raw._touch_send_log``. ``con`` must be writable. Returns the written paths."""
    as_of_row = con.execute(f"select as_of_date from {MARTS}.repurchase_as_of").fetchone()
    if as_of_row is None:
        raise RuntimeError(f"{MARTS}.repurchase_as_of is empty: run dbt build first")
    as_of: dt.date = as_of_row[0]
    sent = con.execute(_SENT_SQL.format(triggers=triggers_relation(con), restricted=RESTRICTED)).df()
    root = Path(exports_dir) / "restricted"
    folder = root / "triggers" / as_of.isoformat()
    folder.mkdir(parents=True, exist_ok=True)
    for path in (root, root / "triggers", folder):
        os.chmod(path, 0o700)
    written: list[Path] = []
    for channel in TRIGGER_CHANNELS:
        rows = sent.loc[sent["channel"] == channel]
        columns = {**CHANNEL_COLUMNS[channel], **MESSAGE_COLUMNS}
        frame = rows[list(columns)].rename(columns=columns)
        written.append(write_csv(frame, folder / f"{channel}_triggers.csv", mode=0o600))
    exported_at = now or dt.datetime.now()
    log = pd.DataFrame(
        {
            "as_of_date": pd.Series([as_of] * len(sent), dtype="object"),
            "customer_id": sent["customer_id"].astype(str),
            "trigger_code": sent["trigger_code"].astype(str),
            "channel": sent["channel"].astype(str),
            "exported_at": pd.Series([exported_at] * len(sent), dtype="datetime64[us]"),
        }
    )
    con.execute("begin transaction")
    try:
        con.execute("delete from raw._touch_send_log where as_of_date = ?", [as_of])
        con.register("_send_log_rows", log)
        con.execute(
            "insert into raw._touch_send_log (as_of_date, customer_id, trigger_code, channel, exported_at) "
            "select cast(as_of_date as date), customer_id, trigger_code, channel, exported_at from _send_log_rows"
        )
        con.unregister("_send_log_rows")
        con.execute("commit")
    except BaseException:
        con.execute("rollback")
        raise
    return written


def trigger_summary_lines(con: duckdb.DuckDBPyConnection) -> list[str]:
    """The closing note's lines: triggers fired per code, sent, and suppressed counts by reason."""
    counts = con.execute(f"""
        select trigger_code, coalesce(suppressed_reason, 'sent') as outcome, count(*) as n
        from {triggers_relation(con)} as triggers
        group by all
        order by trigger_code, outcome
    """).fetchall()
    by_code: dict[str, dict[str, int]] = {}
    for code, outcome, n in counts:
        by_code.setdefault(code, {})[outcome] = n
    lines = []
    for code, outcomes in by_code.items():
        suppressed = ", ".join(f"{reason} {n}" for reason, n in outcomes.items() if reason != "sent")
        lines.append(
            f"  {code}: {sum(outcomes.values())} fired, {outcomes.get('sent', 0)} sent"
            + (f"; suppressed: {suppressed}" if suppressed else "")
        )
    return lines


def omni_channel_lines(con: duckdb.DuckDBPyConnection) -> list[str]:
    """The omni-channel figures of the as_of month and of all purchases up to as_of."""
    row = con.execute(f"""
        select period_start, customers, multi_channel_share, online_offline_share,
            cross_channel_repurchase_rate
        from {MARTS}.omni_channel_monthly
        order by period_start desc
        limit 1
    """).fetchone()
    if row is None:
        return ["Omni-channel: no purchases"]
    month, customers, multi, online_offline, cross = row
    switches = con.execute(f"""
        select from_channel, to_channel, sum(repurchases) as n
        from {MARTS}.omni_channel_switches
        where from_channel <> to_channel
        group by all
        order by n desc, from_channel, to_channel
        limit 3
    """).fetchall()
    top = ", ".join(f"{a}→{b} {n}" for a, b, n in switches) or "none"
    line = (
        f"Omni-channel {month:%Y-%m} ({customers} buyers): 2+ channels {_share(multi)}, online+offline "
        f"{_share(online_offline)}, cross-channel repurchases {_share(cross)}; top switches (all months): {top}"
    )
    return [line]


def _share(value: object) -> str:
    return "n/a" if value is None or pd.isna(value) else f"{float(value):.1%}"
