"""The proof of the Spark port: the session's refreshed demo (200 people, built on DuckDB by ``refresh_all``)
is built again from the same raw tables on a local Spark session (``dbt run --target spark``), and the marts
the issue names equal DuckDB's row for row (floats to a relative 1e-6), as do the identity clusters and
the customer ids (SQL label propagation on Spark, scipy on DuckDB).

The DuckDB side is the pipeline's own build; the raw tables Spark reads are the warehouse's, exported the
way ``REPURCHASE_ENGINE=spark`` does (transform/spark.py). After dbt, the pipeline's trigger export adds
rows to ``raw._touch_send_log``; only ``activation_triggers`` reads them, which is not compared here.
Spark builds the compared tables and the models they read (``PROOF_SELECTION``), not the whole project.

Without a Java runtime (17 or later) the tests skip and say why, unless ``$REPURCHASE_REQUIRE_SPARK`` is
set: then they fail, so a CI run (``.ci/run`` sets it) cannot pass on a proof that never ran.
"""

from __future__ import annotations

import duckdb
import pandas as pd
import pytest

from tests.helpers.refreshed_demo import copy_data_dir
from transform.dbt import run_dbt
from transform.spark import (
    SMALL_BUILD_ENV,
    export_raw_tables,
    register_raw_tables,
    spark_env,
)
from transform.spark_compare import (
    MARTS_COMPARED,
    PROOF_SELECTION,
    compare_marts,
    read_spark_table,
    table_differences,
)

pytestmark = [pytest.mark.e2e, pytest.mark.spark]


@pytest.fixture(scope="module")
def spark_build(spark_can_start, refreshed_demo, tmp_path_factory: pytest.TempPathFactory):
    """(DuckDB warehouse of the demo, data paths of the Spark build) after ``dbt run --target spark``."""
    paths = copy_data_dir(refreshed_demo, tmp_path_factory.mktemp("spark_demo") / "data")
    exported = export_raw_tables(paths)
    env = {**spark_env(paths, exported), **SMALL_BUILD_ENV}
    register_raw_tables(paths, env, paths.root / "dbt_target")
    built = run_dbt(["run", "--select", PROOF_SELECTION, "--target", "spark"], data_dir=paths.root,
                    target_path=paths.root / "dbt_target", env=env, check=False)
    assert built.success, "dbt run --target spark failed:\n" + ("\n".join(built.failures()) or built.output[-4000:])
    return refreshed_demo.paths.warehouse, paths


def test_marts_equal_duckdb_row_for_row(spark_build) -> None:
    warehouse, paths = spark_build
    differences = compare_marts(warehouse, paths, MARTS_COMPARED)
    assert not any(differences.values()), "\n".join(
        f"{table}: {'; '.join(found)}" for table, found in differences.items() if found
    )
    with duckdb.connect(str(warehouse), read_only=True) as con:
        counts = {t: con.execute(f"select count(*) from marts.{t}").fetchone()[0] for t in MARTS_COMPARED}
    # Equal because both hold rows: the demo has orders, customers, KPI months and an A/B test.
    assert min(counts.values()) > 0, counts


def test_identity_clusters_and_customer_ids_equal_duckdb(spark_build) -> None:
    warehouse, paths = spark_build
    with duckdb.connect(str(warehouse), read_only=True) as con:
        duckdb_map = con.execute(
            "select identifier_key, customer_id from intermediate.customer_identifier_map"
        ).df()
        duckdb_components = con.execute(
            "select nodes.identifier_key, components.component_id "
            "from intermediate.int_identity_components as components "
            "inner join intermediate.int_identity_nodes as nodes using (identifier_id)"
        ).df()
    spark_map = read_spark_table(paths, "intermediate", "customer_identifier_map")[["identifier_key", "customer_id"]]
    assert table_differences(duckdb_map, spark_map) == []

    # The same clusters: component ids are the smallest identifier id of the cluster in both engines (the
    # same 64-bit md5 ids), so the partitions of identifier keys are equal.
    spark_components = read_spark_table(paths, "intermediate", "int_identity_components_sql")
    spark_nodes = read_spark_table(paths, "intermediate", "int_identity_nodes")[["identifier_id", "identifier_key"]]
    spark_components = spark_components.merge(spark_nodes, on="identifier_id")[["identifier_key", "component_id"]]
    assert table_differences(duckdb_components, spark_components) == []
    clusters = duckdb_components.groupby("component_id")["identifier_key"].size()
    assert (clusters > 1).any(), "the demo has no cluster with two identifiers: nothing was linked"


def test_identity_key_ids_equal_duckdb(spark_build) -> None:
    # identity_key_id on Spark (hex of md5's first 8 bytes read little-endian) equals DuckDB's md5_number bits.
    warehouse, paths = spark_build
    with duckdb.connect(str(warehouse), read_only=True) as con:
        duckdb_nodes = con.execute("select identifier_key, identifier_id from intermediate.int_identity_nodes").df()
        expected = con.execute(
            "select cast(md5_number('jd:1') & cast(18446744073709551615 as uhugeint) as ubigint)"
        ).fetchone()[0]
    assert expected == 0x877C32E598E310E1  # md5('jd:1') = e110e398e5327c87…, read little-endian
    spark_nodes = read_spark_table(paths, "intermediate", "int_identity_nodes")[["identifier_key", "identifier_id"]]
    merged = duckdb_nodes.merge(spark_nodes, on="identifier_key", suffixes=("_duckdb", "_spark"))
    assert len(merged) == len(duckdb_nodes) > 0
    assert (merged["identifier_id_duckdb"].map(int) == merged["identifier_id_spark"].map(int)).all()


def test_ab_statistics_equal_scipy_to_six_digits(spark_build) -> None:
    warehouse, paths = spark_build
    with duckdb.connect(str(warehouse), read_only=True) as con:
        duckdb_rows = con.execute("select * from marts.ab_test_results order by campaign_id, variant").df()
    spark_rows = read_spark_table(paths, "marts", "ab_test_results").sort_values(["campaign_id", "variant"])
    spark_rows = spark_rows.reset_index(drop=True)
    assert len(duckdb_rows) == len(spark_rows) > 0
    for column in ("z_score", "p_value", "uplift_ci_low", "uplift_ci_high", "srm_p_value"):
        left = pd.to_numeric(duckdb_rows[column]).astype(float)
        right = pd.to_numeric(spark_rows[column]).astype(float)
        assert left.isna().equals(right.isna()), column
        both = left.notna()
        assert ((left[both] - right[both]).abs() <= 1e-6 * left[both].abs().clip(lower=1e-300)).all(), (
            column, list(zip(left[both], right[both], strict=True))
        )
    assert (duckdb_rows["p_value_test"].fillna("") == spark_rows["p_value_test"].fillna("")).all()
