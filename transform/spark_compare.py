"""Spark's build against DuckDB's, table by table (``make spark-check``, tests/dbt/test_spark_equals_duckdb.py).

Both sides are read with DuckDB: the DuckDB warehouse's table, and the Parquet files of the table the Spark
build wrote (:func:`transform.spark.spark_table_dir`). Rows are matched after sorting on every column
(floats rounded), and compared value by value: text, dates, booleans and integers exactly, numbers with a
fractional part (double, decimal) to a relative tolerance, since the engines sum doubles in another order
and the Spark A/B statistics use polynomial approximations of the normal and chi-square tails (6
significant digits).
"""

from __future__ import annotations

import math
import re
from pathlib import Path

import duckdb
import pandas as pd

from core.paths import DataPaths
from transform.spark import spark_table_dir

# The marts the issue names; tests compare these on every run.
MARTS_COMPARED = (
    "fct_orders",
    "dim_customers",
    "customer_rfm",
    "customer_lifecycle",
    "kpi_monthly",
    "campaign_funnel",
    "ab_test_results",
)
# Compared besides the marts: the identity map (the same clusters get the same customer ids), without the
# build time each row carries.
IDENTITY_TABLES = ("customer_identifier_map",)
IDENTITY_COLUMNS = ["identifier_key", "customer_id", "original_customer_id"]
# What a proof build runs (``dbt run --select``): the compared tables and every model they read, 35 of the
# project's 58. A Spark build costs per statement, not per row, so the 23 others would only add minutes.
PROOF_SELECTION = " ".join(f"+{table}" for table in (*MARTS_COMPARED, *IDENTITY_TABLES))
RELATIVE_TOLERANCE = 1e-6
ABSOLUTE_TOLERANCE = 1e-9


def read_duckdb_table(warehouse: Path, schema: str, table: str) -> pd.DataFrame:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return con.table(f'"{schema}"."{table}"').df()
    finally:
        con.close()


def read_spark_table(paths: DataPaths, schema: str, table: str) -> pd.DataFrame:
    """The table the Spark build wrote. Whole decimals wider than 18 digits (the 64-bit ids, decimal(20, 0)
    on Spark) come as their exact digits (text): pandas would get them as float64 and lose the low bits."""
    folder = spark_table_dir(paths, schema, table)
    if not any(folder.glob("*.parquet")):
        raise FileNotFoundError(f"Spark wrote no Parquet file for {schema}.{table} in {folder}")
    con = duckdb.connect()
    try:
        relation = con.read_parquet(str(folder / "*.parquet"))
        columns = [
            duckdb.ColumnExpression(name).cast(duckdb.sqltypes.VARCHAR).alias(name)
            if _is_wide_whole_decimal(str(column_type)) else duckdb.ColumnExpression(name)
            for name, column_type in zip(relation.columns, relation.types, strict=True)
        ]
        return relation.select(*columns).df()
    finally:
        con.close()


def _is_wide_whole_decimal(column_type: str) -> bool:
    """DECIMAL(w,0) with w > 18: beyond the digits a double holds exactly."""
    found = re.fullmatch(r"DECIMAL\((\d+),\s*0\)", column_type)
    return found is not None and int(found[1]) > 18


def _is_fractional(series: pd.Series) -> bool:
    """A number column whose values need not be whole (double, float, decimal)."""
    if pd.api.types.is_float_dtype(series):
        return True
    non_null = series.dropna()
    # decimal.Decimal values with a scale (money, rates); decimal(20, 0) ids compare exactly, as text
    return series.dtype == object and len(non_null) > 0 and all(
        hasattr(value, "as_tuple") and value.as_tuple().exponent < 0 for value in non_null.head(50)
    )


def _normalised(frame: pd.DataFrame, fractional: set[str]) -> pd.DataFrame:
    """Fractional columns as float, every other column as text (null kept), columns in name order."""
    out = pd.DataFrame(index=frame.index)
    for column in sorted(frame.columns):
        values = frame[column]
        if column in fractional:
            out[column] = pd.to_numeric(values.astype(object), errors="raise").astype(float)
        else:
            # map, not astype(object): pandas turns uint64 ids above 2**53 into floats on the way
            out[column] = pd.Series([_as_text(value) for value in values.tolist()], index=frame.index, dtype=object)
    return out


