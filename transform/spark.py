"""The Spark engine: the same dbt project built on Apache Spark instead of DuckDB (README "Scaling out").

``REPURCHASE_ENGINE=spark`` selects it (default ``duckdb``). Ingestion and the raw gates stay as they are
(the loader writes ``raw.*`` in the DuckDB warehouse); before dbt runs, :func:`export_raw_tables` writes
every raw table (and ``restricted.hash_key``, which the keyed hashes read) as Parquet under
``<data dir>/spark/raw/<schema>/<table>/``, where :func:`register_raw_tables` (``dbt run-operation
spark_register_raw_tables``, told the tables by :func:`spark_env`) registers them as Spark tables of the same names, so the staging models'
``source('raw', ...)`` read them unchanged. The Spark session's warehouse and its Hive metastore live in
``<data dir>/spark/`` too (``dbt/profiles.yml``, target ``spark``). On a cluster the same layout is an
object-store prefix (``REPURCHASE_SPARK_DIR``) and the thrift/Databricks target of ``profiles.yml``.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Mapping
from pathlib import Path

import duckdb

from core.paths import DataPaths
from core.secrets import install_hash_key_in

ENGINE_ENV = "REPURCHASE_ENGINE"
ENGINES = ("duckdb", "spark")
# dbt's profile reads the Spark folder from here (warehouse, metastore, raw Parquet).
SPARK_DIR_ENV = "REPURCHASE_SPARK_DIR"
# The dbt target of each engine (dbt/profiles.yml).
TARGETS = {"duckdb": "duckdb", "spark": "spark"}
# Besides every table of schema raw: the keyed hash's pads (macro pii_hash reads them).
EXTRA_TABLES = (("restricted", "hash_key"),)


class EngineError(ValueError):
    """``REPURCHASE_ENGINE`` names no engine this project builds on."""


def engine() -> str:
    """The engine dbt builds on: ``$REPURCHASE_ENGINE`` (``duckdb`` or ``spark``), default ``duckdb``."""
    name = (os.environ.get(ENGINE_ENV) or "duckdb").strip().lower()
    if name not in ENGINES:
        raise EngineError(f"{ENGINE_ENV}={name!r}: expected one of {', '.join(ENGINES)}")
    return name


def spark_dir(paths: DataPaths) -> Path:
    """The Spark folder: ``$REPURCHASE_SPARK_DIR`` when set, else ``<data dir>/spark``."""
    configured = os.environ.get(SPARK_DIR_ENV)
    return Path(configured).expanduser().resolve() if configured else paths.root / "spark"


def raw_table_dir(paths: DataPaths, schema: str, table: str) -> Path:
    return spark_dir(paths) / "raw" / schema / table


# The tables register_raw_tables registers (macro spark_register_raw_tables), as schema.table,...
RAW_TABLES_ENV = "REPURCHASE_SPARK_RAW_TABLES"


# A build on a local session (make spark-check, the tests, REPURCHASE_ENGINE=spark on one machine): one
# shuffle partition, no adaptive re-planning, no whole-stage code generation, the JVM's quick compiler
# only. On demo-sized data each query then costs less CPU than planning and compiling it would
# (DECISIONLOG "The same project on Spark" has the figures).
SMALL_BUILD_ENV = {
    "REPURCHASE_SPARK_SHUFFLE_PARTITIONS": "1",
    "REPURCHASE_SPARK_ADAPTIVE": "false",
    "REPURCHASE_SPARK_CODEGEN": "false",
    "REPURCHASE_SPARK_JAVA_OPTIONS": "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC",
}
# dbt/profiles.yml's master of the spark target, default a local session.
SPARK_MASTER_ENV = "REPURCHASE_SPARK_MASTER"
# pyspark 4 runs on Java 17 or later.
JAVA_MIN_VERSION = 17


def local_session_env(environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """The settings of :data:`SMALL_BUILD_ENV` for a build on a local session (``$REPURCHASE_SPARK_MASTER``
    unset or ``local[...]``), each unless ``environ`` (default this process's) sets it; nothing for a
    cluster, whose defaults are Spark's."""
    environ = os.environ if environ is None else environ
    if not (environ.get(SPARK_MASTER_ENV) or "local").startswith("local"):
        return {}
    return {name: value for name, value in SMALL_BUILD_ENV.items() if name not in environ}


def java_problem() -> str | None:
    """Why a local Spark session cannot start on this machine (no Java runtime, or one older than
    :data:`JAVA_MIN_VERSION`), or None when it can. The runtime is the one pyspark starts:
    ``$JAVA_HOME/bin/java`` when JAVA_HOME is set, else ``java`` on the PATH."""
    java_home = os.environ.get("JAVA_HOME")
    java = str(Path(java_home) / "bin" / "java") if java_home else shutil.which("java")
    if not java or not Path(java).is_file():
        where = f"JAVA_HOME={java_home} has no bin/java" if java_home else "no java on the PATH"
        return f"no Java runtime ({where}): install openjdk-{JAVA_MIN_VERSION}-jre-headless"
    try:
        completed = subprocess.run([java, "-version"], capture_output=True, text=True, timeout=60, check=False)
    except (OSError, subprocess.TimeoutExpired) as error:
        return f"{java} -version failed: {error}"
    found = re.search(r'version "(\d+)(?:\.(\d+))?', completed.stderr + completed.stdout)
    if completed.returncode != 0 or found is None:
        return f"{java} -version exited {completed.returncode}: {(completed.stderr or completed.stdout).strip()[:200]}"
    major = int(found[2]) if found[1] == "1" and found[2] else int(found[1])  # "1.8.0" is Java 8
    if major < JAVA_MIN_VERSION:
        return f"{java} is Java {major}: pyspark 4 needs Java {JAVA_MIN_VERSION} or later"
    return None


def spark_env(paths: DataPaths, tables: list[tuple[str, str]]) -> dict[str, str]:
    """What a dbt process on the Spark target needs in its environment: the Spark folder and the raw
    tables exported there."""
    return {SPARK_DIR_ENV: str(spark_dir(paths)), RAW_TABLES_ENV: ",".join(f"{s}.{t}" for s, t in tables)}


def raw_tables(con: duckdb.DuckDBPyConnection) -> list[tuple[str, str]]:
    """(schema, table) of every table Spark must read: schema raw, and the extra tables that exist."""
    listed = con.execute(
        "select table_schema, table_name from information_schema.tables "
        "where table_type = 'BASE TABLE' and table_schema in ('raw', 'restricted') "
        "order by table_schema, table_name"
    ).fetchall()
    return [(schema, table) for schema, table in listed if schema == "raw" or (schema, table) in EXTRA_TABLES]


def export_raw_tables(paths: DataPaths) -> list[tuple[str, str]]:
    """Write each raw table of the DuckDB warehouse as one Parquet file in its own folder (replacing the
    previous export), and return the (schema, table) pairs written. The deployment's hash key is put in
    place first (as before every DuckDB build), so Spark hashes with the same key."""
    install_hash_key_in(paths)
    con = duckdb.connect(str(paths.warehouse), read_only=True)
    try:
        written = raw_tables(con)
        for schema, table in written:
            folder = raw_table_dir(paths, schema, table)
            if folder.exists():
                shutil.rmtree(folder)
            folder.mkdir(parents=True)
            con.table(f'"{schema}"."{table}"').write_parquet(str(folder / "part-00000.parquet"))
    finally:
        con.close()
    return written


def register_raw_tables(paths: DataPaths, env: dict[str, str], target_path: Path) -> None:
    """Register the exported raw tables in the Spark catalog (``dbt run-operation
    spark_register_raw_tables``): run before every build on the spark target. ``env`` is
    :func:`spark_env`'s (plus any session settings); raises ``DbtCommandError`` when dbt fails."""
    from transform.dbt import run_dbt

    run_dbt(["run-operation", "spark_register_raw_tables", "--target", TARGETS["spark"]],
            data_dir=paths.root, target_path=target_path, env=env)


def spark_table_dir(paths: DataPaths, schema: str, table: str) -> Path:
    """Where the local Spark session keeps a managed table (its warehouse folder, one folder a schema)."""
    return spark_dir(paths) / "warehouse" / f"{schema}.db" / table


def built_tables(manifest: dict, schemas: tuple[str, ...] = ("intermediate", "marts", "restricted")) -> list[tuple[str, str]]:
    """(schema, table) of every enabled model materialised as a table in ``schemas``."""
    return sorted(
        (node["schema"], node["alias"] or node["name"])
        for node in manifest["nodes"].values()
        if node["resource_type"] == "model"
        and node["config"].get("enabled", True)
        and node["config"].get("materialized") in ("table", "incremental")
        and node["schema"] in schemas
    )


# The SQL twin of a Python model is named <model>_sql (dbt/macros/portable_sql.sql, engine_model).
TWIN_SUFFIX = "_sql"


def twin_aware_manifest(manifest: Mapping) -> dict:
    """``manifest`` (parsed for DuckDB, as the Dagster assets are) with each Python model also known under
    the unique id of its SQL twin: a Spark build runs the twin instead (the Python model is disabled
    there), and its events then count as the Python model's, whose table the twin builds."""
    nodes = dict(manifest["nodes"])
    for unique_id, node in manifest["nodes"].items():
        if node.get("resource_type") == "model" and node.get("language") == "python":
            nodes[unique_id + TWIN_SUFFIX] = node
    return {**manifest, "nodes": nodes}


def copy_tables_to_duckdb(paths: DataPaths, tables: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """Replace each (schema, table) of the DuckDB warehouse with the table the Spark build wrote (its
    Parquet files), so the steps after dbt (predictive CLV, activation exports, the serving copy, the run
    summary) read Spark's results unchanged. Returns the tables copied (a table Spark did not write is
    left out)."""
    copied = []
    con = duckdb.connect(str(paths.warehouse))
    try:
        for schema, table in tables:
            folder = spark_table_dir(paths, schema, table)
            if not any(folder.glob("*.parquet")):
                continue
            con.execute(f'create schema if not exists "{schema}"')
            con.execute(f'drop table if exists "{schema}"."{table}"')
            con.execute(
                f'create table "{schema}"."{table}" as select * from read_parquet(?)',
                [str(folder / "*.parquet")],
            )
            copied.append((schema, table))
    finally:
        con.close()
    return copied
