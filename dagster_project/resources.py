"""Resources: the DuckDB warehouse (and the data directory around it) and the dbt CLI."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import duckdb
from dagster import ConfigurableResource
from dagster_dbt import DbtCliResource, DbtProject
from pydantic import Field

from core.paths import DataPaths, data_paths
from transform.dbt import DBT_PROJECT_DIR, dbt_executable


class WarehouseResource(ConfigurableResource):
    """The data directory and its single-writer DuckDB warehouse.

    ``data_dir`` unset means ``$REPURCHASE_DATA_DIR``, else ``./data`` (resolved when used, so a test or
    the CLI can point it elsewhere through the environment).
    """

    data_dir: str | None = Field(
        default=None,
        description="Data directory (landing/, warehouse.duckdb, ...); default $REPURCHASE_DATA_DIR or ./data",
    )

    @property
    def paths(self) -> DataPaths:
        return data_paths(self.data_dir)

    @contextmanager
    def connect(self, *, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
        """A connection to the warehouse, closed on exit. Only one process may hold a writing one."""
        paths = self.paths
        if not read_only:
            paths.root.mkdir(parents=True, exist_ok=True)
        con = duckdb.connect(str(paths.warehouse), read_only=read_only)
        try:
            yield con
        finally:
            con.close()


def dbt_resource(project: DbtProject) -> DbtCliResource:
    """The dbt CLI over the repository's dbt project, with its in-repo ``profiles.yml``."""
    return DbtCliResource(
        project_dir=project,
        profiles_dir=str(DBT_PROJECT_DIR),
        dbt_executable=dbt_executable(),
        global_config_flags=["--no-use-colors"],
    )
