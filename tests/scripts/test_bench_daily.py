"""The daily benchmark (scripts/bench_daily.py) still runs: at a tiny scale, in its own process as a person would
run it, printing its figures. The figures themselves are not asserted (they measure the machine); what is
asserted is what the benchmark promises besides its timings: it loads a day's files and completes both days."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.helpers.bench_scripts import figure, number, run_script

pytestmark = pytest.mark.e2e


def test_bench_daily_tiny(tmp_path: Path) -> None:
    output = run_script(
        "bench_daily.py", "--people", "2000", "--select", "+customer_lifecycle", "--top", "5", "--repeat", "2", "--statements", "3",
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
    assert output.count("median of 2 runs") == 2, output  # the day-2 line and the CPU line
    # --repeat 2: each day-2 run starts from day 1's warehouse, so both load the day's rows again
    reruns = re.findall(r"^day 2 run (\d) of 2: load \S+ s \(([\d,]+) rows\), dbt build \d+\.\d s, CPU \d+\.\d s$",
                        output, flags=re.MULTILINE)  # fmt: skip
    assert [run for run, _ in reruns] == ["1", "2"], output
    assert {number(rows) for _, rows in reruns} == {number(day_2.group(1))}, output
    assert not (tmp_path / "bench" / "warehouse_day_1.duckdb").exists()  # the copy is not left behind
    assert number(figure(output, "peak RSS of the full build's dbt process:")) > 0
    assert re.search(r"^dbt build CPU \(user \+ system\): day 1 \d+\.\d s, day 2 \d+\.\d s \(\d+% of day 1\), median of 2 runs$",
                     output, flags=re.MULTILINE), output  # fmt: skip
    # the floor: day 2's build once more, with nothing new and the same as_of
    assert re.search(r"^nothing new \(day 2's build again, same as_of, no file\): dbt build \d+\.\d s \(\d+% of day 1\), "
                     r"CPU \d+\.\d s \(\d+% of day 1\)$", output, flags=re.MULTILINE), output  # fmt: skip
    # --top 5: the slowest models and the slowest tests of day 2, each with the seconds of the three runs
    for kind in ("model", "test"):
        listed = output.split(f"\n{kind} ")[1].split("\n\n")[0].splitlines()[1:]
        assert len(listed) == 5, (kind, output)
        assert all(re.fullmatch(r"\S+\s+\d+\.\d\d\s+\d+\.\d\d\s+\d+\.\d\d", row) for row in listed), listed
    assert re.search(r"^models total: day 1 \d+\.\d s, day 2 \d+\.\d s, again \d+\.\d s$", output, flags=re.MULTILINE), output
    assert re.search(r"^tests total: day 1 \d+\.\d s, day 2 \d+\.\d s, again \d+\.\d s$", output, flags=re.MULTILINE), output
    # --statements 3: day 2 once more with dbt's debug log, its 3 slowest statements and SQL seconds per node
    statements = output.split("statements of day 2, built once more with dbt's debug log")[1].splitlines()
    slowest = statements[2:5]
    assert all(re.fullmatch(r"\s*\d+\.\d\d  (model|test)\.\S+\s+\S.*", row) for row in slowest), statements
    seconds = [float(row.split()[0]) for row in slowest]
    assert seconds == sorted(seconds, reverse=True), slowest
    total = re.search(r"^SQL total \d+\.\d s in (\d+) statements of (\d+) nodes$", output, flags=re.MULTILINE)
    assert total and int(total.group(1)) > int(total.group(2)) > 3, output  # every model sends several


def test_bench_daily_from_a_kept_day_1(tmp_path: Path) -> None:
    """--keep-day-1 keeps day 1's warehouse and figures; --from-day-1 runs day 2 from them again: no
    exports written, no day 1 built, the same day's rows loaded, day 1's figures reported as they were."""
    bench = tmp_path / "bench"
    common = ("--people", "2000", "--select", "+int_orders_unioned", "--top", "1", "--keep", str(bench))
    first = run_script("bench_daily.py", *common, "--keep-day-1", cwd=tmp_path)
    assert (bench / "warehouse_day_1.duckdb").is_file() and (bench / "day_1.json").is_file()
    again = run_script("bench_daily.py", *common, "--from-day-1", cwd=tmp_path)
    assert "generated" not in again and "held back:" not in again, again
    assert f"day 1 from {bench / 'warehouse_day_1.duckdb'}" in again, again
    day_1 = r"^day 1: as_of 2026-10-30, load \S+ s \([\d,]+ rows\), dbt build \d+\.\d s$"
    assert re.findall(day_1, first, flags=re.MULTILINE) == re.findall(day_1, again, flags=re.MULTILINE) != []
    rows = r"^day 2: as_of 2026-10-31, load \S+ s \(([\d,]+) rows,"
    assert re.findall(rows, first, flags=re.MULTILINE) == re.findall(rows, again, flags=re.MULTILINE) != []
    assert number(re.findall(rows, again, flags=re.MULTILINE)[0]) > 0
    assert (bench / "warehouse_day_1.duckdb").is_file()  # kept for the next run
