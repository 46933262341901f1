"""Runs whose process died are marked failed, so the one-at-a-time queue never waits on a ghost.

With ``max_concurrent_runs: 1`` (one DuckDB writer) a run left STARTED by a killed process would block
every queued run forever. Each run tags itself with the pid and host of the process executing it (the
warehouse resource does, when it is set up); :func:`fail_dead_runs` marks failed every STARTED or
STARTING run of this host whose process is gone. The CLI calls it before every run and when the UI
starts; the ``dead_runs`` sensor calls it every minute while the daemon runs.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Callable

from dagster import (
    DagsterInstance,
    DagsterRunStatus,
    DefaultSensorStatus,
    RunsFilter,
    SensorEvaluationContext,
    SkipReason,
    sensor,
)

PID_TAG = "repurchase/pid"
HOST_TAG = "repurchase/host"
ALIVE_STATUSES = [DagsterRunStatus.STARTED, DagsterRunStatus.STARTING, DagsterRunStatus.CANCELING]


def process_tags() -> dict[str, str]:
    return {PID_TAG: str(os.getpid()), HOST_TAG: socket.gethostname()}


def process_alive(pid: int) -> bool:
    """Whether a process with this pid exists (a zombie counts as gone)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as handle:
            return handle.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return True  # no /proc (not Linux): the signal check is all we have


def fail_dead_runs(
    instance: DagsterInstance, *, alive: Callable[[int], bool] = process_alive
) -> list[str]:
    """Mark failed every unfinished run of this host whose process is gone; returns their run ids."""
    host = socket.gethostname()
    failed: list[str] = []
    for run in instance.get_runs(filters=RunsFilter(statuses=ALIVE_STATUSES)):
        pid, run_host = run.tags.get(PID_TAG), run.tags.get(HOST_TAG)
        if not pid or run_host != host or int(pid) == os.getpid() or alive(int(pid)):
            continue
        instance.report_run_failed(
            run,
            message=(
                f"The process running this run (pid {pid} on {host}) is gone (killed or the machine "
                "restarted): marked failed so queued runs can start. Start a new run to refresh."
            ),
        )
        failed.append(run.run_id)
    return failed


@sensor(
    name="dead_runs",
    minimum_interval_seconds=60,
    default_status=DefaultSensorStatus.RUNNING,
    description=(
        "Every minute: a run whose process died (killed, machine restarted) is marked failed, so the "
        "one-at-a-time run queue never waits on it."
    ),
)
def dead_runs_sensor(context: SensorEvaluationContext):
    failed = fail_dead_runs(context.instance)
    return SkipReason(
        f"marked {len(failed)} dead run(s) failed: {', '.join(failed)}" if failed else "no dead run"
    )
