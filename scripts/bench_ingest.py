"""Benchmark: ingest a 1M-line GBK POS export into a fresh DuckDB file and print the figures.

    .venv/bin/python scripts/bench_ingest.py [--rows 1000000] [--keep DIR]
    .venv/bin/python scripts/bench_ingest.py --rows 3000   # seconds: the test suite's run

The parent process writes a realistic POS CSV (title row, export-date row, 合计 row, ``="…"`` ids,
0.1% ids destroyed by Excel, mixed phone / money / time spellings, GBK) with vectorised code into a temp dir, then runs
``load_source`` in a child process so the file generation does not count towards the load's time or
peak RSS (``resource.getrusage(RUSAGE_SELF).ru_maxrss`` of the child). Prints rows, seconds, rows/s and
peak RSS; target ≥ 100k rows/s within 4 GB on a 2-core machine.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

HEADER = ("单据号,单据类型,原单据号,门店编码,门店名称,收银员,销售时间,会员卡号,会员手机号,商品编码,商品名称,"
          "数量,单价,折扣金额,实收金额,支付方式")


def _pick(rng: np.random.Generator, options: list[str], n: int, p: list[float] | None = None) -> pd.Series:
    return pd.Series(np.asarray(options, dtype=object)[rng.choice(len(options), size=n, p=p)], dtype="str")


def write_pos_csv(path: Path, n: int, seed: int = 7) -> None:
    """A GBK POS export of ``n`` receipt lines, written column-wise (no Python loop per row)."""
    rng = np.random.default_rng(seed)
    receipt = pd.Series(rng.integers(10**17, 10**18 - 1, size=n).astype(str), dtype="str")
    formula = rng.random(n) < 0.5
    receipt_cell = receipt.where(~formula, '"=""' + receipt + '"""')
    destroyed = rng.random(n) < 0.001  # ids Excel already turned into 1.23457E+17: quarantined
    receipt_cell = receipt_cell.where(~destroyed, receipt.str.slice(0, 1) + "." + receipt.str.slice(1, 6) + "E+17")
    is_return = rng.random(n) < 0.03
    rtype = pd.Series(np.where(is_return, "退货", "销售"), dtype="str")
    original = pd.Series(np.where(is_return, receipt.to_numpy(), ""), dtype="str")
    store = rng.integers(1, 200, size=n)
    store_code = pd.Series(np.char.zfill(store.astype(str), 4), dtype="str")
    store_name = "门店" + store_code
    cashier = _pick(rng, ["张三", "李四", "王五", "赵六"], n)
    seconds = rng.integers(0, 365 * 86400, size=n)
    stamps = pd.Series(np.datetime64("2025-01-01T00:00:00") + seconds.astype("timedelta64[s]"))
    iso = stamps.dt.strftime("%Y-%m-%d %H:%M:%S")
    slash = (stamps.dt.year.astype(str) + "/" + stamps.dt.month.astype(str) + "/" + stamps.dt.day.astype(str)
             + " " + stamps.dt.strftime("%H:%M"))
    chinese = (stamps.dt.year.astype(str) + "年" + stamps.dt.month.astype(str) + "月" + stamps.dt.day.astype(str)
               + "日 " + stamps.dt.strftime("%H:%M"))
    fmt = rng.choice(3, size=n, p=[0.7, 0.2, 0.1])
    sold_at = iso.where(fmt == 0, slash.where(fmt == 1, chinese))
    member = rng.random(n) < 0.6
    card = pd.Series(np.where(member, "VIP" + rng.integers(100000, 999999, size=n).astype(str), ""), dtype="str")
    mobile = pd.Series((rng.integers(130, 199, size=n) * 10**8 + rng.integers(0, 10**8, size=n)).astype(str),
                       dtype="str")
    phone_fmt = rng.choice(6, size=n, p=[0.5, 0.15, 0.1, 0.05, 0.05, 0.15])
    spaced = "+86 " + mobile.str.slice(0, 3) + " " + mobile.str.slice(3, 7) + " " + mobile.str.slice(7)
    dashed = mobile.str.slice(0, 3) + "-" + mobile.str.slice(3, 7) + "-" + mobile.str.slice(7)
    masked = mobile.str.slice(0, 3) + "****" + mobile.str.slice(7)
    phone = mobile.where(phone_fmt == 0, spaced.where(phone_fmt == 1, dashed.where(
        phone_fmt == 2, masked.where(phone_fmt == 3, pd.Series("13800000000", index=mobile.index).where(
            phone_fmt == 4, "")))))
    phone = phone.where(member, "")
    sku = rng.integers(1, 5000, size=n)
    sku_code = pd.Series(np.char.add("SKU", np.char.zfill(sku.astype(str), 6)), dtype="str")
    sku_name = "商品" + sku_code.str.slice(3)
    qty = rng.integers(1, 5, size=n) * np.where(is_return, -1, 1)
    price_cents = rng.integers(500, 200000, size=n)
    price = pd.Series(np.char.mod("%.2f", price_cents / 100), dtype="str")
    discount = pd.Series(np.char.mod("%.2f", (price_cents * 0.1).round() / 100), dtype="str")
    paid_cents = qty * price_cents - np.sign(qty) * (price_cents * 0.1).round().astype(np.int64)
    paid_plain = pd.Series(np.char.mod("%.2f", paid_cents / 100), dtype="str")
    money_fmt = rng.choice(3, size=n, p=[0.6, 0.3, 0.1])
    thousands = paid_plain.str.replace(r"^(-?\d+)(\d{3})\.", r"\1,\2.", regex=True)
    whole_yuan = paid_cents // 100  # the third spelling drops the cents
    paid = paid_plain.where(money_fmt == 0, ('"￥' + thousands + '"').where(
        money_fmt == 1, pd.Series(whole_yuan.astype(str), dtype="str")))
    # The total row sums the amounts as the lines spell them (the loader checks it against the lines).
    shown_cents = np.where(money_fmt == 2, whole_yuan * 100, paid_cents)
    pay = _pick(rng, ["微信", "支付宝", "现金", "银行卡", "储值卡"], n)
    cols = [receipt_cell, rtype, original, store_code, store_name, cashier, sold_at, card, phone, sku_code,
            sku_name, pd.Series(qty.astype(str), dtype="str"), price, discount, paid, pay]
    line = cols[0]
    for col in cols[1:]:
        line = line + "," + col
    total = int(shown_cents.sum()) / 100
    text = "销售明细报表\n导出时间：2025-12-31 23:59:59\n" + HEADER + "\n" + "\n".join(line.tolist()) + \
        f"\n合计,,,,,,,,,,,{int(qty.sum())},,,{total:.2f},\n\n"
    path.write_bytes(text.encode("gbk"))


