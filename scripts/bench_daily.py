"""Benchmark: is a daily refresh proportional to the new day, or to all history?

    .venv/bin/python scripts/bench_daily.py [--people 300000] [--keep DIR] [--select SELECTOR] [--full-only]
        [--reuse-exports] [--repeat N] [--statements N] [--keep-day-1 | --from-day-1]
    .venv/bin/python scripts/bench_daily.py --people 2000 --select +customer_lifecycle   # the test suite's run

1. Generates the demo exports for ``--people`` people (24 months of history) with the last day's orders
   written as daily files, one per order channel (pos, tmall, jd, wechat_pay: ``generate(daily_days=1)``),
   into a scratch data directory, and holds those back: "the new day".
2. Day 1: loads the landing folder and runs the pipeline's dbt step as of the day before (``dbt build``
   without unit tests, exactly the arguments of the Dagster job: ``transform.dbt.build_args`` run by
   ``transform.dbt.run_dbt``): a full build. ``--full-only`` stops here (the memory measurement).
3. Day 2: the day's files arrive; loads them and runs the same dbt build as of the next day.
4. Runs day 2's build once more: nothing new, the same as_of. That is the floor of a day, what a build
   costs whatever the day brought.
5. Prints per model and per test the execution time of the three runs (dbt's run_results.json), the totals,
   day 2 as a share of day 1 (wall time, and the CPU time of the dbt process, which a machine shared with
   other work stretches less), and the peak RSS of the dbt process of the full build.

``--statements N`` then runs day 2 once more from day 1's warehouse with dbt's debug log, and prints the N
slowest SQL statements of it and the SQL seconds per node (transform/dbt_log.py reads that log): where
a model's seconds go, its create, its delete+insert, its hooks, each test's query. That run is slower than
the measured ones (dbt logs every statement) and is not in their figures.

``--keep-day-1`` keeps day 1's warehouse in the --keep folder (``warehouse_day_1.duckdb``, its figures in
``day_1.json``); a later ``--from-day-1`` on that folder skips the exports and day 1 and runs day 2 (and the
rest) from it. At 1M people day 1 costs minutes, a day 2 under a minute: a change is measured against the
same day 1, and the script of another checkout (``PYTHONPATH=<checkout> <checkout>/.venv/bin/python
<checkout>/scripts/bench_daily.py --keep DIR --from-day-1``) measures its code on the same state, an A/B,
as long as its models have the stored tables' columns.

``--repeat N`` runs day 2 N times, each from a copy of the warehouse as day 1 left it (the day's files are
loaded again each time), and reports the median of the N day-2 wall and CPU times and of each node's
seconds, with every run's figures: a single 1M run varies by a few seconds, as much as one change saves.

At full scale it takes minutes: run it by hand on a quiet machine. The test suite runs it at a tiny scale
(tests/scripts/test_bench_daily.py) so it keeps working.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import NamedTuple

import duckdb

from core.paths import DATA_DIR_ENV, DataPaths
from demo.generator import generate
from ingestion.loader import load_landing
from transform.dbt import build_args, prepare_dbt_manifest, run_dbt
from transform.dbt_log import report, statements

ORDER_SOURCES = ("pos", "tmall", "jd", "wechat_pay")
END_DATE = dt.date(2026, 10, 31)  # the generator's default last day: the day whose files arrive on day 2


def hold_back_day(paths: DataPaths, holding: Path, day: dt.date) -> list[tuple[Path, Path]]:
    """Move each order channel's daily file of ``day`` out of the landing folder; return (landing, held)."""
    moved = []
    for source in ORDER_SOURCES:
        for daily in sorted((paths.landing / source).glob(f"*_{day.isoformat()}.*")):
            held = holding / source / daily.name
            held.parent.mkdir(parents=True, exist_ok=True)
            shutil.move(daily, held)
            moved.append((daily, held))
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
    target: Path, select: str | None, as_of: str, extra: tuple[str, ...] = ()
) -> tuple[float, dict[str, dict], int, float]:
    """Run the pipeline's dbt build (with ``extra`` dbt arguments); return (wall seconds, per-node results, peak
    RSS of its dbt process in kB, CPU seconds of its dbt process: user + system)."""
    started = time.perf_counter()
    args = [*build_args(as_of=as_of, select=select), *extra]
    if select:  # only the tests of the selected models (not a relationship to a model left out)
        args += ["--indirect-selection", "cautious"]
    run = run_dbt(args, target_path=target, check=False)
    wall = time.perf_counter() - started
    if not run.success:
        print(run.output[-6000:], file=sys.stderr)
        raise SystemExit(f"dbt build failed (exit {run.returncode})")
    nodes = {result["unique_id"]: {"seconds": result["execution_time"]} for result in run.results()}
    peak_kb = run.peak_rss_bytes // 1024
    return wall, nodes, peak_kb, run.cpu_seconds


