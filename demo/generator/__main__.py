"""python -m demo.generator --people N --seed S --out DIR"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import time
from pathlib import Path

from .core import generate


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m demo.generator",
                                     description="Write synthetic native exports and ground truth.")
    parser.add_argument("--people", type=int, default=5000, help="number of simulated people (default 5000)")
    parser.add_argument("--seed", type=int, default=42, help="random seed (default 42)")
    parser.add_argument("--out", type=Path, required=True, help="output folder (landing/ and ground_truth/)")
    parser.add_argument("--end-date", type=dt.date.fromisoformat, default=dt.date(2026, 10, 31),
                        help="last day of history, YYYY-MM-DD (default 2026-10-31)")
    parser.add_argument("--years", type=float, default=2.0, help="years of history (default 2)")
    parser.add_argument("--daily-days", type=int, default=0,
                        help="write the order exports of the last N days one file per day (default 0)")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    try:
        summary = generate(args.out, people=args.people, seed=args.seed, end_date=args.end_date,
                           years=args.years, daily_days=args.daily_days, progress=lambda msg: print(msg, flush=True))
    except ValueError as exc:
        parser.error(str(exc))
    n_files = sum(len(v) for v in summary.files.values())
    print(f"wrote {n_files} files, {sum(summary.rows.values()):,} data rows to {summary.landing} "
          f"in {time.perf_counter() - started:.1f}s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
