"""The overhead benchmark (scripts/bench_overhead.py) still runs, in its own process as a person would run
it, printing its figures: on a copy of the session's demo, which was built the way ``repurchase demo``
builds it (tests/helpers/refreshed_demo.py), so its last good run is recorded. The figures themselves are
not asserted (they measure the machine); what is asserted is what the benchmark promises besides its
timings: the run with nothing new finds nothing to do."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers.bench_scripts import figure, number, run_script
from tests.helpers.refreshed_demo import RefreshedDemo, copy_data_dir

pytestmark = pytest.mark.e2e


def test_bench_overhead_on_the_demo(refreshed_demo: RefreshedDemo, tmp_path: Path) -> None:
    paths = copy_data_dir(refreshed_demo, tmp_path / "data")
    output = run_script("bench_overhead.py", "--data-dir", str(paths.root), cwd=tmp_path)
    assert figure(output, "nothing-to-do detected:") == "yes"
    assert figure(output, "full run (repurchase demo):") == "not run (an existing data directory)"
    for label in ("run with no new export:", "floor (repurchase --help):"):
        assert number(figure(output, label)) > 0
