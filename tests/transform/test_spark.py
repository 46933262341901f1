"""transform/spark.py without Spark: the engine switch, the raw export Spark reads, the tables copied back."""

from __future__ import annotations

import stat

import duckdb
import pytest

from core.paths import data_paths
from transform.spark import (
    ENGINE_ENV,
    SMALL_BUILD_ENV,
    EngineError,
    built_tables,
    copy_tables_to_duckdb,
    engine,
    export_raw_tables,
    java_problem,
    local_session_env,
    raw_table_dir,
    spark_env,
    spark_table_dir,
    twin_aware_manifest,
)


def test_engine_defaults_to_duckdb_and_refuses_unknown_names(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(ENGINE_ENV, raising=False)
    assert engine() == "duckdb"
    monkeypatch.setenv(ENGINE_ENV, " Spark ")
    assert engine() == "spark"
    monkeypatch.setenv(ENGINE_ENV, "trino")
    with pytest.raises(EngineError, match="trino"):
        engine()


def test_raw_tables_and_the_hash_key_are_exported_as_parquet(tmp_path) -> None:
    paths = data_paths(tmp_path / "data")
    paths.root.mkdir()
    with duckdb.connect(str(paths.warehouse)) as con:
        con.execute("create schema raw")
        con.execute("create schema restricted")
        con.execute("create schema marts")
        con.execute("create table raw.pos (receipt_no varchar, paid_amount decimal(18, 2), _loaded_at timestamp)")
        con.execute("insert into raw.pos values ('P1', 10.50, '2025-03-01 10:00:00'), ('P2', -2.00, null)")
        con.execute("create table restricted.hash_key (inner_pad blob, outer_pad blob)")
        con.execute("insert into restricted.hash_key values ('\\x01'::blob, '\\x02'::blob)")
        con.execute("create table restricted.customer_pii (phone varchar)")  # never leaves the warehouse
        con.execute("create table marts.fct_orders (order_key varchar)")

    exported = export_raw_tables(paths)

    assert exported == [("raw", "pos"), ("restricted", "hash_key")]
    assert spark_env(paths, exported)["REPURCHASE_SPARK_RAW_TABLES"] == "raw.pos,restricted.hash_key"
    rows = duckdb.execute(
        "select receipt_no, paid_amount, cast(_loaded_at as varchar) from read_parquet(?) order by 1",
        [str(raw_table_dir(paths, "raw", "pos") / "*.parquet")],
    ).fetchall()
    assert [(r[0], float(r[1]), r[2]) for r in rows] == [("P1", 10.5, "2025-03-01 10:00:00"), ("P2", -2.0, None)]
    assert not raw_table_dir(paths, "restricted", "customer_pii").exists()


def test_built_tables_are_the_enabled_table_models_of_the_published_schemas() -> None:
    def node(name, schema, materialized, enabled=True, resource_type="model"):
        return {"name": name, "alias": name, "schema": schema, "resource_type": resource_type,
                "config": {"materialized": materialized, "enabled": enabled}}

    manifest = {"nodes": {
        "a": node("fct_orders", "marts", "incremental"),
        "b": node("kpi_monthly", "marts", "table"),
        "c": node("stg_pos__receipt_lines", "staging", "view"),
        "d": node("int_identifiers", "intermediate", "view"),
        "e": node("customer_pii", "restricted", "table"),
        "f": node("not_null_x", "marts", "test", resource_type="test"),
        "g": node("int_identity_components_sql", "intermediate", "table", enabled=False),
    }}
    assert built_tables(manifest) == [("marts", "fct_orders"), ("marts", "kpi_monthly"), ("restricted", "customer_pii")]


def test_tables_spark_wrote_replace_the_warehouse_tables(tmp_path) -> None:
    paths = data_paths(tmp_path / "data")
    paths.root.mkdir()
    with duckdb.connect(str(paths.warehouse)) as con:
        con.execute("create schema marts")
        con.execute("create table marts.kpi_monthly (period varchar, customers integer)")
        con.execute("insert into marts.kpi_monthly values ('old', 1)")
    folder = spark_table_dir(paths, "marts", "kpi_monthly")
    folder.mkdir(parents=True)
    duckdb.execute(
        f"copy (select * from (values ('2025-03', 7), ('2025-04', 9)) as t(period, customers)) "
        f"to '{folder / 'part-00000.parquet'}' (format parquet)"
    )

    copied = copy_tables_to_duckdb(paths, [("marts", "kpi_monthly"), ("marts", "never_built")])

    assert copied == [("marts", "kpi_monthly")]
    with duckdb.connect(str(paths.warehouse), read_only=True) as con:
        assert con.execute("select * from marts.kpi_monthly order by 1").fetchall() == [("2025-03", 7), ("2025-04", 9)]


def test_a_local_session_gets_the_small_build_settings_the_environment_does_not_set() -> None:
    assert local_session_env({}) == SMALL_BUILD_ENV
    assert local_session_env({"REPURCHASE_SPARK_MASTER": "local[2]", "REPURCHASE_SPARK_CODEGEN": "true"}) == {
        "REPURCHASE_SPARK_SHUFFLE_PARTITIONS": "1",
        "REPURCHASE_SPARK_ADAPTIVE": "false",
        "REPURCHASE_SPARK_JAVA_OPTIONS": "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC",
    }
    assert local_session_env({"REPURCHASE_SPARK_MASTER": "spark://cluster:7077"}) == {}


def fake_java_home(root, version_line: str):
    """A JAVA_HOME whose bin/java prints ``version_line`` to stderr, as ``java -version`` does."""
    java = root / "bin" / "java"
    java.parent.mkdir(parents=True)
    java.write_text(f"#!/bin/sh\necho '{version_line}' >&2\n")
    java.chmod(java.stat().st_mode | stat.S_IEXEC)
    return root


@pytest.mark.parametrize(
    ("version_line", "problem"),
    [
        ('openjdk version "17.0.13" 2024-10-15', None),
        ('openjdk version "21" 2023-09-19', None),
        ('openjdk version "11.0.25" 2024-10-15', "is Java 11: pyspark 4 needs Java 17 or later"),
        ('java version "1.8.0_421"', "is Java 8: pyspark 4 needs Java 17 or later"),
    ],
)
def test_java_problem_reads_the_version_of_java_home(tmp_path, monkeypatch, version_line, problem) -> None:
    monkeypatch.setenv("JAVA_HOME", str(fake_java_home(tmp_path / "jdk", version_line)))
    found = java_problem()
    assert found == problem if problem is None else problem in found


def test_java_problem_names_a_java_home_without_java(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("JAVA_HOME", str(tmp_path))
    assert f"JAVA_HOME={tmp_path} has no bin/java" in java_problem()


def test_a_spark_twin_counts_as_its_python_model() -> None:
    python_model = {"name": "int_identity_components", "resource_type": "model", "language": "python"}
    sql_model = {"name": "fct_orders", "resource_type": "model", "language": "sql"}
    manifest = {"nodes": {"model.p.int_identity_components": python_model, "model.p.fct_orders": sql_model},
                "sources": {}}

    seen = twin_aware_manifest(manifest)

    assert seen["nodes"]["model.p.int_identity_components_sql"] is python_model
    assert "model.p.fct_orders_sql" not in seen["nodes"]
    assert seen["sources"] == {} and len(manifest["nodes"]) == 2
