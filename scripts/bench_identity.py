"""Benchmark: identity resolution on ~2.5M source records carrying ~5M identifiers.

    .venv/bin/python scripts/bench_identity.py [--people 1200000] [--scale 1.0] [--keep DIR]

1. Synthesises, vectorised inside DuckDB, the relations the identity models read (the staging views
   and int_orders_unioned, shaped as the real ones): POS receipts, Tmall and JD orders, WeChat Pay
   orders with their bill lines, member rows and touch events, with masked phones, store phones typed
   for walk-ins (hubs) and people seen in several channels.
2. Runs the real dbt models (``dbt run --select`` the identity models and core marts) in a child
   process, twice: the first run mints every id, the second (same data) must change none.
3. Prints per model the execution time (dbt's run_results.json) and the peak RSS of the dbt process
   during that model (sampled from /proc every 50 ms), then the process totals.
Target: identity steps <= 30 s wall and <= 4 GB peak on a 2-core machine.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import duckdb

ROOT = Path(__file__).resolve().parents[1]
DBT_DIR = ROOT / "dbt"
DBT = Path(sys.executable).with_name("dbt")

IDENTITY_MODELS = [
    "int_identifier_candidates",
    "int_identifiers",
    "int_identifiers_rejected",
    "int_identity_hubs",
    "int_identity_edges",
    "int_identity_nodes",
    "int_identity_components",
    "customer_identifier_map",
    "int_customer_identifiers",
    "int_record_identity",
    "int_record_customers",
    "customer_merges",
]
MART_MODELS = ["fct_orders", "dim_customers"]

STORE_PHONES = 8  # hub phones typed for walk-ins at each store
STORE_PHONE_RECEIPTS = 5000  # receipts per store phone, each with some member's card


def synthesise(con: duckdb.DuckDBPyConnection, people: int, scale: float) -> dict[str, int]:
    """Create the staging / intermediate relations the identity models read, filled with synthetic rows.

    Person p has phone 13900000000 + p, card M<p>, Tmall nick tb<p>, OAID oa<p>, JD account jd<p>,
    openids oA<p> / oB<p> in two apps, unionid u<p>, email p<p>@example.com. Each record picks its
    person by a hash of its number (deterministic). No Python loop: every table is one SQL statement.
    """
    n_pos = int(700_000 * scale)
    n_tmall = int(500_000 * scale)
    n_jd = int(250_000 * scale)
    n_wechat = int(450_000 * scale)
    n_members = int(350_000 * scale)
    n_touches = int(250_000 * scale)
    con.execute("create schema if not exists staging")
    con.execute("create schema if not exists intermediate")
    params = {"people": people}
    pid = "(hash(i, {salt}) % $people)::bigint"

    con.execute(
        f"""
        create or replace table staging.stg_pos__receipt_lines as
        with base as (select i, {pid.format(salt=1)} as p, hash(i, 11) % 100 as r from range({n_pos}) t(i))
        select
            'R' || i as receipt_no,
            1 as line_number,
            'sale' as receipt_type_en,
            timestamp '2024-01-01' + to_seconds((i * 47) % 63072000) as sold_at,
            case when r < 65 then 'M' || p end as member_card,
            case when r < 75 then (13900000000 + p)::varchar end as phone,
            false as phone_masked,
            case when r >= 75 and r < 80 then 'placeholder' end as phone_issue,
            'S' || (i % {STORE_PHONES}) as store_code
        from base
        union all
        select
            'H' || i, 1, 'sale', timestamp '2024-01-01' + to_seconds((i * 53) % 63072000),
            'M' || {pid.format(salt=2)}, (13917250000 + i % {STORE_PHONES})::varchar, false, null,
            'S' || (i % {STORE_PHONES})
        from range({STORE_PHONES * STORE_PHONE_RECEIPTS}) t(i)
        """,
        params,
    )
    con.execute(
        f"""
        create or replace table staging.stg_tmall__orders as
        with base as (select i, {pid.format(salt=3)} as p, hash(i, 13) % 100 as r from range({n_tmall}) t(i))
        select
            'T' || i as order_id,
            timestamp '2024-01-01' + to_seconds((i * 61) % 63072000) as created_at,
            case when r < 75 then 'tb' || p end as buyer_nick,
            r >= 75 as buyer_nick_masked,
            case when r < 65 then 'oa' || p end as oaid,
            case when r < 10 then (13900000000 + p)::varchar end as phone,
            r >= 10 as phone_masked,
            case when r >= 10 then 'masked' end as phone_issue,
            '收货人' as receiver_name,
            '地址' as receiver_address
        from base
        """,
        params,
    )
    con.execute(
        f"""
        create or replace table staging.stg_jd__order_lines as
        with base as (select i, {pid.format(salt=4)} as p, hash(i, 17) % 100 as r from range({n_jd}) t(i))
        select
            'J' || i as order_id,
            timestamp '2024-01-01' + to_seconds((i * 67) % 63072000) as ordered_at,
            case when r < 60 then 'jd' || p end as account,
            r >= 60 as account_masked,
            case when r < 15 then (13900000000 + p)::varchar end as phone,
            r >= 15 as phone_masked,
            case when r >= 15 then 'masked' end as phone_issue,
            '客户' as customer_name,
            '地址' as customer_address
        from base
        """,
        params,
    )
    con.execute(
        f"""
        create or replace table staging.stg_wechat_pay__transactions as
        select
            'P' || i as out_trade_no,
            case when hash(i, 19) % 2 = 0 then 'oA' else 'oB' end || {pid.format(salt=5)} as openid,
            'wx8a3c5f2e1b7d9046' as app_id,
            timestamp '2024-01-01' + to_seconds((i * 71) % 63072000) as traded_at
        from range({n_wechat}) t(i)
        """,
        params,
    )
    con.execute(
        f"""
        create or replace table staging.stg_wechat_members__members as
        with base as (select i, {pid.format(salt=6)} as p, hash(i, 23) % 100 as r from range({n_members}) t(i))
        select distinct on (openid)
            case when r < 50 then 'oA' else 'oB' end || p as openid,
            case when r < 50 then 'wxA' else 'wxB' end as app_id,
            case when hash(i, 29) % 100 < 85 then 'u' || p end as unionid,
            case when hash(i, 31) % 100 < 90 then (13900000000 + p)::varchar end as phone,
            false as phone_masked,
            null::varchar as phone_issue,
            case when hash(i, 37) % 100 < 30 then 'p' || p || '@example.com' end as email,
            case when hash(i, 41) % 100 < 60 then 'M' || p end as member_card,
            timestamp '2023-01-01' + to_seconds((i * 73) % 31536000) as registered_at,
            'subscribed' as follow_status_en,
            '金卡' as member_level,
            100 as points,
            '高复购' as tags,
            true as sms_consent,
            false as wecom_friend
        from base
        """,
        params,
    )
    con.execute(
        f"""
        create or replace table staging.stg_touches__events as
        with base as (select i, {pid.format(salt=7)} as p, hash(i, 43) % 100 as r from range({n_touches}) t(i))
        select
            'E' || i as event_key,
            'CMP' || (i % 4) as campaign_id,
            case when r < 60 then 'phone' when r < 90 then 'unionid' else 'email' end as recipient_type,
            case
                when r < 60 then (13900000000 + p)::varchar
                when r < 90 then 'u' || p
                else 'p' || p || '@example.com'
            end as recipient,
            null::varchar as recipient_issue,
            'sent' as event_type,
            timestamp '2026-01-01' + to_seconds(i % 2592000) as event_time
        from base
        """,
        params,
    )
    con.execute(
        """
        create or replace table intermediate.int_orders_unioned as
        select
            'pos:' || receipt_no as order_key, 'pos' as channel, store_code as shop_id, store_code as shop_name,
            receipt_no as source_order_id, sold_at as ordered_at, sold_at as paid_at, 'completed' as order_status,
            100.00::decimal(18, 2) as gross_amount, 0::decimal(18, 2) as refund_amount,
            100.00::decimal(18, 2) as net_amount, 1 as item_count, true as is_purchase,
            case when phone_issue is null then phone end as phone, member_card,
            null::varchar as buyer_nick, null::varchar as oaid, null::varchar as jd_account,
            null::varchar as openid, null::varchar as app_id
        from staging.stg_pos__receipt_lines
        union all
        select 'tmall:' || order_id, 'tmall', 'tmall', 'tmall', order_id, created_at, created_at, 'completed',
            200.00, 0, 200.00, 1, true, case when not phone_masked then phone end, null, buyer_nick, oaid,
            null, null, null
        from staging.stg_tmall__orders
        union all
        select 'jd:' || order_id, 'jd', 'jd', 'jd', order_id, ordered_at, ordered_at, 'completed',
            150.00, 0, 150.00, 1, true, case when not phone_masked then phone end, null, null, null,
            account, null, null
        from staging.stg_jd__order_lines
        union all
        select 'wechat:' || out_trade_no, 'wechat', '1900012345', null, out_trade_no, traded_at, traded_at,
            'completed', 80.00, 0, 80.00, null, true, null, null, null, null, null, openid, app_id
        from staging.stg_wechat_pay__transactions
        """
    )
    counts = {}
    for table in (
        "staging.stg_pos__receipt_lines",
        "staging.stg_tmall__orders",
        "staging.stg_jd__order_lines",
        "staging.stg_wechat_pay__transactions",
        "staging.stg_wechat_members__members",
        "staging.stg_touches__events",
    ):
        counts[table.split(".")[1]] = con.execute(f"select count(*) from {table}").fetchone()[0]
    counts["source_records"] = sum(counts.values())
    return counts


class RssSampler(threading.Thread):
    """Samples the resident set size (bytes) of a process every ``interval`` seconds from /proc."""

    def __init__(self, pid: int, interval: float = 0.05) -> None:
        super().__init__(daemon=True)
        self.pid, self.interval = pid, interval
        self.samples: list[tuple[float, int]] = []
        self._halt = threading.Event()

    def run(self) -> None:
        page = os.sysconf("SC_PAGE_SIZE")
        path = f"/proc/{self.pid}/statm"
        while not self._halt.is_set():
            try:
                with open(path) as fh:
                    rss_pages = int(fh.read().split()[1])
            except (FileNotFoundError, ProcessLookupError, IndexError, ValueError):
                break
            self.samples.append((time.time(), rss_pages * page))
            time.sleep(self.interval)

    def stop(self) -> None:
        self._halt.set()

    def peak_between(self, start: float, end: float) -> int:
        inside = [rss for t, rss in self.samples if start <= t <= end]
        return max(inside) if inside else 0


def run_dbt(data_dir: Path, work: Path, models: list[str]) -> tuple[float, int, list[dict]]:
    """Run dbt on ``models`` in a child process; return wall seconds, peak RSS bytes and per-model rows."""
    env = {**os.environ, "REPURCHASE_DATA_DIR": str(data_dir)}
    args = [
        str(DBT), "run", "--select", *models, "--threads", "1",
        "--project-dir", str(DBT_DIR), "--profiles-dir", str(DBT_DIR),
        "--target-path", str(work / "target"), "--log-path", str(work / "logs"), "-q",
    ]
    started = time.time()
    child = subprocess.Popen(args, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    sampler = RssSampler(child.pid)
    sampler.start()
    output, _ = child.communicate()
    wall = time.time() - started
    sampler.stop()
    sampler.join()
    if child.returncode != 0:
        raise SystemExit(f"dbt failed (exit {child.returncode}):\n{output}")
    peak = max((rss for _, rss in sampler.samples), default=0)
    results = json.loads((work / "target" / "run_results.json").read_text())["results"]
    rows = []
    for result in results:
        timing = {t["name"]: t for t in result.get("timing", [])}
        execute = timing.get("execute") or {}
        start = _epoch(execute.get("started_at"))
        end = _epoch(execute.get("completed_at"))
        rows.append({
            "model": result["unique_id"].split(".")[-1],
            "seconds": result["execution_time"],
            "peak_rss": sampler.peak_between(start, end) if start and end else 0,
        })
    order = {name: i for i, name in enumerate(models)}
    rows.sort(key=lambda row: order.get(row["model"], len(order)))
    return wall, peak, rows


def _epoch(text: str | None) -> float | None:
    if not text:
        return None
    return dt.datetime.fromisoformat(text).timestamp()


def _gb(n: int) -> str:
    return f"{n / 2**30:.2f} GB"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=1_200_000)
    parser.add_argument("--scale", type=float, default=1.0, help="multiplies every record count (1.0 = 2.5M)")
    parser.add_argument("--keep", type=Path, default=None, help="keep the benchmark data directory here")
    args = parser.parse_args(argv)

    base = args.keep or Path(tempfile.mkdtemp(prefix="bench_identity_"))
    data_dir, work = base / "data", base / "dbt"
    if data_dir.exists():
        shutil.rmtree(data_dir)
    data_dir.mkdir(parents=True)

    t0 = time.time()
    con = duckdb.connect(str(data_dir / "warehouse.duckdb"))
    counts = synthesise(con, args.people, args.scale)
    con.close()
    print(f"synthesised in {time.time() - t0:.1f} s: " + ", ".join(f"{k}={v:,}" for k, v in counts.items()))

    models = IDENTITY_MODELS + MART_MODELS
    for label in ("first run (mints every id)", "re-run, same data (no id may change)"):
        wall, peak, rows = run_dbt(data_dir, work, models)
        print(f"\n{label}")
        print(f"{'model':<28} {'seconds':>8} {'peak RSS':>10}")
        identity_seconds = 0.0
        for row in rows:
            print(f"{row['model']:<28} {row['seconds']:>8.2f} {_gb(row['peak_rss']):>10}")
            if row["model"] in IDENTITY_MODELS:
                identity_seconds += row["seconds"]
        print(f"identity models total       {identity_seconds:>8.2f} s")
        print(f"dbt process wall (incl. parse/startup, marts) {wall:.2f} s, peak RSS {_gb(peak)}")

    con = duckdb.connect(str(data_dir / "warehouse.duckdb"), read_only=True)
    stats = con.execute(
        """
        select
            (select count(*) from intermediate.int_identifiers),
            (select count(*) from intermediate.int_identity_nodes),
            (select count(*) from intermediate.int_identity_edges),
            (select count(*) from intermediate.int_identity_hubs),
            (select count(distinct customer_id) from intermediate.int_customer_identifiers),
            (select count(*) from intermediate.customer_identifier_map where change_type <> 'new'),
            (select count(*) from intermediate.int_identifiers_rejected)
        """
    ).fetchone()
    con.close()
    names = ("identifier observations", "identity nodes", "edges", "hubs", "customers",
             "map rows changed by re-run", "rejected observations")
    print()
    for name, value in zip(names, stats):
        print(f"{name:<28} {value:,}")
    if args.keep is None:
        shutil.rmtree(base)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
