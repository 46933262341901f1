"""The demo on Spark against the demo on DuckDB (``make spark-check``; README "Scaling out").

    .venv/bin/python scripts/spark_check.py [--people 200] [--seed 42] [--keep DIR]

1. ``repurchase demo --people N`` into ``<dir>/duckdb``: the whole pipeline on DuckDB (exports, gates,
   dbt, …), the reference.
2. The same raw tables, exported as Parquet (transform/spark.py), built with ``dbt run --target spark`` on a
   local Spark session in ``<dir>/spark`` (timed), and ``dbt run`` on DuckDB from the same raw tables alone
   (timed), so the two engines' figures cover the same work: the compared tables and the models they read
   (``--select`` :data:`transform.spark_compare.PROOF_SELECTION`).
3. Every mart the issue names compared row for row between the two builds of step 2 (transform/
   spark_compare.py), plus the identity clusters and customer ids (``intermediate.customer_identifier_map``).
   (Not with step 1's marts: the pipeline's steps after dbt write raw._touch_send_log, which the copies hold.)

Prints seconds per engine and one line per table; exits 1 when a table differs.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import duckdb

from core.paths import data_paths
from transform.dbt import run_dbt
from transform.spark import export_raw_tables, java_problem, local_session_env, register_raw_tables, spark_env
from transform.spark_compare import (
    IDENTITY_COLUMNS,
    IDENTITY_TABLES,
    MARTS_COMPARED,
    PROOF_SELECTION,
    compare_marts,
)

REPURCHASE = Path(sys.executable).with_name("repurchase")


def raw_only_copy(warehouse: Path, out: Path) -> None:
    """A copy of ``warehouse`` keeping the schemas dbt reads (raw, restricted.hash_key) and nothing dbt built."""
    shutil.copyfile(warehouse, out)
    con = duckdb.connect(str(out))
    try:
        built = con.execute(
            "select table_schema, table_name, table_type from information_schema.tables "
            "where table_schema not in ('raw', 'restricted') or (table_schema = 'restricted' and table_name <> 'hash_key')"
        ).fetchall()
        for schema, table, table_type in built:
            kind = "view" if table_type == "VIEW" else "table"
            con.execute(f'drop {kind} if exists "{schema}"."{table}"')
    finally:
        con.close()


def build_demo(root: Path, people: int, seed: int) -> None:
    env = {**os.environ, "REPURCHASE_DATA_DIR": str(root), "REPURCHASE_ENGINE": "duckdb"}
    completed = subprocess.run(
        [str(REPURCHASE), "demo", "--people", str(people), "--seed", str(seed)],
        env=env, capture_output=True, text=True, check=False,
    )
    if completed.returncode != 0:
        sys.exit(f"repurchase demo exited {completed.returncode}:\n{completed.stdout[-3000:]}\n{completed.stderr[-3000:]}")


def timed_dbt(args: list[str], root: Path, env: dict[str, str] | None = None) -> float:
    started = time.perf_counter()
    run_dbt(args, data_dir=root, target_path=root / "dbt_target", env=env)
    return time.perf_counter() - started


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--people", type=int, default=200, help="demo size (default 200)")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--keep", type=Path, help="folder to use and keep (default: a temp dir)")
    args = parser.parse_args(argv)
    problem = java_problem()
    if problem:
        print(f"spark-check needs a Java runtime for the local Spark session: {problem}", file=sys.stderr)
        return 2
    work = args.keep or Path(tempfile.mkdtemp(prefix="spark-check-"))
    reference, spark_root, duckdb_root = work / "duckdb", work / "spark", work / "duckdb_dbt_only"
    for folder in (reference, spark_root, duckdb_root):
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
    try:
        print(f"demo: {args.people} people, seed {args.seed}, in {work}")
        build_demo(reference, args.people, args.seed)
        for root in (spark_root, duckdb_root):
            raw_only_copy(reference / "warehouse.duckdb", root / "warehouse.duckdb")
            # Demo data (its ground truth beside it) is hashed with the demo's key (core/secrets.py).
            shutil.copytree(reference / "ground_truth", root / "ground_truth")

        build = ["run", "--select", PROOF_SELECTION]
        duckdb_seconds = timed_dbt(build, duckdb_root)
        print(f"duckdb dbt run:   {duckdb_seconds:.1f} s")

        paths = data_paths(spark_root)
        exported = export_raw_tables(paths)
        small = local_session_env() if args.people <= 20_000 else {}
        env = {**spark_env(paths, exported), **small}
        started = time.perf_counter()
        register_raw_tables(paths, env, spark_root / "dbt_target")
        spark_seconds = time.perf_counter() - started + timed_dbt([*build, "--target", "spark"], spark_root, env=env)
        print(f"spark dbt run:    {spark_seconds:.1f} s")

        built = duckdb_root / "warehouse.duckdb"
        differences = compare_marts(built, paths, MARTS_COMPARED)
        differences |= compare_marts(built, paths, IDENTITY_TABLES, schema="intermediate", columns=IDENTITY_COLUMNS)
        for table, found in differences.items():
            print(f"{table:28s} {'equal' if not found else 'DIFFERS: ' + '; '.join(found)}")
        differing = [table for table, found in differences.items() if found]
        print(f"tables compared:  {len(differences)}, differing: {len(differing)}")
        return 1 if differing else 0
    finally:
        if args.keep is None:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
