"""The serving copy: only marts, no personal-data columns, atomic switch under concurrent readers,
retention, and the Dagster asset's metadata.

The warehouse here is written by hand (tests/helpers/serving_warehouse.py): version k of the marts has
``fct_a`` with 100*k rows all of value k and ``fct_b`` with k rows all of value 7*k, so a reader can tell
from the data alone which version it reads and whether both tables come from the same one.
"""

from __future__ import annotations

import multiprocessing
import time
from pathlib import Path

import duckdb
import pytest

from serving.publish import (
    CURRENT_LINK,
    SERVING_DB,
    VERSION_TABLE,
    ServingError,
    current_version,
    list_versions,
    publish_serving_copy,
)
from tests.helpers.serving_warehouse import DECLARED_COLUMNS, write_warehouse


def serving_tables(database: Path) -> dict[str, list[str]]:
    con = duckdb.connect(str(database), read_only=True)
    try:
        rows = con.execute(
            "select table_schema, table_name, column_name from information_schema.columns "
            "order by table_name, ordinal_position"
        ).fetchall()
    finally:
        con.close()
    tables: dict[str, list[str]] = {}
    for schema, table, column in rows:
        assert schema == "main", (schema, table)
        tables.setdefault(table, []).append(column)
    return tables


def test_publish_copies_only_marts_without_personal_columns(tmp_path: Path) -> None:
    warehouse = tmp_path / "warehouse.duckdb"
    write_warehouse(warehouse, 3)
    serving = tmp_path / "serving"

    published = publish_serving_copy(
        warehouse, serving, version="v3", run_id="run-3", columns=DECLARED_COLUMNS
    )

    assert published.tables == {"dim_customers": 1, "fct_a": 300, "fct_b": 3}
    assert published.dropped_columns == {"dim_customers": ["phone_masked", "address_line"]}
    tables = serving_tables(serving / SERVING_DB)
    assert tables == {
        "_serving_version": ["version", "run_id", "published_at", "table_name", "row_count", "checksum"],
        "dim_customers": ["customer_id", "phone_hash"],
        "fct_a": ["v"],
        "fct_b": ["v"],
    }
    # Parquet files of the same version, reachable through the `current` link.
    assert current_version(serving) == "v3"
    parquet = sorted(p.name for p in (serving / CURRENT_LINK / "parquet").iterdir())
    assert parquet == ["dim_customers.parquet", "fct_a.parquet", "fct_b.parquet"]
    memory = duckdb.connect()
    try:
        total = memory.execute(
            "select sum(v) from read_parquet(?)", [str(serving / CURRENT_LINK / "parquet" / "fct_a.parquet")]
        ).fetchone()[0]
    finally:
        memory.close()
    assert total == 300 * 3
    con = duckdb.connect(str(serving / SERVING_DB), read_only=True)
    try:
        versions = con.execute(
            f"select version, run_id, table_name, row_count from {VERSION_TABLE} order by table_name"
        ).fetchall()
    finally:
        con.close()
    assert versions == [
        ("v3", "run-3", "dim_customers", 1),
        ("v3", "run-3", "fct_a", 300),
        ("v3", "run-3", "fct_b", 3),
    ]


def test_publish_refuses_missing_or_empty_schema(tmp_path: Path) -> None:
    with pytest.raises(ServingError, match="no warehouse"):
        publish_serving_copy(tmp_path / "missing.duckdb", tmp_path / "serving", columns=DECLARED_COLUMNS)
    empty = tmp_path / "empty.duckdb"
    duckdb.connect(str(empty)).close()
    with pytest.raises(ServingError, match="has no tables"):
        publish_serving_copy(empty, tmp_path / "serving", columns=DECLARED_COLUMNS)
    # Nothing was switched or left half-written.
    assert not (tmp_path / "serving" / SERVING_DB).exists()
    assert list_versions(tmp_path / "serving") == []