class DayRun(NamedTuple):
    """One day-2 run: load seconds, rows loaded, dbt build wall seconds, per-node results, CPU seconds."""

    load: float
    rows: int
    wall: float
    nodes: dict[str, dict]
    cpu: float


def restore_warehouse(paths: DataPaths, snapshot: Path) -> None:
    """Put back the warehouse as day 1 left it (raw tables, manifest and every model), so the day's files load
    and build again from the same state."""
    for leftover in (Path(f"{paths.warehouse}.wal"), Path(f"{paths.warehouse}.tmp")):
        shutil.rmtree(leftover) if leftover.is_dir() else leftover.unlink(missing_ok=True)
    shutil.copyfile(snapshot, paths.warehouse)


def print_statements(paths: DataPaths, snapshot: Path, target: Path, select: str | None, top: int) -> None:
    """Day 2 once more from day 1's warehouse, with dbt's debug log: its ``top`` slowest SQL statements and
    the SQL seconds per node (scripts/dbt_statements.py)."""
    restore_warehouse(paths, snapshot)
    load(paths)
    wall, _, _, _ = dbt_build(target, select, as_of=END_DATE.isoformat(), extra=("--log-level-file", "debug"))
    found = statements((target / "dbt.log").read_text(encoding="utf-8").splitlines())
    print(f"\nstatements of day 2, built once more with dbt's debug log ({wall:.1f} s, not in the figures above):")
    print(report(found, top=top))


def median_nodes(runs: list[dict[str, dict]]) -> dict[str, dict]:
    """Each node's median seconds over ``runs`` (a node missing from a run counts only where it ran)."""
    uids = {uid for run in runs for uid in run}
    return {
        uid: {"seconds": statistics.median(run[uid]["seconds"] for run in runs if uid in run)} for uid in uids
    }


def node_name(unique_id: str) -> str:
    """A model's name, or a test's name (dbt's test names carry their model and columns)."""
    return unique_id.split(".")[2]


RUN_LABELS = ("day 1", "day 2", "again")  # the full build, the day, the day's build once more


