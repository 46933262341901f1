"""The dbt project as Dagster assets; dbt tests become asset checks.

dbt sources ``raw.<table>`` map to the ingestion assets' keys ``["raw", <table>]``; models get the key
``[<schema>, <model>]`` (``staging``, ``intermediate``, ``marts``…) and the group of their top folder
under ``models/``.
"""

# No `from __future__ import annotations` here: Dagster reads the config class from the annotation.
import os
from collections.abc import Mapping
from typing import Any

from dagster import AssetExecutionContext, AssetKey
from dagster_dbt import DagsterDbtTranslator, DbtCliResource, DbtProject, dbt_assets

from core.paths import DATA_DIR_ENV
from core.secrets import install_hash_key_in
from ingestion.set_aside import full_refresh_once
from transform.dbt import (
    DBT_PROJECT_DIR,
    build_args,
    dbt_build_target_path,
    dbt_target_path,
    prepare_dbt_manifest,
    split_as_of,
)
from transform.dbt_child import RESULTS_ONLY_ENV
from transform.spark import (
    TARGETS,
    built_tables,
    copy_tables_to_duckdb,
    engine,
    export_raw_tables,
    local_session_env,
    register_raw_tables,
    spark_env,
    twin_aware_manifest,
)

from ..resources import RunSettings, WarehouseResource

DBT_ASSETS_NAME = "dbt_models"
RAW_SOURCE_NAME = "raw"

dbt_project = DbtProject(
    project_dir=DBT_PROJECT_DIR,
    profiles_dir=DBT_PROJECT_DIR,
    target_path=dbt_target_path(),
)
# The one manifest preparation path: parse when the manifest is missing or older than the dbt project
# (so `dagster dev` picks up edited models on reload), else use it as it is.
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


def dbt_build_args(settings: RunSettings, *, full_refresh: bool = False) -> list[str]:
    return build_args(as_of=settings.as_of, full_refresh=settings.full_refresh or full_refresh)


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
    run_settings: RunSettings,
):
    """``dbt build`` (models, then their data tests) on the selected part of the dbt project."""
    # The keyed-hash key goes into the warehouse itself, never into dbt's variables or logs.
    install_hash_key_in(warehouse.paths)
    # Raw rows were deleted since the last build (`repurchase set-aside`): the incremental models are
    # rebuilt from all history once, whoever started the run (CLI, schedule, sensor, launchpad).
    with full_refresh_once(warehouse.paths) as marker:
        if marker is not None:
            context.log.warning(f"rebuilding the incremental models from all history once: {marker.strip()}")
        yield from _build(context, dbt, warehouse, run_settings, full_refresh=marker is not None)


def _build(context, dbt: DbtCliResource, warehouse: WarehouseResource, run_settings: RunSettings, *,
           full_refresh: bool):
    # dagster-dbt passes this process's environment to dbt: point dbt's profile at the warehouse
    # resource's data directory, and hand it the as_of (transform.dbt.split_as_of), while dbt is launched.
    args, as_of_env = split_as_of(dbt_build_args(run_settings, full_refresh=full_refresh))
    # dagster-dbt streams dbt's events and has the assets' manifest: dbt writes its run results to
    # dbt/target/build but skips serialising the manifest (transform.dbt_child.RESULTS_ONLY_ENV).
    launch_env = {DATA_DIR_ENV: str(warehouse.paths.root), RESULTS_ONLY_ENV: "1", **as_of_env}
    on_spark = engine() == "spark"
    if on_spark:
        # REPURCHASE_ENGINE=spark (README "Scaling out"): the raw tables go where Spark reads them and dbt
        # builds on the spark target.
        exported = export_raw_tables(warehouse.paths)
        context.log.info(f"raw tables exported for Spark: {', '.join(f'{s}.{t}' for s, t in exported)}")
        args = [*args, "--target", TARGETS["spark"]]
        # On a local session the small-build settings (transform/spark.py) unless the environment sets them.
        spark_settings = {**spark_env(warehouse.paths, exported), **local_session_env()}
        launch_env.update(spark_settings)
        register_raw_tables(warehouse.paths, spark_settings, dbt_build_target_path())
    previous = {name: os.environ.get(name) for name in launch_env}
    os.environ.update(launch_env)
    try:
        invocation = dbt.cli(args, context=context, target_path=dbt_build_target_path())
    finally:
        for name, value in previous.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
    if on_spark:
        # Spark runs the SQL twins of the Python models, which the assets' (DuckDB) manifest knows only as
        # the Python models.
        invocation.manifest = twin_aware_manifest(invocation.manifest)
    yield from invocation.stream()  # raises when dbt fails: a full-refresh marker then stays
    if on_spark:
        # The steps after dbt (predictive CLV, exports, serving, the summary) read the DuckDB warehouse.
        copied = copy_tables_to_duckdb(warehouse.paths, built_tables(invocation.manifest))
        context.log.info(f"{len(copied)} tables copied from Spark into the DuckDB warehouse")
