"""The CLV benchmark (scripts/bench_clv.py) still runs: at a tiny scale, in its own process as a person would
run it, printing its figures. The figures themselves are not asserted (they measure the machine); what is
asserted is what the benchmark promises besides its timings: the fits recover the parameters it simulated."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.helpers.bench_scripts import figure, number, run_script

pytestmark = pytest.mark.e2e


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
