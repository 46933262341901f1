"""Reporting over the repurchase marts: activation export files and a short human summary.

Plain DuckDB (no Dagster import), called by the CLI at the end of a run:

- ``write_audience_exports(con, exports_dir)`` writes one CSV per audience (= RFM segment_code) and contact
  channel from ``marts.activation_audience``: WeCom lists carry hashed ids only
  (``exports_dir/audiences/<as_of>/wecom_<audience>.csv``); SMS lists carry raw phones, read from
  ``restricted.customer_pii`` for customers with SMS consent who are not WeCom friends (one channel per
  customer, WeCom first as in ``preferred_contact_channel``), and are written under
  ``exports_dir/restricted/audiences/<as_of>/sms_<audience>.csv`` (owner-only permissions).
- ``marts_summary(con)`` returns a few lines: the repurchase rate of the month of as_of (and of the latest
  complete month when that month is partial), segment sizes, lifecycle stage counts, tiers, reachability.

Every audience gets both files on every run (header only when empty), so a re-run for the same as_of
leaves no stale list behind. Files are UTF-8 with BOM (Excel opens Chinese labels correctly) and are
written to a temporary name then renamed, so an import tool never reads half a file.
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
from reporting.trigger_exports import omni_channel_lines, trigger_summary_lines

# (segment_code, segment) in the order of the RFM table; every audience gets a file per channel.
AUDIENCES: tuple[tuple[str, str], ...] = (
    ("important_value", "重要价值客户"),
    ("important_develop", "重要发展客户"),
    ("important_retain", "重要保持客户"),
    ("important_winback", "重要挽留客户"),
    ("general_value", "一般价值客户"),
    ("general_develop", "一般发展客户"),
    ("general_retain", "一般保持客户"),
    ("general_winback", "一般挽留客户"),
)
STAGES: tuple[str, ...] = ("new", "loyal", "active", "silent", "churned")
TIERS: tuple[str, ...] = ("diamond", "gold", "silver", "none")

WECOM_COLUMNS = [
    "customer_id",
    "phone_hash",
    "segment",
    "recommended_action",
    "lifecycle_stage",
    "member_tier",
]
SMS_COLUMNS = ["phone", "customer_id", "segment", "recommended_action", "lifecycle_stage", "member_tier"]

_WECOM_SQL = """
    select customer_id, phone_hash, segment, recommended_action, lifecycle_stage, member_tier, audience
    from marts.activation_audience
    where wecom_reachable
    order by audience, customer_id
"""

# Raw phones only for customers whose SMS consent is recorded (sms_reachable) and who have a phone, and
# only when SMS is their preferred channel (activation_audience.preferred_contact_channel: WeCom first), so
# no customer is in both the WeCom and the SMS list of an audience (issue 14: 703 were).
_SMS_SQL = """
    select pii.phone, audience.customer_id, audience.segment, audience.recommended_action,
        audience.lifecycle_stage, audience.member_tier, audience.audience
    from marts.activation_audience as audience
    inner join restricted.customer_pii as pii
        on pii.customer_id = audience.customer_id
    where audience.sms_reachable
        and not audience.wecom_reachable
        and pii.phone is not null
    order by audience.audience, audience.customer_id
