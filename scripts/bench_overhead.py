"""Benchmark: what ``repurchase run`` costs when no new export arrived (the fixed overhead of a day).

    .venv/bin/python scripts/bench_overhead.py [--people 5000] [--keep DIR]
    .venv/bin/python scripts/bench_overhead.py --data-dir DIR   # an existing deployment's data directory

1. ``repurchase demo --people N`` into a scratch data directory: generates the exports and runs the whole
   pipeline once (timed: the full run).
2. ``repurchase run`` again with nothing new: the CLI finds the inputs unchanged since that good run
   (dagster_project/unchanged.py) and prints its summary without starting Dagster (timed, wall clock of
   the whole process, as a person waits for it; target ≤ 10 s on the 5,000-person demo).
3. ``repurchase --help``: the floor (Python and the CLI's imports).

With ``--data-dir`` step 1 is skipped: the run with nothing new is timed on a data directory whose last
``repurchase run`` (or ``repurchase demo``) succeeded, e.g. a merchant's own; the test suite runs it on a
copy of its demo (tests/scripts/test_bench_overhead.py).

Each step is a separate process started the way a person would (``.venv/bin/repurchase``), so the
figures include interpreter start-up. Prints the seconds and peak RSS of each step.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPURCHASE = Path(sys.executable).with_name("repurchase")
NOTHING_TO_DO = "Nothing to do:"


def timed(args: list[str], data_dir: Path) -> tuple[float, float, str]:
    """(wall seconds, peak RSS of the child in GB, what it printed) of ``repurchase <args>``."""
    env = {**os.environ, "REPURCHASE_DATA_DIR": str(data_dir)}
    started = time.perf_counter()
    completed = subprocess.run([str(REPURCHASE), *args], env=env, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - started
    if completed.returncode != 0:
        sys.exit(f"repurchase {' '.join(args)} exited {completed.returncode}:\n{completed.stdout[-3000:]}\n"
                 f"{completed.stderr[-3000:]}")  # fmt: skip
    peak_gb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024**2
    return seconds, peak_gb, completed.stdout


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--people", type=int, default=5000, help="demo size (5000, the demo's default)")
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--keep", type=Path, help="data directory to use and keep (default: a temp dir)")
    where.add_argument(
        "--data-dir",
        type=Path,
        help="an existing data directory whose last run succeeded: time only the run with nothing new",
    )
    args = parser.parse_args(argv)
    if args.data_dir is not None and not args.data_dir.is_dir():
        parser.error(f"--data-dir {args.data_dir} is not a directory")
    data_dir = args.data_dir or args.keep or Path(tempfile.mkdtemp(prefix="bench_overhead_")) / "data"
    data_dir.mkdir(parents=True, exist_ok=True)
    full_run = None
    try:
        if args.data_dir is None:
            full_run = timed(["demo", "--people", str(args.people)], data_dir)
        again, again_rss, printed = timed(["run"], data_dir)
        floor, _, _ = timed(["--help"], data_dir)
    finally:
        if args.keep is None and args.data_dir is None:
            shutil.rmtree(data_dir.parent, ignore_errors=True)
    if full_run is None:
        print(f"data directory:               {data_dir}")
        print("full run (repurchase demo):   not run (an existing data directory)")
    else:
        full, full_rss, _ = full_run
        print(f"people:                       {args.people}")
        print(f"full run (repurchase demo):   {full:.1f} s   peak RSS {full_rss:.2f} GB")
    print(f"run with no new export:       {again:.1f} s   peak RSS (any child so far) {again_rss:.2f} GB")
    print(f"nothing-to-do detected:       {'yes' if NOTHING_TO_DO in printed else 'no'}")
    print(f"floor (repurchase --help):    {floor:.1f} s")
    return 0 if NOTHING_TO_DO in printed else 1


if __name__ == "__main__":
    raise SystemExit(main())
