"""The benchmarks in scripts/ still run: each at a tiny scale, in its own process as a person would run it,
printing its figures. (The figures themselves are not asserted: they measure the machine.)

What is asserted is what each benchmark promises besides its timings: the ingest benchmark loads every
line but the ones it destroyed on purpose, the identity benchmark's re-run on the same data changes no
customer id, the daily benchmark loads a day's files and completes both days, the overhead benchmark's
second run finds nothing to do.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from core.paths import REPO_ROOT

pytestmark = pytest.mark.e2e

SCRIPTS = REPO_ROOT / "scripts"


def run_script(name: str, *args: str, cwd: Path) -> str:
    """``python scripts/<name> <args>`` from ``cwd``; asserts exit 0 and returns what it printed."""
    completed = subprocess.run(
        [sys.executable, str(SCRIPTS / name), *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
    )
    assert completed.returncode == 0, f"{name} exited {completed.returncode}:\n{completed.stdout[-3000:]}\n" \
        f"{completed.stderr[-6000:]}"
    return completed.stdout


def figure(output: str, label: str) -> str:
    """The value printed after ``label`` (first match)."""
    found = re.search(rf"^{re.escape(label)}\s*(.+)$", output, flags=re.MULTILINE)
    assert found, f"{label!r} not printed:\n{output}"
    return found.group(1).strip()


def number(text: str) -> float:
    return float(text.split()[0].replace(",", ""))


def test_bench_ingest_tiny(tmp_path: Path) -> None:
    output = run_script("bench_ingest.py", "--rows", "3000", "--keep", str(tmp_path / "data"), cwd=tmp_path)
    rows_in = number(figure(output, "rows in file:"))
    loaded = number(figure(output, "rows loaded:"))
    quarantined = number(figure(output, "rows quarantined:"))
    assert rows_in == 3000
    assert loaded + quarantined == rows_in and 0 < quarantined < 0.01 * rows_in
    assert number(figure(output, "rows/s:")) > 0
    assert number(figure(output, "peak RSS (child):")) > 0


def test_bench_identity_tiny(tmp_path: Path) -> None:
    output = run_script(
        "bench_identity.py", "--people", "2000", "--scale", "0.002", "--keep", str(tmp_path / "bench"),
        "--export-peer", str(tmp_path / "peer"), cwd=tmp_path,
    )
    assert output.count("identity models total") == 2  # the first run and the re-run
    for model in ("int_identifier_candidates", "int_identity_components", "customer_identifier_map",
                  "fct_orders", "dim_customers"):  # fmt: skip
        # seconds, CPU seconds, peak RSS
        assert re.search(rf"^{model}\s+\d+\.\d+\s+\d+\.\d+\s+\d+\.\d+ GB$", output, flags=re.MULTILINE), model
    assert number(figure(output, "customers")) > 0
    assert number(figure(output, "hubs")) > 0  # the store phones typed for walk-ins
    assert number(figure(output, "map rows changed by re-run")) == 0
    # the peer's input: one row per record the project resolved, its identifiers in one column per type;
    # read back here and compared with the warehouse the bench kept
    con = duckdb.connect(str(tmp_path / "bench" / "data" / "warehouse.duckdb"), read_only=True)
    try:
        resolved = dict(con.sql(
            "select record_key, customer_id from intermediate.int_record_identity where identity_status = 'resolved'"
        ).fetchall())
        exported = con.sql(f"select * from read_parquet('{tmp_path / 'peer' / 'records.parquet'}')").fetchall()
        columns = con.sql(f"describe select * from read_parquet('{tmp_path / 'peer' / 'records.parquet'}')").fetchall()
    finally:
        con.close()
    assert [c[0] for c in columns] == ["record_key", "loaded_at", "phone", "member_card", "tmall_nick",
                                       "tmall_oaid", "jd_account", "openid", "unionid", "email"]  # fmt: skip
    assert sorted(row[0] for row in exported) == sorted(resolved)
    assert all(any(value is not None for value in row[2:]) for row in exported)
    assert number(figure(output, "resolved records")) == len(resolved)
    assert "peer reference (issue #17, not run here): 21.8 s" in output


def test_bench_daily_tiny(tmp_path: Path) -> None:
    output = run_script(
        "bench_daily.py", "--people", "2000", "--select", "+customer_lifecycle", "--top", "5",
        "--keep", str(tmp_path / "bench"), cwd=tmp_path,
    )
    # the day's files of the order channels (those with orders that day) were held back, then loaded on
    # day 2, one day later
    held = figure(output, "held back:").split(", ")
    assert {name.split("_")[0] for name in held} <= {"jd", "pos", "tmall", "wechatpay"}, held
    assert {name.split("_")[0] for name in held} >= {"pos", "tmall"}, held  # the busiest channels
    assert all(name.endswith("_2026-10-31.csv") for name in held), held
    assert re.search(r"^day 1: as_of 2026-10-30, .*dbt build \d+\.\d s$", output, flags=re.MULTILINE), output
    day_2 = re.search(r"^day 2: as_of 2026-10-31, load \S+ s \(([\d,]+) rows, .*dbt build \d+\.\d s", output,
                      flags=re.MULTILINE)  # fmt: skip
    assert day_2 and number(day_2.group(1)) > 0, output
    assert number(figure(output, "peak RSS of the full build's dbt process:")) > 0
    # --top 5: the slowest models and the slowest tests of day 2, each with both days' seconds
    for kind in ("model", "test"):
        listed = output.split(f"\n{kind} ")[1].split("\n\n")[0].splitlines()[1:]
        assert len(listed) == 5, (kind, output)
        assert all(re.fullmatch(r"\S+\s+\d+\.\d\d\s+\d+\.\d\d", row) for row in listed), listed
    assert re.search(r"^models total: day 1 \d+\.\d s, day 2 \d+\.\d s$", output, flags=re.MULTILINE), output
    assert re.search(r"^tests total: day 1 \d+\.\d s, day 2 \d+\.\d s$", output, flags=re.MULTILINE), output


def test_bench_clv_tiny(tmp_path: Path) -> None:
    output = run_script("bench_clv.py", "--customers", "3000", cwd=tmp_path)
    assert number(figure(output, "customers:")) == 3000
    for step in ("summary:", "fit bgnbd:", "fit gamma_gamma:", "score:", "fit and score total:"):
        assert number(figure(output, step)) >= 0, step
    assert number(figure(output, "peak RSS (child):")) > 0
    # Every parameter printed beside its true value; simulated from the model, the fit recovers them.
    for parameter in ("bgnbd.r", "bgnbd.alpha", "bgnbd.a", "bgnbd.b", "gamma_gamma.p", "gamma_gamma.q",
                      "gamma_gamma.gamma"):  # fmt: skip
        assert re.search(rf"^{re.escape(parameter)}\s+[\d.]+\s+[\d.]+\s+[\d.]+\s+[+-][\d.]+%$", output,
                         flags=re.MULTILINE), parameter  # fmt: skip
    assert figure(output, "parameters recovered:").startswith("yes")


def test_bench_overhead_tiny(tmp_path: Path) -> None:
    output = run_script("bench_overhead.py", "--people", "120", "--keep", str(tmp_path / "data"), cwd=tmp_path)
    assert figure(output, "nothing-to-do detected:") == "yes"
    for label in ("full run (repurchase demo):", "run with no new export:", "floor (repurchase --help):"):
        assert number(figure(output, label)) > 0
