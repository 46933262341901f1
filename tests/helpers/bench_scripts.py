"""Run a benchmark script of scripts/ the way a person would (its own process, from a working directory)
and read the figures it prints: the tests in tests/scripts/ run each benchmark at a tiny scale."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from core.paths import REPO_ROOT

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
