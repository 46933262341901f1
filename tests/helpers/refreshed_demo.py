"""One generated demo run through the whole ``refresh_all`` job, shared by the tests that need a fully
refreshed data directory (tests/test_e2e.py checks that run; tests/dagster_project/test_gating.py starts
each defect from it; tests/scripts/test_bench_overhead.py times a run with nothing new on it). Built once
per session by the ``refreshed_demo`` fixture (tests/conftest.py).

It is built the way ``repurchase demo`` builds it: the generator, then the CLI's own ``run_pipeline``
(dagster_project/cli.py), so the run is recorded in the data directory's on-disk Dagster instance and as
the CLI's last good run. This is the suite's run of the README's main command path.

Tests never change ``RefreshedDemo.root``: they :func:`copy_data_dir` it and point $REPURCHASE_DATA_DIR
at the copy.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from dagster import AssetKey, DagsterEventType, DagsterInstance

from core.paths import DATA_DIR_ENV, DataPaths, data_paths
from demo.generator import generate

PEOPLE = 200
SEED = 42
NO_TELEMETRY = {"telemetry": {"enabled": False}}


@dataclass
class RefreshedDemo:
    root: Path  # the data directory: read it, or copy it before changing anything
    truth: object  # what demo.generator.generate returned (files and rows per source, destroyed ids)
    outcome: object  # dagster_project.runner.RunOutcome of the run
    materialized: set[AssetKey]
    lines: list[str] = field(default_factory=list)  # what the run printed
    serving_version: str | None = None
    serving_versions: list[str] = field(default_factory=list)

    @property
    def paths(self) -> DataPaths:
        return data_paths(self.root)


def ephemeral_instance() -> DagsterInstance:
    """An in-memory Dagster instance (runs, events) for a test's runs."""
    return DagsterInstance.ephemeral(settings=NO_TELEMETRY)


def materialized_in_run(instance: DagsterInstance, run_id: str) -> set[AssetKey]:
    return {
        record.event_log_entry.dagster_event.asset_key
        for record in instance.get_records_for_run(run_id, of_type=DagsterEventType.ASSET_MATERIALIZATION).records
    }


def refresh_demo(root: Path) -> RefreshedDemo:
    """Generate the demo into ``root`` and run it the way ``repurchase demo`` does (``run_pipeline``)."""
    with pytest.MonkeyPatch.context() as mp:
        # run_pipeline points this process at the data directory (prepare_environment): set both here so
        # the monkeypatch puts them back afterwards.
        mp.setenv(DATA_DIR_ENV, str(root))
        mp.setenv("DAGSTER_HOME", str(root / "dagster_home"))
        from dagster_project import cli, runner
        from serving.publish import current_version, list_versions

        truth = generate(root, people=PEOPLE, seed=SEED)
        paths = data_paths(root)
        outcomes: list = []
        lines: list[str] = []
        real_run = runner.run_refresh_all

        def run_and_keep(instance, **kwargs):  # the run's outcome, which the CLI only prints
            outcome = real_run(instance, **kwargs)
            outcomes.append((outcome, materialized_in_run(instance, outcome.run_id)))
            return outcome

        mp.setattr(runner, "run_refresh_all", run_and_keep)
        mp.setattr(cli, "say", lambda message="": lines.append(message))
        cli.run_pipeline(paths, as_of=None)
        if len(outcomes) != 1:  # it stopped before the run (a data-directory or as_of problem)
            raise AssertionError("repurchase demo ran no job:\n" + "\n".join(lines[-40:]))
        [(outcome, materialized)] = outcomes
        return RefreshedDemo(
            root=paths.root,
            truth=truth,
            outcome=outcome,
            materialized=materialized,
            lines=lines,
            serving_version=current_version(paths.serving),
            serving_versions=list_versions(paths.serving),
        )


def shared_refreshed_demo(base: Path) -> RefreshedDemo:
    """The refreshed demo under ``base``, built by the first process to ask (others wait on a lock and
    read what it saved): one build for all the workers of a test session."""
    import fcntl
    import pickle

    base.mkdir(parents=True, exist_ok=True)
    saved = base / "refreshed_demo.pickle"
    with (base / "build.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if saved.exists():
            return pickle.loads(saved.read_bytes())  # written just below by this session's other worker
        demo = refresh_demo(base / "data")
        partial = saved.with_suffix(".partial")
        partial.write_bytes(pickle.dumps(demo))
        partial.replace(saved)
        return demo


def copy_data_dir(demo: RefreshedDemo, root: Path) -> DataPaths:
    """A copy of the refreshed data directory at ``root`` (warehouse, landing, serving, exports...)."""
    shutil.copytree(demo.root, root, symlinks=True)
    return data_paths(root)
