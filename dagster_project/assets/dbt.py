"""The dbt project as Dagster assets; dbt tests become asset checks.

dbt sources ``raw.<table>`` map to the ingestion assets' keys ``["raw", <table>]``; models get the key
``[<schema>, <model>]`` (``staging``, ``intermediate``, ``marts``…) and the group of their top folder
under ``models/``.
"""

# No `from __future__ import annotations` here: Dagster reads the config class from the annotation.
import datetime as dt
import json
import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from dagster import AssetExecutionContext, AssetKey, Config
from dagster_dbt import DagsterDbtTranslator, DbtCliResource, DbtProject, dbt_assets
from pydantic import field_validator

from ingestion.paths import DATA_DIR_ENV

from ..project import DBT_PROJECT_DIR, dbt_target_path, prepare_dbt_manifest
from ..resources import WarehouseResource

DBT_ASSETS_NAME = "dbt_models"
RAW_SOURCE_NAME = "raw"

dbt_project = DbtProject(
    project_dir=DBT_PROJECT_DIR,
    profiles_dir=DBT_PROJECT_DIR,
    target_path=dbt_target_path(),
)
# Under `dagster dev` re-parse on every load so edited models show up; elsewhere use the manifest the CLI
# (or this import, below) prepared.
dbt_project.prepare_if_dev()
prepare_dbt_manifest()


class RepurchaseDbtTranslator(DagsterDbtTranslator):
    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> AssetKey:
        if (
            dbt_resource_props["resource_type"] == "source"
            and dbt_resource_props["source_name"] == RAW_SOURCE_NAME
        ):
            return AssetKey(["raw", dbt_resource_props["name"]])
        return super().get_asset_key(dbt_resource_props)

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        group = super().get_group_name(dbt_resource_props)
        if group:
            return group
        fqn = dbt_resource_props.get("fqn") or []
        # fqn = [project, <folder under models/>, ..., name]; a model at the top of models/ has no folder.
        return fqn[1] if len(fqn) > 2 else "dbt"


class DbtBuildConfig(Config):
    """Run configuration of the dbt step."""

    as_of: str | None = None  # YYYY-MM-DD reference date for time-relative rules; None = latest order
    # Rebuild the incremental models (facts, order intermediates, lifecycle snapshot) from all history
    # instead of the new day's changes. The identity map and merge history opt out (full_refresh=false):
    # customer ids are never re-minted.
    full_refresh: bool = False

    @field_validator("as_of")
    @classmethod
    def _iso_date(cls, value: str | None) -> str | None:
        if value is not None:
            dt.date.fromisoformat(value)
        return value


# dbt unit tests check model code on hand-written rows: they belong to CI (`dbt test --select
# test_type:unit`), not to every data refresh, where they would take about half of the dbt step.
EXCLUDED_RESOURCE_TYPES = ("unit_test",)


def dbt_build_args(config: DbtBuildConfig) -> list[str]:
    args = ["build"]
    for resource_type in EXCLUDED_RESOURCE_TYPES:
        args += ["--exclude-resource-type", resource_type]
    if config.as_of is not None:
        args += ["--vars", json.dumps({"as_of": config.as_of})]
    if config.full_refresh:
        args.append("--full-refresh")
    return args


@contextmanager
def _data_dir_env(value: str) -> Iterator[None]:
    """Point dbt's profile at the warehouse resource's data directory while dbt is launched."""
    previous = os.environ.get(DATA_DIR_ENV)
    os.environ[DATA_DIR_ENV] = value
    try:
        yield
    finally:
        if previous is None:
            os.environ.pop(DATA_DIR_ENV, None)
        else:
            os.environ[DATA_DIR_ENV] = previous


@dbt_assets(
    manifest=dbt_project.manifest_path,
    project=dbt_project,
    dagster_dbt_translator=RepurchaseDbtTranslator(),
    name=DBT_ASSETS_NAME,
)
def dbt_models(
    context: AssetExecutionContext,
    dbt: DbtCliResource,
    warehouse: WarehouseResource,
    config: DbtBuildConfig,
):
    """``dbt build`` (models, then their data tests) on the selected part of the dbt project."""
    with _data_dir_env(str(warehouse.paths.root)):
        invocation = dbt.cli(dbt_build_args(config), context=context)
    yield from invocation.stream()