def print_nodes(kind: str, runs: tuple[dict[str, dict], ...], top: int) -> None:
    """The ``top`` slowest nodes of ``kind`` on day 2 (all when top is 0), with every run's seconds."""
    uids = [uid for uid in runs[1 if len(runs) > 1 else 0] if uid.startswith(f"{kind}.")]
    uids.sort(key=lambda uid: runs[1 if len(runs) > 1 else 0][uid]["seconds"], reverse=True)
    print(f"\n{kind:60} " + " ".join(f"{label + ' s':>8}" for label in RUN_LABELS[: len(runs)]))
    for uid in uids[: top or None]:
        seconds = [run.get(uid, {}).get("seconds", float("nan")) for run in runs]
        print(f"{node_name(uid)[:60]:60} " + " ".join(f"{s:8.2f}" for s in seconds))


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--people", type=int, default=300_000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--keep", type=Path, help="data directory to use and keep (default: a temp dir)")
    parser.add_argument(
        "--select", help="dbt selector (default: the whole project, as the job); tests of those models only"
    )
    parser.add_argument("--top", type=int, default=0, help="models and tests to list, slowest day-2 first "
                        "(default 0: all)")
    parser.add_argument("--full-only", action="store_true", help="day 1 only: the full build's time and memory")
    parser.add_argument("--reuse-exports", action="store_true", help="use the exports already in --keep DIR "
                        "(written with --daily-days 1, e.g. by an earlier run) instead of generating them")
    parser.add_argument("--statements", type=int, default=0, help="after the measured runs, day 2 once more "
                        "with dbt's debug log: print its N slowest SQL statements and the SQL seconds per node")
    parser.add_argument("--keep-day-1", action="store_true", help="keep day 1's warehouse and figures in "
                        "--keep DIR (warehouse_day_1.duckdb, day_1.json) for --from-day-1")
    parser.add_argument("--from-day-1", action="store_true", help="start from the day 1 an earlier "
                        "--keep-day-1 run left in --keep DIR: no exports, no day 1")
    parser.add_argument("--repeat", type=int, default=1, help="day 2 runs, each from a copy of day 1's "
                        "warehouse; the medians are reported (default 1)")
    args = parser.parse_args()
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    if (args.keep_day_1 or args.from_day_1) and not args.keep:
        parser.error("--keep-day-1 and --from-day-1 need --keep DIR")
    if args.keep_day_1 and args.full_only:
        parser.error("--keep-day-1 keeps day 1 for day 2: not with --full-only")
    if args.from_day_1 and (args.keep_day_1 or args.full_only or args.reuse_exports):
        parser.error("--from-day-1 goes with none of --keep-day-1, --full-only, --reuse-exports")

    root = args.keep or Path(tempfile.mkdtemp(prefix="bench_daily_"))
    snapshot, day_1_figures = root / "warehouse_day_1.duckdb", root / "day_1.json"
    if args.from_day_1:
        if not (snapshot.is_file() and day_1_figures.is_file()):
            parser.error(f"--from-day-1: {root} holds no {snapshot.name} and {day_1_figures.name} "
                         "(run once with --keep DIR --keep-day-1)")
    elif args.reuse_exports:
        if not args.keep or not (root / "landing").is_dir():
            parser.error("--reuse-exports needs --keep DIR holding landing/ (python -m demo.generator "
                         "--daily-days 1 --out DIR)")
        for leftover in root.iterdir():  # a fresh warehouse beside the same exports
            if leftover.name not in ("landing", "ground_truth"):
                shutil.rmtree(leftover) if leftover.is_dir() else leftover.unlink()
    elif root.exists() and any(root.iterdir()):
        shutil.rmtree(root)
    root.mkdir(parents=True, exist_ok=True)
    os.environ[DATA_DIR_ENV] = str(root)
    paths = DataPaths(root)

    target = root / "dbt_target"
    os.environ["DBT_TARGET_PATH"] = str(target)
    prepare_dbt_manifest(force=True)

    day_1 = (END_DATE - dt.timedelta(days=1)).isoformat()
    if args.from_day_1:
        kept = json.loads(day_1_figures.read_text(encoding="utf-8"))
        load_1, rows_1, wall_1, cpu_1, peak_kb, nodes_1 = (
            kept[k] for k in ("load", "rows", "wall", "cpu", "peak_kb", "nodes")
        )
        print(f"day 1 from {snapshot} (a --keep-day-1 run; the day's files are in landing/)")
    else:
        if args.reuse_exports:
            print(f"reusing the exports in {root / 'landing'}")
        else:
            started = time.perf_counter()
            generate(root, people=args.people, seed=args.seed, end_date=END_DATE, daily_days=1)
            print(f"generated {args.people:,} people in {time.perf_counter() - started:.1f} s into {root}")
        moved = hold_back_day(paths, root / "held_back", END_DATE)
        print("held back:", ", ".join(landing.name for landing, _ in moved))
        load_1, rows_1 = load(paths)
        wall_1, nodes_1, peak_kb, cpu_1 = dbt_build(target, args.select, as_of=day_1)
    print(f"day 1: as_of {day_1}, load {load_1:.1f} s ({rows_1:,} rows), dbt build {wall_1:.1f} s")
    print(f"peak RSS of the full build's dbt process: {peak_kb / 1024 / 1024:.2f} GB")
    runs: tuple[dict[str, dict], ...] = (nodes_1,)
    if not args.full_only:
        if not args.from_day_1 and (args.repeat > 1 or args.statements or args.keep_day_1):
            with duckdb.connect(str(paths.warehouse)) as con:
                con.execute("checkpoint")  # everything in the file itself: the copy needs no WAL
            shutil.copyfile(paths.warehouse, snapshot)
        if args.keep_day_1:
            figures = {"load": load_1, "rows": rows_1, "wall": wall_1, "cpu": cpu_1, "peak_kb": peak_kb,
                       "nodes": nodes_1}  # fmt: skip
            day_1_figures.write_text(json.dumps(figures), encoding="utf-8")
        if not args.from_day_1:
            for landing, held in moved:
                shutil.move(held, landing)
        day_2_runs = []
        for attempt in range(args.repeat):
            if attempt or args.from_day_1:
                restore_warehouse(paths, snapshot)
            load_s, rows_s = load(paths)
            wall_s, nodes_s, _, cpu_s = dbt_build(target, args.select, as_of=END_DATE.isoformat())
            day_2_runs.append(DayRun(load_s, rows_s, wall_s, nodes_s, cpu_s))
            if args.repeat > 1:
                print(f"day 2 run {attempt + 1} of {args.repeat}: load {load_s:.1f} s ({rows_s:,} rows), "
                      f"dbt build {wall_s:.1f} s, CPU {cpu_s:.1f} s")
        load_2 = statistics.median(run.load for run in day_2_runs)
        rows_2 = day_2_runs[0].rows
        wall_2 = statistics.median(run.wall for run in day_2_runs)
        cpu_2 = statistics.median(run.cpu for run in day_2_runs)
        nodes_2 = median_nodes([run.nodes for run in day_2_runs])
        of_runs = f", median of {args.repeat} runs" if args.repeat > 1 else ""
        print(f"day 2: as_of {END_DATE.isoformat()}, load {load_2:.1f} s ({rows_2:,} rows, "
              f"{rows_2 / max(rows_1, 1):.2%} of day 1), dbt build {wall_2:.1f} s ({wall_2 / wall_1:.0%} of day 1)"
              f"{of_runs}")
        # CPU time is what a busy machine distorts least: other processes stretch the wall time, not it
        print(f"dbt build CPU (user + system): day 1 {cpu_1:.1f} s, day 2 {cpu_2:.1f} s "
              f"({cpu_2 / max(cpu_1, 1e-9):.0%} of day 1){of_runs}")
        # the floor: the same build once more, nothing new and the same as_of. What it costs does not
        # depend on the day's data; what day 2 costs beyond it does.
        wall_0, nodes_0, _, cpu_0 = dbt_build(target, args.select, as_of=END_DATE.isoformat())
        print(f"nothing new (day 2's build again, same as_of, no file): dbt build {wall_0:.1f} s "
              f"({wall_0 / wall_1:.0%} of day 1), CPU {cpu_0:.1f} s ({cpu_0 / max(cpu_1, 1e-9):.0%} of day 1)")
        runs = (nodes_1, nodes_2, nodes_0)
        if args.statements:
            print_statements(paths, snapshot, root / "dbt_target_statements", args.select, args.statements)
        if not (args.keep_day_1 or args.from_day_1):
            snapshot.unlink(missing_ok=True)

    for kind in ("model", "test"):
        print_nodes(kind, runs, args.top)
    print()
    for kind in ("model", "test"):
        totals = [sum(v["seconds"] for k, v in run.items() if k.startswith(f"{kind}.")) for run in runs]
        print(f"{kind}s total: " + ", ".join(f"{label} {t:.1f} s" for label, t in zip(RUN_LABELS, totals)))
    if not args.keep:
        shutil.rmtree(root, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
