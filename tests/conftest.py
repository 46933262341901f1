"""Shared fixtures: a throw-away data directory the whole process (and dbt) points at.

The session's dbt target folder (manifest, partial-parse state, run results) is a temporary one unless
``$DBT_TARGET_PATH`` is set: a test run never writes into the working tree's ``dbt/target``, so two runs
(or a run and a ``dagster dev``) in the same checkout never overwrite each other's manifest.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest

from core.paths import DATA_DIR_ENV, DataPaths, data_paths

_SESSION_DBT_TARGET: list[str] = []


def pytest_configure(config: pytest.Config) -> None:
    if "DBT_TARGET_PATH" not in os.environ:
        target = tempfile.mkdtemp(prefix="pytest-dbt-target-")
        os.environ["DBT_TARGET_PATH"] = target
        _SESSION_DBT_TARGET.append(target)


def pytest_unconfigure(config: pytest.Config) -> None:
    for target in _SESSION_DBT_TARGET:
        os.environ.pop("DBT_TARGET_PATH", None)
        shutil.rmtree(target, ignore_errors=True)


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> DataPaths:
    """An empty data directory under tmp_path, set as $REPURCHASE_DATA_DIR (and DAGSTER_HOME inside it)."""
    root = tmp_path / "data"
    root.mkdir()
    monkeypatch.setenv(DATA_DIR_ENV, str(root))
    monkeypatch.setenv("DAGSTER_HOME", str(root / "dagster_home"))
    return data_paths()


@pytest.fixture(scope="session")
def dbt_manifest() -> Path:
    """A manifest of the dbt project as it is now (parsed when missing or older than a project file), so
    the Dagster definitions imported after it see every model. Import ``dagster_project.definitions``
    inside tests using this."""
    from transform.dbt import prepare_dbt_manifest

    return prepare_dbt_manifest()


@pytest.fixture(scope="session")
def refreshed_demo(tmp_path_factory: pytest.TempPathFactory, dbt_manifest: Path):
    """The demo (tests/helpers/refreshed_demo.py) after one ``refresh_all`` run, once per session. Read it;
    copy it (``copy_data_dir``) before changing anything."""
    from tests.helpers.refreshed_demo import refresh_demo, shared_refreshed_demo

    if os.environ.get("PYTEST_XDIST_WORKER"):
        # `make test` runs two workers (pytest-xdist): the first to get here builds the demo in their
        # common temporary folder, the other waits for it and reads the same one.
        return shared_refreshed_demo(tmp_path_factory.getbasetemp().parent / "refreshed_demo")
    return refresh_demo(tmp_path_factory.mktemp("refreshed_demo") / "data")
