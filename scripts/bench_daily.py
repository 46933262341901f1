"""Benchmark: is a daily refresh proportional to the new day, or to all history?

    .venv/bin/python scripts/bench_daily.py [--people 200000] [--keep DIR] [--select SELECTOR]
    .venv/bin/python scripts/bench_daily.py --people 150 --select +fct_orders   # the test suite's run

1. Generates the demo exports for ``--people`` people (24 months of monthly exports per channel) into a
   scratch data directory and holds back the newest export of each order channel (pos, tmall, jd,
   wechat_pay): "the new day".
2. Day 1: loads the landing folder and runs the pipeline's dbt step (``dbt build`` without unit tests,
   exactly the arguments of the Dagster job: ``transform.dbt.build_args`` run by ``transform.dbt.run_dbt``).
3. Day 2: the held-back exports arrive; loads them and runs the same dbt build again.
4. Day 3, the next morning: no new export yet, as_of moves one day on (``--vars as_of``): what a day
   costs the as_of-relative marts alone (lifecycle crossings, the tier snapshot, RFM recency).
5. Prints per model the execution time of the three runs (dbt's run_results.json) and the totals, so
   the models whose later runs still cost as much as the first stand out.

At full scale it takes minutes: run it by hand on a quiet machine. The test suite runs it at a tiny scale
(tests/scripts/test_benchmarks.py) so it keeps working.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

import duckdb

from core.paths import DATA_DIR_ENV, DataPaths
from demo.generator import generate
from ingestion.loader import load_landing
from transform.dbt import build_args, prepare_dbt_manifest, run_dbt

ORDER_SOURCES = ("pos", "tmall", "jd", "wechat_pay")


def hold_back_newest(paths: DataPaths, holding: Path) -> list[tuple[Path, Path]]:
    """Move the newest export of each order channel out of the landing folder; return (landing, held)."""
    moved = []
    for source in ORDER_SOURCES:
        files = sorted((paths.landing / source).iterdir())
        newest = files[-1]
        held = holding / source / newest.name
        held.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(newest, held)
        moved.append((newest, held))
    return moved


def load(paths: DataPaths) -> tuple[float, int]:
    started = time.perf_counter()
    con = duckdb.connect(str(paths.warehouse))
    try:
        results = load_landing(con, paths.landing)
    finally:
        con.close()
    return time.perf_counter() - started, sum(report.rows_loaded for report in results)


def dbt_build(
    target: Path, select: str | None, as_of: str | None = None
) -> tuple[float, dict[str, dict], int]:
    """Run the pipeline's dbt build; return (wall seconds, per-node results, peak RSS of children in kB)."""
    started = time.perf_counter()
    args = build_args(as_of=as_of, select=select)
    if select:  # only the tests of the selected models (not a relationship to a model left out)
        args += ["--indirect-selection", "cautious"]
    run = run_dbt(args, target_path=target, check=False)
    wall = time.perf_counter() - started
    if not run.success:
        print(run.output[-6000:], file=sys.stderr)
        raise SystemExit(f"dbt build failed (exit {run.returncode})")
    nodes = {result["unique_id"]: {"seconds": result["execution_time"]} for result in run.results()}
    peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return wall, nodes, peak_kb


def latest_purchase_date(paths: DataPaths) -> dt.date:
    """The day the marts are as of by default (repurchase_as_of), or the latest order's day when the
    selection did not build that mart."""
    with duckdb.connect(str(paths.warehouse), read_only=True) as con:
        built = {name for (name,) in con.execute(
            "select table_name from information_schema.tables where table_schema = 'marts'").fetchall()}
        if "repurchase_as_of" in built:
            return con.execute("select latest_purchase_date from marts.repurchase_as_of").fetchone()[0]
        return con.execute("select max(ordered_at)::date from intermediate.int_orders_unioned").fetchone()[0]


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--people", type=int, default=200_000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--keep", type=Path, help="data directory to use and keep (default: a temp dir)")
    parser.add_argument(
        "--select", help="dbt selector (default: the whole project, as the job); tests of those models only"
    )
    parser.add_argument("--top", type=int, default=25, help="models to list, slowest day-2 first")
    args = parser.parse_args()

    root = args.keep or Path(tempfile.mkdtemp(prefix="bench_daily_"))
    if root.exists() and any(root.iterdir()):
        shutil.rmtree(root)
    root.mkdir(parents=True, exist_ok=True)
    os.environ[DATA_DIR_ENV] = str(root)
    paths = DataPaths(root)

    target = root / "dbt_target"
    os.environ["DBT_TARGET_PATH"] = str(target)
    prepare_dbt_manifest(force=True)

    started = time.perf_counter()
    generate(root, people=args.people, seed=args.seed)
    print(f"generated {args.people:,} people in {time.perf_counter() - started:.1f} s into {root}")
    moved = hold_back_newest(paths, root / "held_back")
    print("held back:", ", ".join(landing.name for landing, _ in moved))

    load_1, rows_1 = load(paths)
    wall_1, nodes_1, _ = dbt_build(target, args.select)
    print(f"day 1: load {load_1:.1f} s ({rows_1:,} rows), dbt build {wall_1:.1f} s")

    for landing, held in moved:
        shutil.move(held, landing)
    load_2, rows_2 = load(paths)
    wall_2, nodes_2, peak_kb = dbt_build(target, args.select)
    print(f"day 2: load {load_2:.1f} s ({rows_2:,} rows, {rows_2 / max(rows_1, 1):.1%} of day 1), "
          f"dbt build {wall_2:.1f} s ({wall_2 / wall_1:.0%} of day 1)")  # fmt: skip
    next_day = (latest_purchase_date(paths) + dt.timedelta(days=1)).isoformat()
    wall_3, nodes_3, peak_kb = dbt_build(target, args.select, as_of=next_day)
    print(f"day 3: no new file, as_of {next_day}: dbt build {wall_3:.1f} s ({wall_3 / wall_1:.0%} of day 1)")
    print(f"peak RSS of a dbt process: {peak_kb / 1024 / 1024:.2f} GB")

    runs = (nodes_1, nodes_2, nodes_3)
    models = [uid for uid in nodes_2 if uid.startswith("model.")]
    models.sort(key=lambda uid: nodes_2[uid]["seconds"], reverse=True)
    print(f"\n{'model':45} {'day 1 s':>8} {'day 2 s':>8} {'day 3 s':>8}")
    for uid in models[: args.top]:
        seconds = [run.get(uid, {}).get("seconds", float("nan")) for run in runs]
        print(f"{uid.split('.')[-1]:45} " + " ".join(f"{s:8.2f}" for s in seconds))
    for kind in ("model", "test"):
        totals = [sum(v["seconds"] for k, v in run.items() if k.startswith(f"{kind}.")) for run in runs]
        print(f"{kind}s total: " + ", ".join(f"day {i} {t:.1f} s" for i, t in enumerate(totals, start=1)))
    if not args.keep:
        shutil.rmtree(root, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