def child(landing: Path, db_path: Path) -> None:
    import duckdb

    from ingestion.loader import load_source

    con = duckdb.connect(str(db_path))
    start, cpu_start = time.perf_counter(), resource.getrusage(resource.RUSAGE_SELF)
    report = load_source(con, landing, "pos")
    seconds = time.perf_counter() - start
    cpu_end = resource.getrusage(resource.RUSAGE_SELF)
    cpu = (cpu_end.ru_utime - cpu_start.ru_utime) + (cpu_end.ru_stime - cpu_start.ru_stime)
    count = con.execute("select count(*) from raw.pos").fetchone()[0]
    quarantined = con.execute("select count(*) from raw._quarantine").fetchone()[0]
    con.close()
    print(json.dumps({
        "rows_in": sum(f.rows_in for f in report.files),
        "rows_loaded": report.rows_loaded,
        "rows_quarantined": report.rows_quarantined,
        "rows_in_table": count,
        "quarantine_in_table": quarantined,
        "seconds": seconds,
        "cpu_seconds": cpu,
        "load_average": os.getloadavg()[0],
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "messages": [f.message[:300] for f in report.files],
    }))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--keep", type=Path, default=None, help="write the data here and keep it")
    parser.add_argument("--child", nargs=2, type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(*args.child)
        return
    with tempfile.TemporaryDirectory(prefix="bench_ingest_") as tmp:
        root = args.keep or Path(tmp)
        landing = root / "landing"
        (landing / "pos").mkdir(parents=True, exist_ok=True)
        csv_path = landing / "pos" / "pos_bench.csv"
        t0 = time.perf_counter()
        write_pos_csv(csv_path, args.rows)
        print(f"generated {args.rows:,} lines ({csv_path.stat().st_size / 1e6:.1f} MB GBK) "
              f"in {time.perf_counter() - t0:.1f}s")
        db_path = root / "bench.duckdb"
        db_path.unlink(missing_ok=True)
        out = subprocess.run([sys.executable, __file__, "--child", str(landing), str(db_path)],
                             check=True, capture_output=True, text=True)
        figures = json.loads(out.stdout.strip().splitlines()[-1])
    if figures["rows_loaded"] == 0:  # a rejected file: the figures would measure nothing
        raise SystemExit(f"nothing loaded: {figures['messages'][0] if figures['messages'] else '-'}")
    rate = figures["rows_in"] / figures["seconds"]
    print(f"rows in file:        {figures['rows_in']:,}")
    print(f"rows loaded:         {figures['rows_loaded']:,} (raw.pos holds {figures['rows_in_table']:,})")
    print(f"rows quarantined:    {figures['rows_quarantined']:,}")
    print(f"load seconds:        {figures['seconds']:.2f}")
    print(f"rows/s:              {rate:,.0f}")
    print(f"CPU seconds (child): {figures['cpu_seconds']:.2f} (user+sys, all threads)")
    print(f"load average (1 min) at the end: {figures['load_average']:.1f} on {os.cpu_count()} cores "
          "(other processes share the CPU when it exceeds the core count)")
    print(f"peak RSS (child):    {figures['peak_rss_mb']:,.0f} MB")
    print(f"manifest message:    {figures['messages'][0] if figures['messages'] else '-'}")


if __name__ == "__main__":
    main()
