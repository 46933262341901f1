"""The ingest benchmark (scripts/bench_ingest.py) still runs: at a tiny scale, in its own process as a person would
run it, printing its figures. The figures themselves are not asserted (they measure the machine); what is
asserted is what the benchmark promises besides its timings: it loads every line but the ones it destroyed on purpose."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers.bench_scripts import figure, number, run_script

pytestmark = pytest.mark.e2e


def test_bench_ingest_tiny(tmp_path: Path) -> None:
    output = run_script("bench_ingest.py", "--rows", "3000", "--keep", str(tmp_path / "data"), cwd=tmp_path)
    rows_in = number(figure(output, "rows in file:"))
    loaded = number(figure(output, "rows loaded:"))
    quarantined = number(figure(output, "rows quarantined:"))
    assert rows_in == 3000
    assert loaded + quarantined == rows_in and 0 < quarantined < 0.01 * rows_in
    assert number(figure(output, "rows/s:")) > 0
    assert number(figure(output, "peak RSS (child):")) > 0