"""


class ReportingError(RuntimeError):
    """The warehouse lacks a table the reports need (the marts have not been built)."""


def _require_tables(con: duckdb.DuckDBPyConnection, tables: list[tuple[str, str]]) -> None:
    present = {
        (schema, name)
        for schema, name in con.execute(
            "select table_schema, table_name from information_schema.tables"
        ).fetchall()
    }
    missing = [f"{schema}.{name}" for schema, name in tables if (schema, name) not in present]
    if missing:
        raise ReportingError(
            f"missing table(s) {', '.join(missing)}: build the dbt marts first (dbt build) before reporting"
        )


def _as_of(con: duckdb.DuckDBPyConnection) -> dt.date:
    row = con.execute(f"select as_of_date, as_of_source from {MARTS}.repurchase_as_of").fetchone()
    if row is None or row[0] is None:
        raise ReportingError(
            f"{MARTS}.repurchase_as_of has no as_of date: there are no purchases in fct_orders"
        )
    return row[0]


def write_audience_exports(con: duckdb.DuckDBPyConnection, exports_dir: Path) -> list[Path]:
    """Write the WeCom (hashed ids) and SMS (raw phones, consented only) lists of every audience.

    Returns the written paths: for each audience, ``audiences/<as_of>/wecom_<audience>.csv`` and
    ``restricted/audiences/<as_of>/sms_<audience>.csv`` under ``exports_dir``.
    """
    _require_tables(
        con, [(MARTS, "repurchase_as_of"), (MARTS, "activation_audience"), (RESTRICTED, "customer_pii")]
    )
    as_of = _as_of(con).isoformat()
    exports_dir = Path(exports_dir)
    public_dir = exports_dir / "audiences" / as_of
    restricted_root = exports_dir / "restricted"
    restricted_dir = restricted_root / "audiences" / as_of
    restricted_dir.mkdir(parents=True, exist_ok=True)
    for folder in (restricted_root, restricted_root / "audiences", restricted_dir):
        os.chmod(folder, 0o700)

    wecom = con.execute(_WECOM_SQL).df()
    sms = con.execute(_SMS_SQL).df()
    written: list[Path] = []
    for code, _label in AUDIENCES:
        written.append(
            write_csv(wecom.loc[wecom["audience"] == code, WECOM_COLUMNS], public_dir / f"wecom_{code}.csv")
        )
        written.append(
            write_csv(
                sms.loc[sms["audience"] == code, SMS_COLUMNS], restricted_dir / f"sms_{code}.csv", mode=0o600
            )
        )
    return written


def _percent(value: object) -> str:
    return "n/a" if value is None or pd.isna(value) else f"{float(value):.1%}"


def _ratio(value: object) -> str:
    return "n/a" if value is None or pd.isna(value) else f"{float(value):.2f}"


def _month_line(row: tuple, label: str) -> str:
    (period_start, customers, repurchasing, rate, multi_rate, retention, active_ratio, orders, revenue,
     history_complete) = row
    line = (
        f"{label} {period_start:%Y-%m}: repurchase rate {_percent(rate)} ({repurchasing} of {customers} "
        f"purchasing customers had bought before); 2+ purchases within the month {_percent(multi_rate)}; "
        f"retention of start-active customers {_percent(retention)}, active customers end/start "
        f"{_ratio(active_ratio)}; {orders} orders, net revenue {float(revenue):,.2f}"
    )
    if not history_complete:
        # kpi_monthly.is_history_complete: earlier purchases of its customers predate the data.
        line += " [history incomplete: purchases before the data are unseen, rates read low]"
    return line


def marts_summary(con: duckdb.DuckDBPyConnection) -> str:
    """A short human summary of the repurchase marts as of their as_of date."""
    _require_tables(
        con,
        [
            (MARTS, "repurchase_as_of"),
            (MARTS, "kpi_monthly"),
            (MARTS, "customer_rfm"),
            (MARTS, "customer_current_stage"),
            (MARTS, "member_tiers"),
            (MARTS, "activation_audience"),
        ],
    )
    as_of_row = con.execute(f"select as_of_date, as_of_source from {MARTS}.repurchase_as_of").fetchone()
    as_of = _as_of(con)
    source = "the as_of var" if as_of_row[1] == "var" else "the latest purchase"
    lines = [f"Repurchase marts as of {as_of:%Y-%m-%d} ({source})"]

    months = con.execute(
        f"""
        select period_start, customers, repurchasing_customers, repurchase_rate,
            repurchase_rate_within_period, retention_rate_of_start_active, active_customer_ratio,
            orders, net_revenue, is_history_complete, is_complete
        from {MARTS}.kpi_monthly
        where dimension = 'overall'
        order by period_start desc
        limit 2
        """
    ).fetchall()
    if months:
        current = months[0]
        label = "Month" if current[10] else "Month to date"
        lines.append("  " + _month_line(current[:10], label))
        if not current[10] and len(months) > 1:
            lines.append("  " + _month_line(months[1][:10], "Latest complete month"))

    segments = dict(
        con.execute(
            f"select segment_code, count(*) from {MARTS}.customer_rfm group by segment_code"
        ).fetchall()
    )
    total = sum(segments.values())
    lines.append(
        f"  RFM segments ({total} customers with a purchase): "
        + ", ".join(f"{label} {segments.get(code, 0)}" for code, label in AUDIENCES)
    )

    stages = dict(
        con.execute(f"select stage, count(*) from {MARTS}.customer_current_stage group by stage").fetchall()
    )
    lines.append("  Lifecycle stages: " + ", ".join(f"{stage} {stages.get(stage, 0)}" for stage in STAGES))

    tiers = dict(con.execute(f"select tier, count(*) from {MARTS}.member_tiers group by tier").fetchall())
    lines.append("  Member tiers: " + ", ".join(f"{tier} {tiers.get(tier, 0)}" for tier in TIERS))

    reach = con.execute(
        f"""
        select count(*), count(*) filter (where is_reachable), count(*) filter (where sms_reachable),
            count(*) filter (where wecom_reachable), count(*) filter (where follows_official_account)
        from {MARTS}.activation_audience
        """
    ).fetchone()
    lines.append(
        f"  Reachable: {reach[1]} of {reach[0]} (SMS with consent {reach[2]}, WeCom {reach[3]}, "
        f"official account {reach[4]})"
    )
    if _has_table(con, MARTS, "activation_triggers"):
        triggers = trigger_summary_lines(con)
        lines.append(f"  Triggers fired on {as_of:%Y-%m-%d}:" + ("" if triggers else " none"))
        lines.extend("  " + line for line in triggers)
    if _has_table(con, MARTS, "omni_channel_monthly"):
        lines.extend("  " + line for line in omni_channel_lines(con))
    return "\n".join(lines)


def _has_table(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> bool:
    return con.execute(
        "select count(*) from information_schema.tables where table_schema = ? and table_name = ?",
        [schema, table],
    ).fetchone()[0] > 0