def test_retention_keeps_newest_and_open_readers_keep_their_version(tmp_path: Path) -> None:
    warehouse = tmp_path / "warehouse.duckdb"
    serving = tmp_path / "serving"
    write_warehouse(warehouse, 1)
    publish_serving_copy(warehouse, serving, version="v01", keep=2, columns=DECLARED_COLUMNS)
    old_reader = duckdb.connect(str(serving / SERVING_DB), read_only=True)
    # What an interrupted publish leaves behind is cleared by the next one.
    (serving / "versions" / ".v99.partial" / "parquet").mkdir(parents=True)
    (serving / ".serving.duckdb.123.tmp").write_bytes(b"")
    try:
        for k in (2, 3, 4):
            write_warehouse(warehouse, k)
            publish_serving_copy(warehouse, serving, version=f"v{k:02d}", keep=2, columns=DECLARED_COLUMNS)
        assert list_versions(serving) == ["v03", "v04"]
        assert not (serving / "versions" / ".v99.partial").exists()
        assert not (serving / ".serving.duckdb.123.tmp").exists()
        assert current_version(serving) == "v04"
        # v01's directory is gone, yet the reader that opened it still reads version 1, whole.
        assert not (serving / "versions" / "v01").exists()
        assert old_reader.execute("select count(*), min(v), max(v) from fct_a").fetchone() == (100, 1, 1)
    finally:
        old_reader.close()
    fresh = duckdb.connect(str(serving / SERVING_DB), read_only=True)
    try:
        assert fresh.execute("select count(*), min(v) from fct_a").fetchone() == (400, 4)
    finally:
        fresh.close()


def _reader(database: str, stop, reads_done, results) -> None:  # runs in a separate process
    reads = 0
    seen: set[int] = set()
    errors: list[str] = []
    while not stop.is_set():
        try:
            con = duckdb.connect(database, read_only=True)
            try:
                con.execute("begin transaction")
                version = con.execute(f"select distinct version from {VERSION_TABLE}").fetchall()
                recorded = dict(con.execute(f"select table_name, row_count from {VERSION_TABLE}").fetchall())
                a = con.execute("select count(*), min(v), max(v), sum(v) from fct_a").fetchone()
                b = con.execute("select count(*), min(v), max(v), sum(v) from fct_b").fetchone()
                con.execute("commit")
            finally:
                con.close()
            assert len(version) == 1, f"several versions in one file: {version}"
            k = int(version[0][0].removeprefix("v"))
            # Hand-computed content of version k (see write_warehouse).
            assert a == (100 * k, k, k, 100 * k * k), (k, a)
            assert b == (k, 7 * k, 7 * k, 7 * k * k), (k, b)
            assert recorded["fct_a"] == 100 * k and recorded["fct_b"] == k, (k, recorded)
            seen.add(k)
            reads += 1
        except (duckdb.Error, AssertionError, OSError) as error:  # the test asserts there were none
            errors.append(f"{type(error).__name__}: {error}")
        reads_done.value = reads + len(errors)
    results.put((reads, sorted(seen), errors[:5], len(errors)))


# Generous ceiling for the readers to make progress: the test waits on their progress, not on the clock,
# so a busy machine makes it slower, never red.
READERS_CEILING_SECONDS = 600


def _wait_for_reads(counters: list, at_least: list[int]) -> None:
    """Until every reader has finished at least ``at_least[i]`` reads (attempts)."""
    deadline = time.monotonic() + READERS_CEILING_SECONDS
    while any(counter.value < wanted for counter, wanted in zip(counters, at_least, strict=True)):
        assert time.monotonic() < deadline, "readers made no progress in 10 minutes"
        time.sleep(0.01)


