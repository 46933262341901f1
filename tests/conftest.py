"""Shared fixtures: a throw-away data directory the whole process (and dbt) points at."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.paths import DATA_DIR_ENV, DataPaths, data_paths


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
    """A manifest parsed from the dbt project as it is now (once per session), so the Dagster definitions
    imported after it see every model. Import ``dagster_project.definitions`` inside tests using this."""
    from transform.dbt import prepare_dbt_manifest

    return prepare_dbt_manifest(force=True)
