"""transform/spark_compare.py without Spark: Spark's 64-bit ids (decimal(20, 0)) compared exactly."""

from __future__ import annotations

import duckdb
import pandas as pd

from core.paths import data_paths
from transform.spark import spark_table_dir
from transform.spark_compare import read_spark_table, table_differences

# Two ids above 2**63 that one double cannot tell apart (they differ in the lowest bit).
ID = 18446744073709551615
NEIGHBOUR = ID - 1


def test_ids_above_2_to_the_63_are_compared_exactly(tmp_path) -> None:
    paths = data_paths(tmp_path / "data")
    folder = spark_table_dir(paths, "intermediate", "int_identity_nodes")
    folder.mkdir(parents=True)
    duckdb.execute(
        f"copy (select 'jd:1' as identifier_key, cast({ID} as decimal(20, 0)) as identifier_id, "
        f"cast(2.5 as decimal(18, 2)) as amount) to '{folder / 'part-00000.parquet'}' (format parquet)"
    )

    spark_rows = read_spark_table(paths, "intermediate", "int_identity_nodes")

    assert spark_rows["identifier_id"].tolist() == [str(ID)]
    assert spark_rows["amount"].tolist() == [2.5]
    duckdb_rows = pd.DataFrame({"identifier_key": ["jd:1"], "identifier_id": pd.Series([ID], dtype="uint64"),
                                "amount": [2.5]})
    assert table_differences(duckdb_rows, spark_rows) == []
    off_by_one = duckdb_rows.assign(identifier_id=pd.Series([NEIGHBOUR], dtype="uint64"))
    assert table_differences(off_by_one, spark_rows) == [
        f"row 0 column identifier_id: DuckDB '{NEIGHBOUR}', Spark '{ID}'"
    ]


def test_the_build_stamp_is_not_compared() -> None:
    # Each engine stamps the rows it writes with the time its build ran (`_built_at`); the rest must equal.
    duckdb_rows = pd.DataFrame({"order_key": ["a"], "_built_at": ["2026-12-02 12:43:14"], "_built_as_of": ["2026-10-31"]})
    spark_rows = duckdb_rows.assign(_built_at=["2026-12-02 12:43:48"])
    assert table_differences(duckdb_rows, spark_rows) == []
    other_as_of = spark_rows.assign(_built_as_of=["2026-10-30"])
    assert table_differences(duckdb_rows, other_as_of) == [
        "row 0 column _built_as_of: DuckDB '2026-10-31', Spark '2026-10-30'"
    ]