def test_readers_never_see_a_partial_or_mixed_version(tmp_path: Path) -> None:
    warehouse = tmp_path / "warehouse.duckdb"
    serving = tmp_path / "serving"
    write_warehouse(warehouse, 1)
    publish_serving_copy(warehouse, serving, version="v01", keep=2, columns=DECLARED_COLUMNS)

    context = multiprocessing.get_context("spawn")
    stop = context.Event()
    results = context.Queue()
    counters = [context.Value("i", 0) for _ in range(2)]
    readers = [
        context.Process(target=_reader, args=(str(serving / SERVING_DB), stop, counter, results))
        for counter in counters
    ]
    for process in readers:
        process.start()
    try:
        # Each reader reads every version a few times: it has started and really overlaps the switches.
        _wait_for_reads(counters, [3, 3])
        published = 1
        for k in range(2, 12):
            write_warehouse(warehouse, k)  # the pipeline writes; readers never touch this file
            publish_serving_copy(warehouse, serving, version=f"v{k:02d}", keep=2, columns=DECLARED_COLUMNS)
            published += 1
            _wait_for_reads(counters, [counter.value + 3 for counter in counters])
    finally:
        stop.set()
        outcomes = [results.get(timeout=READERS_CEILING_SECONDS) for _ in readers]
        for process in readers:
            process.join(timeout=READERS_CEILING_SECONDS)
    assert published == 11
    for reads, seen, errors, error_count in outcomes:
        assert error_count == 0, errors
        assert reads > 20
        assert len(seen) >= 3, seen  # the readers really overlapped several switches
        assert set(seen) <= set(range(1, 12))
    assert list_versions(serving) == ["v10", "v11"]


def test_descriptions_become_comments_and_files_are_added_before_the_switch(tmp_path: Path) -> None:
    """The yml's descriptions are the tables' and published columns' comments (text, even when written
    as an injection); ``add_files`` writes into the new version, which the manifest lists, read-only."""
    import json
    import stat

    warehouse = tmp_path / "warehouse.duckdb"
    write_warehouse(warehouse, 2)
    serving = tmp_path / "serving"
    descriptions = {
        "fct_a": ("客户 table A, it's the first", {"v": "'; drop table fct_b; --"}),
        "dim_customers": ("", {"customer_id": "Stable id.", "address_line": "Personal: never published."}),
    }
    seen: list[Path] = []

    def add_files(folder: Path) -> list[str]:
        seen.append(folder)
        assert (folder / SERVING_DB).is_file() and current_version(serving) is None, "before the switch"
        (folder / "report.html").write_text("<html></html>", encoding="utf-8")
        return ["report.html"]

    published = publish_serving_copy(
        warehouse,
        serving,
        version="v2",
        columns=DECLARED_COLUMNS,
        descriptions=descriptions,
        add_files=add_files,
    )

    assert seen and published.tables["fct_b"] == 2
    report = published.path / "report.html"
    assert report.read_text(encoding="utf-8") == "<html></html>"
    assert not report.stat().st_mode & stat.S_IWUSR
    manifest = json.loads((serving / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["files"] == {"report.html": "versions/v2/report.html"}
    con = duckdb.connect(str(serving / SERVING_DB), read_only=True)
    try:
        tables = dict(con.execute("select table_name, comment from duckdb_tables()").fetchall())
        columns = {
            (table, column): comment
            for table, column, comment in con.execute(
                "select table_name, column_name, comment from duckdb_columns()"
            ).fetchall()
        }
    finally:
        con.close()
    assert tables["fct_a"] == "客户 table A, it's the first"
    assert tables["fct_b"] is None and tables["dim_customers"] is None
    assert columns[("fct_a", "v")] == "'; drop table fct_b; --"
    assert columns[("dim_customers", "customer_id")] == "Stable id."
    assert ("dim_customers", "address_line") not in columns  # personal data: not published at all


def test_a_description_with_a_control_character_stops_the_publish(tmp_path: Path) -> None:
    warehouse = tmp_path / "warehouse.duckdb"
    write_warehouse(warehouse, 1)
    serving = tmp_path / "serving"
    with pytest.raises(ServingError, match="control character"):
        publish_serving_copy(
            warehouse, serving, version="v1", columns=DECLARED_COLUMNS, descriptions={"fct_a": ("a\x00b", {})}
        )
    assert current_version(serving) is None and list_versions(serving) == []
