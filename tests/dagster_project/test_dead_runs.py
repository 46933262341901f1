"""A run left STARTED by a process that is gone is marked failed; a live one is left alone."""

from __future__ import annotations

import os
import socket
import subprocess
import sys

from dagster import DagsterEvent, DagsterEventType, DagsterInstance, DagsterRunStatus, job, op

from dagster_project.dead_runs import HOST_TAG, PID_TAG, fail_dead_runs, process_alive


@op
def _noop() -> None:
    return None


@job
def _some_job() -> None:
    _noop()


def _started_run(instance: DagsterInstance, pid: int, host: str | None = None) -> str:
    run = instance.create_run_for_job(
        _some_job, tags={PID_TAG: str(pid), HOST_TAG: host or socket.gethostname()}
    )
    # Mark it STARTED as a run worker would.
    start = DagsterEvent(event_type_value=DagsterEventType.PIPELINE_START.value, job_name="_some_job")
    instance.run_storage.handle_run_event(run.run_id, start)
    return run.run_id


def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_a_dead_process_run_is_failed_and_a_live_one_kept() -> None:
    with DagsterInstance.ephemeral() as instance:
        dead = _started_run(instance, _dead_pid())
        live = _started_run(instance, os.getppid())  # the process that started pytest is alive
        other_host = _started_run(instance, _dead_pid(), host="another-machine")
        assert instance.get_run_by_id(dead).status == DagsterRunStatus.STARTED

        assert fail_dead_runs(instance) == [dead]

        assert instance.get_run_by_id(dead).status == DagsterRunStatus.FAILURE
        assert instance.get_run_by_id(live).status == DagsterRunStatus.STARTED
        assert instance.get_run_by_id(other_host).status == DagsterRunStatus.STARTED
        assert fail_dead_runs(instance) == []


def test_process_alive() -> None:
    assert process_alive(os.getpid())
    assert not process_alive(_dead_pid())
