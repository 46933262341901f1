"""The overhead benchmark (scripts/bench_overhead.py) still runs: at a tiny scale, in its own process as a person would
run it, printing its figures. The figures themselves are not asserted (they measure the machine); what is
asserted is what the benchmark promises besides its timings: its second run finds nothing to do."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers.bench_scripts import figure, number, run_script

pytestmark = pytest.mark.e2e


def test_bench_overhead_tiny(tmp_path: Path) -> None:
    output = run_script("bench_overhead.py", "--people", "120", "--keep", str(tmp_path / "data"), cwd=tmp_path)
    assert figure(output, "nothing-to-do detected:") == "yes"
    for label in ("full run (repurchase demo):", "run with no new export:", "floor (repurchase --help):"):
        assert number(figure(output, label)) > 0
