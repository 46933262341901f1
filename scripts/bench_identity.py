"""Benchmark: identity resolution on ~2.5M source records (2.1M resolved) carrying ~4.3M identifiers.

    .venv/bin/python scripts/bench_identity.py [--people 1200000] [--scale 1.0] [--keep DIR]
        [--export-peer DIR] [--peer CHECKOUT [--peer-max-iters 30]]
    .venv/bin/python scripts/bench_identity.py --people 2000 --scale 0.002   # seconds: the test suite's run

1. Synthesises, vectorised inside DuckDB, the relations the identity models read (the staging views
   and int_orders_unioned, shaped as the real ones, with their load times): POS receipts, Tmall and JD
   orders, WeChat Pay orders with their bill lines, member rows and touch events, with masked phones,
   store phones typed for walk-ins (hubs) and people seen in several channels. The raw tables are created
   empty (the incremental models read the raw load times to find new rows: there are none).
2. Runs the real dbt models (the identity models and the core marts over them, ``transform.dbt.run_dbt``)
   twice: the first run mints every id; the second (same data, an incremental run with nothing new) must
   change none.
3. Prints per model the execution time (dbt's run_results.json), the CPU seconds of the dbt process
   during that model (all threads; on a machine shared with other work they say more than the wall
   time) and its peak RSS (both sampled from /proc every 50 ms), then the totals.
4. The peer, sql-identity-resolution's DuckDB runner (a public project; never vendored here):
   ``--export-peer DIR`` writes the records the project resolved, with their usable non-hub identifiers,
   in the peer's input shape (one row per record, one column per identifier type); ``--peer CHECKOUT``
   also loads them into a fresh peer database, runs the checkout's ``sql/duckdb/core/idr_run.py`` in FULL
   mode, prints its wall and CPU seconds and compares the groupings (the same when customers = clusters =
   distinct (customer, cluster) pairs). Without ``--peer`` the issue's figure is printed as the reference.
Target (issue #17): the identity chain's first run >= 3x faster than the peer on the same records.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import duckdb
import pyarrow.parquet as pq

from core.processes import descendants
from ingestion.schemas import create_raw_tables
from transform.dbt import run_dbt

IDENTITY_MODELS = [
    "int_identifier_candidates",
    "int_identifiers",
    "int_identity_hubs",
    "int_identity_edges",
    "int_identity_nodes",
    "int_identity_components",
    "customer_identifier_map",
    "int_customer_identifiers",
    "int_customer_primary_phone",
    "int_record_identity",
    # stores int_record_identity (a view since it has no other reader): the records' identity is
    # computed and written here, so it counts in the chain
    "int_record_identity_changes",
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
    openids oA<p> / oB<p> in two apps (28 characters, as WeChat's), unionid u<p>, email p<p>@example.com.
    Each record picks its person by a hash of its number (deterministic). Record numbers are as wide as
    the channels' own (a POS receipt XS + 14 digits, a Tmall order 19 digits, a JD order 12, a WeChat Pay
    merchant order number 24 characters, a touch event an md5 key): a key's width decides whether DuckDB
    keeps it inline, which changes what grouping and joining on it cost. No Python loop: every table is
    one SQL statement.
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
            'XS' || lpad(i::varchar, 14, '0') as receipt_no,
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
            'XH' || lpad(i::varchar, 14, '0'), 1, 'sale', timestamp '2024-01-01' + to_seconds((i * 53) % 63072000),
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
            (2000000000000000000 + i)::varchar as order_id,
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
            (300000000000 + i)::varchar as order_id,
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
            'WX' || lpad(i::varchar, 22, '0') as out_trade_no,
            case when hash(i, 19) % 2 = 0 then 'oA' else 'oB' end || lpad({pid.format(salt=5)}::varchar, 26, '0')
                as openid,
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
            case when r < 50 then 'oA' else 'oB' end || lpad(p::varchar, 26, '0') as openid,
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
            md5('E' || i) as event_key,
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
        -- stamped as built when loaded (fct_orders reads the orders written since its own last build)
        select unioned.*, unioned._source_loaded_at as _built_at from (
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
        ) as unioned
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


def _descendants_usage() -> tuple[int, float]:
    """Resident set size (bytes) and CPU seconds used so far (user + system, all threads, and the children each
    has reaped) of every process descending from this one (the dbt child), from /proc."""
    page = os.sysconf("SC_PAGE_SIZE")
    ticks = os.sysconf("SC_CLK_TCK")
    ours = descendants(os.getpid())
    rss, cpu_ticks = 0, 0
    for pid in ours:
        try:
            with open(f"/proc/{pid}/statm") as fh:
                rss += int(fh.read().split()[1]) * page
            with open(f"/proc/{pid}/stat") as fh:
                fields = fh.read().rsplit(")", 1)[1].split()
                cpu_ticks += sum(int(field) for field in fields[11:15])  # utime, stime, cutime, cstime
        except (OSError, IndexError, ValueError):
            continue
    return rss, cpu_ticks / ticks


class RssSampler(threading.Thread):
    """Samples the resident set size (bytes) and CPU seconds of this process's children every
    ``interval`` seconds."""

    def __init__(self, interval: float = 0.05) -> None:
        super().__init__(daemon=True)
        self.interval = interval
        self.samples: list[tuple[float, int, float]] = []
        self._halt = threading.Event()

    def run(self) -> None:
        cpu_so_far = 0.0
        while not self._halt.is_set():
            rss, cpu = _descendants_usage()
            # A process that exits between two samples takes its CPU seconds out of the sum until its parent
            # reaps it; the running maximum keeps the figure from going back (a negative model CPU, once in CI)
            cpu_so_far = max(cpu_so_far, cpu)
            self.samples.append((time.time(), rss, cpu_so_far))
            time.sleep(self.interval)

    def stop(self) -> None:
        self._halt.set()

    def peak_between(self, start: float, end: float) -> int:
        inside = [rss for t, rss, _ in self.samples if start <= t <= end]
        return max(inside) if inside else 0

    def cpu_between(self, start: float, end: float) -> float:
        """CPU seconds the children used between two times (from the samples around them)."""
        before = [cpu for t, _, cpu in self.samples if t <= start]
        after = [cpu for t, _, cpu in self.samples if t >= end]
        if not before or not after:
            return 0.0
        return after[0] - before[-1]


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
    peak = run.peak_rss_bytes or max((rss for _, rss, _ in sampler.samples), default=0)
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
            "cpu": sampler.cpu_between(start, end) if start and end else 0.0,
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


# The peer: sql-identity-resolution's DuckDB runner (github.com/anilkulkarni87/sql-identity-resolution,
# sql/duckdb/core/idr_run.py). Its input: source tables registered in idr_meta.source_table (an entity key
# expression and a watermark column), one idr_meta.identifier_mapping row per (table, identifier type,
# column) and one active idr_meta.rule per identifier type; its schemas come from its own
# sql/duckdb/core/00_ddl_all.sql. Measured in this repository (issue #17, quiet machine): 21.8 s on the
# 2.1M records below, against 15.2 s for the project's identity chain then.
PEER_REFERENCE_SECONDS = 21.8
PEER_TABLE = "bench.records"
PEER_TYPES = ("phone", "member_card", "tmall_nick", "tmall_oaid", "jd_account", "openid", "unionid", "email")


def export_peer(warehouse: Path, out_dir: Path) -> int:
    """Write the records the project resolved to a customer, in the peer's input shape, to
    ``out_dir/records.parquet``: one row per record (``record_key``, ``loaded_at``, one column per
    identifier type). Only usable, non-hub identifiers are exported (the peer has no hub rule of ours),
    so both sides group the same links. Returns the number of records."""
    out_dir.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        several = con.sql(
            """
            select count(*) from (
                select record_id, identifier_type
                from intermediate.int_identifiers
                where identifier_id not in (select identifier_id from intermediate.int_identity_hubs)
                group by record_id, identifier_type
                having min(identifier_value) <> max(identifier_value)
            ) as t
            """
        ).fetchall()[0][0]
        if several:
            raise SystemExit(f"{several} record(s) carry two values of one identifier type: the peer's one-row-per-"
                             "record shape cannot hold them")
        columns = ", ".join(
            f"max(identifier_value) filter (where identifier_type = '{t}') as {t}" for t in PEER_TYPES
        )
        records = con.sql(
            f"""
            select record_key, timestamp '2026-01-01 06:00:00' as loaded_at, {columns}
            from intermediate.int_identifiers
            where identifier_id not in (select identifier_id from intermediate.int_identity_hubs)
            group by record_key
            """
        ).to_arrow_table()
        pq.write_table(records, out_dir / "records.parquet")
        return records.num_rows
    finally:
        con.close()


def run_peer(peer_dir: Path, export_dir: Path, max_iters: int) -> tuple[float, float, Path]:
    """Load the export into a fresh peer database, register it as the peer's docs describe, run the peer's
    DuckDB runner in FULL mode; return its wall and CPU seconds (its own process, not the loading) and the
    database path."""
    ddl = peer_dir / "sql" / "duckdb" / "core" / "00_ddl_all.sql"
    runner = peer_dir / "sql" / "duckdb" / "core" / "idr_run.py"
    for needed in (ddl, runner):
        if not needed.is_file():
            raise SystemExit(f"--peer {peer_dir}: {needed} not found (a checkout of sql-identity-resolution?)")
    db = export_dir / "idr.duckdb"
    db.unlink(missing_ok=True)
    # the peer's own schema script, run as its docs say (duckdb idr.duckdb < 00_ddl_all.sql)
    subprocess.run(
        [sys.executable, "-c", "import duckdb, sys; duckdb.connect(sys.argv[1]).execute(open(sys.argv[2]).read())",
         str(db), str(ddl)],
        check=True,
    )
    con = duckdb.connect(str(db))
    try:
        con.execute("create schema if not exists bench")
        con.execute(f"create table {PEER_TABLE} as select * from read_parquet(?)", [str(export_dir / "records.parquet")])
        con.execute("insert into idr_meta.source_table values ('bench', ?, 'PERSON', 'record_key', 'loaded_at', 0, true)",
                    [PEER_TABLE])
        con.execute("insert into idr_meta.source values ('bench', 'bench records', 1, true)")
        for priority, identifier_type in enumerate(PEER_TYPES, start=1):
            con.execute(
                "insert into idr_meta.rule (rule_id, rule_name, is_active, priority, identifier_type, canonicalize,"
                " allow_hashed, require_non_null, max_group_size) values (?, ?, true, ?, ?, 'NONE', false, true, ?)",
                [f"{identifier_type}_exact", f"{identifier_type} exact", priority, identifier_type.upper(), 10**9],
            )
            con.execute("insert into idr_meta.identifier_mapping values ('bench', ?, ?, false)",
                        [identifier_type.upper(), identifier_type])
    finally:
        con.close()
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.time()
    run = subprocess.run(
        [sys.executable, str(runner), f"--db={db}", "--run-mode=FULL", f"--max-iters={max_iters}"],
        check=False, capture_output=True, text=True,
    )
    wall = time.time() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if run.returncode != 0:
        raise SystemExit(f"the peer failed (exit {run.returncode}):\n{(run.stdout + run.stderr)[-4000:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, db


def compare_groupings(warehouse: Path, peer_db: Path) -> dict[str, int]:
    """Count records, the project's customers, the peer's clusters and the distinct (customer, cluster)
    pairs over the exported records: the groupings are the same when all four agree pairwise (pairs =
    customers = clusters) and every record is on both sides."""
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        con.execute("attach ? as peer (read_only)", [str(peer_db)])
        row = con.execute(
            """
            with ours as (
                select record_key, customer_id from intermediate.int_record_customers
            ),
            theirs as (
                select substr(entity_key, length('bench:') + 1) as record_key, resolved_id
                from peer.idr_out.identity_resolved_membership_current
            ),
            both_sides as (
                select ours.customer_id, theirs.resolved_id
                from ours
                inner join theirs
                    on theirs.record_key = ours.record_key
            )
            select
                (select count(*) from ours),
                (select count(*) from theirs),
                (select count(*) from both_sides),
                (select count(distinct customer_id) from both_sides),
                (select count(distinct resolved_id) from both_sides),
                (select count(*) from (select distinct customer_id, resolved_id from both_sides) as pairs)
            """
        ).fetchall()[0]
    finally:
        con.close()
    names = ("project records", "peer records", "records on both sides", "project customers", "peer clusters",
             "distinct (customer, cluster) pairs")
    return dict(zip(names, row))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=1_200_000)
    parser.add_argument("--scale", type=float, default=1.0, help="multiplies every record count (1.0 = 2.5M)")
    parser.add_argument("--keep", type=Path, default=None, help="keep the benchmark data directory here")
    parser.add_argument("--export-peer", type=Path, default=None, metavar="DIR",
                        help="write the resolved records in sql-identity-resolution's input shape to DIR")
    parser.add_argument("--peer", type=Path, default=None, metavar="DIR",
                        help="a checkout of sql-identity-resolution: run its DuckDB runner on the export, time it "
                             "and compare the groupings (implies an export, to --export-peer or the bench folder)")
    parser.add_argument("--peer-max-iters", type=int, default=30, help="the peer's label propagation iterations")
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

    chain_seconds = {}
    for label in ("first run (mints every id)", "re-run, same data (no id may change)"):
        wall, peak, rows = run_models(data_dir, work)
        print(f"\n{label}")
        print(f"{'model':<28} {'seconds':>8} {'cpu s':>8} {'peak RSS':>10}")
        identity_seconds = identity_cpu = 0.0
        for row in rows:
            print(f"{row['model']:<28} {row['seconds']:>8.2f} {row['cpu']:>8.2f} {_gb(row['peak_rss']):>10}")
            if row["model"] in IDENTITY_MODELS:
                identity_seconds += row["seconds"]
                identity_cpu += row["cpu"]
        chain_seconds[label] = identity_seconds
        print(f"identity models total       {identity_seconds:>8.2f} s, {identity_cpu:.2f} cpu s")
        print(f"dbt process wall (incl. parse/startup, marts) {wall:.2f} s, peak RSS {_gb(peak)}")

    warehouse = data_dir / "warehouse.duckdb"
    con = duckdb.connect(str(warehouse), read_only=True)
    stats = con.execute(
        """
        select
            (select count(*) from intermediate.int_identifiers),
            (select count(*) from intermediate.int_identity_nodes),
            (select count(*) from intermediate.int_identity_edges),
            (select count(*) from intermediate.int_identity_hubs),
            (select count(distinct customer_id) from intermediate.int_customer_identifiers),
            (select count(*) from intermediate.int_record_customers),
            (select count(*) from intermediate.customer_identifier_map where change_type <> 'new'),
            (select count(*) from intermediate.int_identifier_candidates where rejection_reason is not null)
        """
    ).fetchone()
    con.close()
    names = ("identifier observations", "identity nodes", "edges", "hubs", "customers", "resolved records",
             "map rows changed by re-run", "rejected observations")
    print()
    for name, value in zip(names, stats):
        print(f"{name:<28} {value:,}")

    first_run = chain_seconds["first run (mints every id)"]
    export_dir = args.export_peer or (base / "peer" if args.peer else None)
    if export_dir is not None:
        records = export_peer(warehouse, export_dir)
        print(f"\npeer input (sql-identity-resolution, DuckDB runner): {records:,} records in {export_dir / 'records.parquet'}")
    if args.peer is not None:
        peer_wall, peer_cpu, peer_db = run_peer(args.peer, export_dir, args.peer_max_iters)
        print(f"peer run (FULL, --max-iters={args.peer_max_iters}) {peer_wall:.2f} s, {peer_cpu:.2f} cpu s")
        for name, value in compare_groupings(warehouse, peer_db).items():
            print(f"{name:<36} {value:,}")
        print(f"project identity chain (first run) vs peer: {peer_wall / first_run:.2f}x faster")
    else:
        print(f"\npeer reference (issue #17, not run here): {PEER_REFERENCE_SECONDS} s on 2.1M records; "
              f"the project's identity chain (first run) {first_run:.2f} s")
    if args.keep is None:
        shutil.rmtree(base)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
