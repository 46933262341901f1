"""Resources: the DuckDB warehouse (and the data directory around it) and the dbt CLI."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager

import duckdb
from dagster import ConfigurableResource, InitResourceContext
from dagster_dbt import DbtCliResource, DbtProject
from pydantic import Field, field_validator

from core.paths import DataPaths, data_paths
from core.secrets import restrict_warehouse
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

    def setup_for_execution(self, context: InitResourceContext) -> None:
        # Every run that may write the warehouse says which process runs it, so a run whose process
        # died (killed, machine restarted) can be told from a live one and marked failed (dead_runs.py).
        if context.instance is not None and context.run is not None:
            from .dead_runs import process_tags

            context.instance.add_run_tags(context.run.run_id, process_tags())

    @contextmanager
    def connect(self, *, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
        """A connection to the warehouse, closed on exit. Only one process may hold a writing one."""
        paths = self.paths
        if not read_only:
            paths.root.mkdir(parents=True, exist_ok=True)
        con = duckdb.connect(str(paths.warehouse), read_only=read_only)
        if not read_only:
            restrict_warehouse(paths)  # it holds restricted.* (personal data): owner-only
        try:
            yield con
        finally:
            con.close()


class RunSettings(ConfigurableResource):
    """What one run is asked to compute, set once per run (CLI flags, or the launchpad's
    ``resources.run_settings.config``) and read by every step that needs it: dbt computes the marts as
    of ``as_of`` (the CLI checks it against the data first). The raw gates judge feeds by when their files
    arrived, so they need no as_of.
    """

    as_of: str | None = Field(
        default=None,
        description="YYYY-MM-DD reference date for every time-relative rule; unset = the latest purchase",
    )
    full_refresh: bool = Field(
        default=False,
        description=(
            "rebuild the incremental models from all history instead of the new day's changes (after a "
            "change of model logic or columns); the identity map and merge history opt out, so customer ids "
            "are never re-minted"
        ),
    )

    @field_validator("as_of")
    @classmethod
    def _iso_date(cls, value: str | None) -> str | None:
        if value is not None:
            dt.date.fromisoformat(value)
        return value

    @property
    def as_of_date(self) -> dt.date | None:
        return dt.date.fromisoformat(self.as_of) if self.as_of else None


def dbt_resource(project: DbtProject) -> DbtCliResource:
    """The dbt CLI over the repository's dbt project, with its in-repo ``profiles.yml``."""
    return DbtCliResource(
        project_dir=project,
        profiles_dir=str(DBT_PROJECT_DIR),
        dbt_executable=dbt_executable(),
        global_config_flags=["--no-use-colors"],
    )
