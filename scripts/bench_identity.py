"""Benchmark: identity resolution on ~2.5M source records carrying ~5M identifiers.

    .venv/bin/python scripts/bench_identity.py [--people 1200000] [--scale 1.0] [--keep DIR]
    .venv/bin/python scripts/bench_identity.py --people 2000 --scale 0.002   # seconds: the test suite's run

1. Synthesises, vectorised inside DuckDB, the relations the identity models read (the staging views
   and int_orders_unioned, shaped as the real ones, with their load times): POS receipts, Tmall and JD
   orders, WeChat Pay orders with their bill lines, member rows and touch events, with masked phones,
   store phones typed for walk-ins (hubs) and people seen in several channels. The raw tables are created
   empty (the incremental models read the raw load times to find new rows: there are none).
2. Runs the real dbt models (the identity models and the core marts over them, ``transform.dbt.run_dbt``)
   twice: the first run mints every id; the second (same data, an incremental run with nothing new) must
   change none.
3. Prints per model the execution time (dbt's run_results.json) and the peak RSS of the dbt process
   during that model (sampled from /proc every 50 ms), then the process totals.
Target: identity steps <= 30 s wall and <= 4 GB peak on a 2-core machine.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import shutil
import tempfile
import threading
import time
from pathlib import Path

import duckdb

from ingestion.schemas import create_raw_tables
from transform.dbt import run_dbt

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
    "int_customer_primary_phone",
    "int_record_identity",
    "int_record_customers",
    "customer_merges",
]
MART_MODELS = ["fct_orders", "dim_customers"]
# Synthesised here instead of built by dbt.
SYNTHESISED = ["path:models/staging", "int_orders_unioned"]

STORE_PHONES = 8  # hub phones typed for walk-ins at each store
STORE_PHONE_RECEIPTS = 5000  # receipts per store phone at scale 1, each with some member's card
LOADED_AT = "timestamp '2026-01-01 06:00:00'"  # when every synthetic row was "loaded"


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
    # at least threshold + 1 cards per store phone, so the store phones are hubs at any scale
    store_receipts = max(int(STORE_PHONE_RECEIPTS * scale), 10)
    create_raw_tables(con)  # empty: the incremental models read the raw load times
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
            'S' || (i % {STORE_PHONES}) as store_code,
            {LOADED_AT} as _loaded_at
        from base
        union all
        select
            'H' || i, 1, 'sale', timestamp '2024-01-01' + to_seconds((i * 53) % 63072000),
            'M' || {pid.format(salt=2)}, (13917250000 + i % {STORE_PHONES})::varchar, false, null,
            'S' || (i % {STORE_PHONES}), {LOADED_AT}
        from range({STORE_PHONES * store_receipts}) t(i)
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
            '地址' as receiver_address,
            {LOADED_AT} as _loaded_at
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
            '地址' as customer_address,
            {LOADED_AT} as _loaded_at
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
            timestamp '2024-01-01' + to_seconds((i * 71) % 63072000) as traded_at,
            {LOADED_AT} as _loaded_at
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
            case when hash(i, 43) % 100 < 40 then lpad(((i % 12) + 1)::varchar, 2, '0') || '-15' end
                as birth_month_day,
            case when hash(i, 43) % 100 < 20 then (1980 + (i % 20))::integer end as birth_year,
            '高复购' as tags,
            true as sms_consent,
            false as wecom_friend,
            {LOADED_AT} as _loaded_at
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
            timestamp '2026-01-01' + to_seconds(i % 2592000) as event_time,
            {LOADED_AT} as _loaded_at
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
            null::varchar as openid, null::varchar as app_id, _loaded_at as _source_loaded_at
        from staging.stg_pos__receipt_lines
        union all
        select 'tmall:' || order_id, 'tmall', 'tmall', 'tmall', order_id, created_at, created_at, 'completed',
            200.00, 0, 200.00, 1, true, case when not phone_masked then phone end, null, buyer_nick, oaid,
            null, null, null, _loaded_at
        from staging.stg_tmall__orders
        union all
        select 'jd:' || order_id, 'jd', 'jd', 'jd', order_id, ordered_at, ordered_at, 'completed',
            150.00, 0, 150.00, 1, true, case when not phone_masked then phone end, null, null, null,
            account, null, null, _loaded_at
        from staging.stg_jd__order_lines
        union all
        select 'wechat:' || out_trade_no, 'wechat', '1900012345', null, out_trade_no, traded_at, traded_at,
            'completed', 80.00, 0, 80.00, null, true, null, null, null, null, null, openid, app_id, _loaded_at
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


def _descendants_rss() -> int:
    """Resident set size (bytes) of every process descending from this one (the dbt child), from /proc."""
    page = os.sysconf("SC_PAGE_SIZE")
    parents: dict[int, int] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat") as fh:
                # pid (comm) state ppid ...: comm may hold spaces, so split after its closing parenthesis
                parents[int(entry.name)] = int(fh.read().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
    ours, frontier = set(), {os.getpid()}
    while frontier:
        frontier = {pid for pid, parent in parents.items() if parent in frontier} - ours
        ours |= frontier
    total = 0
    for pid in ours:
        try:
            with open(f"/proc/{pid}/statm") as fh:
                total += int(fh.read().split()[1]) * page
        except (OSError, IndexError, ValueError):
            continue
    return total


class RssSampler(threading.Thread):
    """Samples the resident set size (bytes) of this process's children every ``interval`` seconds."""

    def __init__(self, interval: float = 0.05) -> None:
        super().__init__(daemon=True)
        self.interval = interval
        self.samples: list[tuple[float, int]] = []
        self._halt = threading.Event()

    def run(self) -> None:
        while not self._halt.is_set():
            self.samples.append((time.time(), _descendants_rss()))
            time.sleep(self.interval)

    def stop(self) -> None:
        self._halt.set()

    def peak_between(self, start: float, end: float) -> int:
        inside = [rss for t, rss in self.samples if start <= t <= end]
        return max(inside) if inside else 0


def run_models(data_dir: Path, work: Path) -> tuple[float, int, list[dict]]:
    """Run the identity models and the core marts over them (not the synthesised relations) with
    ``transform.dbt.run_dbt``; return wall seconds, peak RSS bytes and per-model rows."""
    selector = ["--select", *(f"+{model}" for model in MART_MODELS + ["customer_merges"])]
    args = ["run", *selector, "--exclude", *SYNTHESISED, "--threads", "1", "-q"]
    started = time.time()
    sampler = RssSampler()
    sampler.start()
    try:
        run = run_dbt(args, data_dir=data_dir, target_path=work / "target", check=False)
    finally:
        sampler.stop()
        sampler.join()
    wall = time.time() - started
    if not run.success:
        raise SystemExit(f"dbt failed (exit {run.returncode}):\n{run.output[-6000:]}")
    peak = max((rss for _, rss in sampler.samples), default=0)
    rows = []
    for result in run.results():
        timing = {t["name"]: t for t in result.get("timing", [])}
        execute = timing.get("execute") or {}
        start = _epoch(execute.get("started_at"))
        end = _epoch(execute.get("completed_at"))
        rows.append({
            "model": result["unique_id"].split(".")[-1],
            "seconds": result["execution_time"],
            "peak_rss": sampler.peak_between(start, end) if start and end else 0,
        })
    order = {name: i for i, name in enumerate(IDENTITY_MODELS + MART_MODELS)}
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

    for label in ("first run (mints every id)", "re-run, same data (no id may change)"):
        wall, peak, rows = run_models(data_dir, work)
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
