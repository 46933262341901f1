"""Where the platform keeps its files.

The data directory is ``./data`` unless ``REPURCHASE_DATA_DIR`` names another. It holds:

- ``landing/<source>/``  files as merchants export them (the only input)
- ``ground_truth/``      the demo generator's truth (beside landing, never inside it)
- ``warehouse.duckdb``   the single-writer warehouse (raw, staging, marts)
- ``dagster_home/``      Dagster's instance storage
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from core.sources import SOURCE_NAMES

DATA_DIR_ENV = "REPURCHASE_DATA_DIR"
# The repository (code: the dbt project, workspace.yaml), whatever the working directory.
REPO_ROOT = Path(__file__).resolve().parent.parent

# The landing sources (= raw tables), in the registry's order (core/sources.py).
SOURCES: tuple[str, ...] = SOURCE_NAMES


@dataclass(frozen=True)
class DataPaths:
    root: Path

    @property
    def landing(self) -> Path:
        return self.root / "landing"

    def landing_for(self, source: str) -> Path:
        return self.landing / source

    @property
    def ground_truth(self) -> Path:
        return self.root / "ground_truth"

    @property
    def warehouse(self) -> Path:
        return self.root / "warehouse.duckdb"

    @property
    def dagster_home(self) -> Path:
        return self.root / "dagster_home"

    @property
    def exports(self) -> Path:
        return self.root / "exports"

    @property
    def serving(self) -> Path:
        return self.root / "serving"


def data_paths(root: str | os.PathLike[str] | None = None) -> DataPaths:
    """Resolve the data directory: explicit argument, else $REPURCHASE_DATA_DIR, else ./data."""
    if root is None:
        root = os.environ.get(DATA_DIR_ENV) or "data"
    return DataPaths(Path(root).expanduser().resolve())