def _as_text(value: object) -> object:
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NaT:
        return None
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if hasattr(value, "as_tuple") and value == value.to_integral_value():  # a whole decimal.Decimal
        return str(int(value))
    if isinstance(value, pd.Timestamp):
        return value.isoformat(sep=" ")
    return str(value)


def _sorted(frame: pd.DataFrame, fractional: set[str]) -> pd.DataFrame:
    keys = pd.DataFrame(index=frame.index)
    for column in frame.columns:
        if column in fractional:
            keys[column] = frame[column].map(lambda v: None if pd.isna(v) else float(f"{v:.6g}"))
        else:
            keys[column] = frame[column]
    order = [column for column in frame.columns if column not in fractional] + sorted(fractional)
    ranked = keys[order].astype(str).sort_values(order, kind="stable").index
    return frame.loc[ranked].reset_index(drop=True)


def _close(left: object, right: object) -> bool:
    if pd.isna(left) and pd.isna(right):
        return True
    if pd.isna(left) or pd.isna(right):
        return False
    return math.isclose(float(left), float(right), rel_tol=RELATIVE_TOLERANCE, abs_tol=ABSOLUTE_TOLERANCE)


# When the build that wrote a row ran (macros/last_build_rows.sql): bookkeeping that differs between any two
# builds, so never compared. The other bookkeeping columns (the build's as_of and settings) are.
BUILD_STAMP = "_built_at"


def table_differences(duckdb_rows: pd.DataFrame, spark_rows: pd.DataFrame, *, limit: int = 5) -> list[str]:
    """What differs between two versions of one table (empty when equal row for row): missing or extra
    columns, the row counts, then up to ``limit`` differing values. The build stamp is left out."""
    duckdb_rows = duckdb_rows.drop(columns=[BUILD_STAMP], errors="ignore")
    spark_rows = spark_rows.drop(columns=[BUILD_STAMP], errors="ignore")
    if set(duckdb_rows.columns) != set(spark_rows.columns):
        only_duckdb = sorted(set(duckdb_rows.columns) - set(spark_rows.columns))
        only_spark = sorted(set(spark_rows.columns) - set(duckdb_rows.columns))
        return [f"columns differ: only in DuckDB {only_duckdb}, only in Spark {only_spark}"]
    if len(duckdb_rows) != len(spark_rows):
        return [f"{len(duckdb_rows)} rows in DuckDB, {len(spark_rows)} in Spark"]
    fractional = {c for c in duckdb_rows.columns if _is_fractional(duckdb_rows[c]) or _is_fractional(spark_rows[c])}
    left = _sorted(_normalised(duckdb_rows, fractional), fractional)
    right = _sorted(_normalised(spark_rows, fractional), fractional)
    differences = []
    for column in left.columns:
        for row, (a, b) in enumerate(zip(left[column], right[column], strict=True)):
            equal = _close(a, b) if column in fractional else (a == b or (pd.isna(a) and pd.isna(b)))
            if not equal:
                differences.append(f"row {row} column {column}: DuckDB {a!r}, Spark {b!r}")
                if len(differences) >= limit:
                    return differences
    return differences


def compare_marts(warehouse: Path, paths: DataPaths, tables: tuple[str, ...] = MARTS_COMPARED,
                  schema: str = "marts", columns: list[str] | None = None) -> dict[str, list[str]]:
    """{table: differences} for each table of ``schema`` in DuckDB's ``warehouse`` and Spark's build in
    ``paths``' Spark folder (``columns`` only, when given); a table whose list is empty is equal row for
    row."""
    differences = {}
    for table in tables:
        duckdb_rows, spark_rows = read_duckdb_table(warehouse, schema, table), read_spark_table(paths, schema, table)
        if columns is not None:
            duckdb_rows, spark_rows = duckdb_rows[columns], spark_rows[columns]
        differences[table] = table_differences(duckdb_rows, spark_rows)
    return differences
