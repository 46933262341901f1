"""Benchmark: fit the predictive-CLV models (BG/NBD + Gamma-Gamma) on N simulated customers and score them.

    .venv/bin/python scripts/bench_clv.py [--customers 2000000] [--seed 1]
    .venv/bin/python scripts/bench_clv.py --customers 3000   # seconds: the test suite's run

The parent simulates the transactions of N customers from known parameters (``prediction.simulate``:
first purchases over a year, observed for two; purchases dated to the day) into a Parquet file in a temp
dir, then a child process reads it and runs what the pipeline runs: transactions -> per-customer summary
(same-day purchases collapsed), both maximum-likelihood fits, and the per-customer predictions (P(alive),
90/365-day purchases, expected spend, 36-month discounted CLV, rank). The simulation does not count towards
the child's time or peak RSS (``resource.getrusage(RUSAGE_SELF).ru_maxrss`` of the child). Prints seconds
per step, peak RSS, and the fitted parameters beside the true ones. Target: 2,000,000 customers in <= 60 s
and <= 4 GB on a 2-core machine.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TRUE_BGNBD = {"r": 0.9, "alpha": 10.0, "a": 0.8, "b": 2.5}  # weekly: mean rate 0.09 a week (~4.7 a year)
TRUE_GAMMA_GAMMA = {"p": 6.0, "q": 4.0, "gamma": 20.0}  # mean spend per purchase p·γ/(q-1) = 40
FIRST_DAY = dt.date(2024, 1, 1)
ACQUISITION_DAYS = 365
END_DAY = dt.date(2025, 12, 31)
# Purchases are dated to the day, so a customer buying twice on a day counts once: the estimates are
# recovered up to that (and sampling error), here judged within this relative tolerance.
RECOVERY_TOLERANCE = 0.10


def child(parquet: Path) -> None:
    """Read the transactions, summarise, fit, score; print one JSON line of figures."""
    import pandas as pd

    from prediction import bgnbd, gamma_gamma
    from prediction.clv import ClvSettings, score_customers
    from prediction.summary import summarize_transactions

    seconds: dict[str, float] = {}
    started = time.perf_counter()
    transactions = pd.read_parquet(parquet)
    seconds["read"] = time.perf_counter() - started

    step = time.perf_counter()
    summary = summarize_transactions(
        transactions, customer_column="customer_id", date_column="purchase_date", amount_column="amount",
        calibration_end=END_DAY,
    )  # fmt: skip
    del transactions
    seconds["summary"] = time.perf_counter() - step
    x = summary["frequency"].to_numpy(float)

    step = time.perf_counter()
    bgnbd_fit = bgnbd.fit(x, summary["recency"].to_numpy(float), summary["tenure"].to_numpy(float))
    seconds["fit bgnbd"] = time.perf_counter() - step

    step = time.perf_counter()
    gg_fit = gamma_gamma.fit(x, summary["monetary"].to_numpy(float))
    seconds["fit gamma_gamma"] = time.perf_counter() - step

    step = time.perf_counter()
    scored = score_customers(summary, bgnbd_fit.parameters, gg_fit.parameters, ClvSettings())
    seconds["score"] = time.perf_counter() - step
    seconds["total"] = time.perf_counter() - started
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(
        json.dumps(
            {
                "seconds": seconds,
                "peak_kb": peak_kb,
                "customers": len(summary),
                "scored": len(scored),
                "repeat_customers": int((x > 0).sum()),
                "fits": {
                    fit.model: {
                        "parameters": fit.parameters,
                        "standard_errors": fit.standard_errors,
                        "converged": fit.converged,
                        "warnings": fit.warnings,
                    }
                    for fit in (bgnbd_fit, gg_fit)
                },
                "total_clv": float(scored["predicted_clv"].sum()),
            }
        )
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--customers", type=int, default=2_000_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(Path(args.child))
        return 0

    from prediction.simulate import simulate_transactions

    with tempfile.TemporaryDirectory(prefix="bench_clv_") as tmp:
        parquet = Path(tmp) / "transactions.parquet"
        started = time.perf_counter()
        transactions = simulate_transactions(
            args.customers, bgnbd_params=TRUE_BGNBD, gamma_gamma_params=TRUE_GAMMA_GAMMA, first_day=FIRST_DAY,
            acquisition_days=ACQUISITION_DAYS, end_day=END_DAY, seed=args.seed,
        )  # fmt: skip
        transactions.to_parquet(parquet, index=False)
        rows = len(transactions)
        del transactions
        simulated = time.perf_counter() - started
        completed = subprocess.run(
            [sys.executable, __file__, "--child", str(parquet)], capture_output=True, text=True, check=False
        )
    if completed.returncode != 0:
        print(completed.stdout + completed.stderr, file=sys.stderr)
        return completed.returncode
    figures = json.loads(completed.stdout.strip().splitlines()[-1])
    seconds = figures["seconds"]
    print(f"customers:                 {figures['customers']:,}")
    print(
        f"transactions:              {rows:,} ({figures['repeat_customers']:,} customers with a repeat purchase)"
    )
    print(f"simulate (not counted):    {simulated:.1f} s")
    for step in ("read", "summary", "fit bgnbd", "fit gamma_gamma", "score"):
        print(f"{step + ':':<27}{seconds[step]:.1f} s")
    print(f"fit and score total:       {seconds['total']:.1f} s (target <= 60 s for 2,000,000 customers)")
    print(f"peak RSS (child):          {figures['peak_kb'] / 1024 / 1024:.2f} GB (target <= 4 GB)")
    print(f"{'parameter':<18}{'true':>9}{'fitted':>11}{'se':>10}{'error':>9}")
    recovered = True
    for model, truth in (("bgnbd", TRUE_BGNBD), ("gamma_gamma", TRUE_GAMMA_GAMMA)):
        fit = figures["fits"][model]
        for name, value in truth.items():
            fitted, se = fit["parameters"][name], fit["standard_errors"][name]
            error = (fitted - value) / value
            recovered &= abs(error) <= RECOVERY_TOLERANCE and fit["converged"]
            print(f"{model + '.' + name:<18}{value:>9.3f}{fitted:>11.4f}{se:>10.4f}{error:>+9.1%}")
        for warning in fit["warnings"]:
            print(f"  warning: {warning}")
    spend = figures["fits"]["gamma_gamma"]["parameters"]
    print(
        f"mean spend p*gamma/(q-1):  true {TRUE_GAMMA_GAMMA['p'] * TRUE_GAMMA_GAMMA['gamma'] / (TRUE_GAMMA_GAMMA['q'] - 1):.2f}"
        f", fitted {spend['p'] * spend['gamma'] / (spend['q'] - 1):.2f}"
    )
    print(
        f"parameters recovered:      {'yes' if recovered else 'no'} (each within {RECOVERY_TOLERANCE:.0%}, fits converged)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
