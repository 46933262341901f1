"""dbt started through ``repurchase-dbt`` stops when the process that started it is killed (SIGKILL
included), so an orphaned dbt never keeps the warehouse's write lock."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time

import pytest

from dagster_project.dead_runs import process_alive

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="prctl is Linux only")

# A parent that starts a child which arms the parent-death signal, as repurchase-dbt does before it
# execs dbt, then prints the child's pid and waits to be killed.
PARENT = textwrap.dedent(
    """
    import subprocess, sys, time
    child = subprocess.Popen([sys.executable, "-c",
        "from transform.dbt_child import stop_with_parent; import time; "
        "assert stop_with_parent(); print('armed', flush=True); time.sleep(600)"],
        stdout=subprocess.PIPE, text=True)
    assert child.stdout.readline().strip() == "armed"
    print(child.pid, flush=True)
    time.sleep(600)
    """
)


def _wait_until(predicate, ceiling: float = 60.0) -> bool:
    deadline = time.monotonic() + ceiling
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return predicate()


def test_the_child_dies_with_its_killed_parent() -> None:
    parent = subprocess.Popen([sys.executable, "-c", PARENT], stdout=subprocess.PIPE, text=True)
    try:
        child_pid = int(parent.stdout.readline())
        assert process_alive(child_pid)
        parent.kill()  # SIGKILL: the parent gets no chance to clean up
        parent.wait()
        assert _wait_until(lambda: not process_alive(child_pid)), "the child outlived its parent"
    finally:
        if parent.poll() is None:
            parent.kill()


def test_repurchase_dbt_runs_the_real_dbt() -> None:
    exe = os.path.join(os.path.dirname(sys.executable), "repurchase-dbt")
    if not os.path.exists(exe):
        pytest.skip("repurchase-dbt is not installed beside this Python (make install)")
    completed = subprocess.run([exe, "--version"], check=False, capture_output=True, text=True, timeout=120)
    assert completed.returncode == 0 and "1.11" in completed.stdout
