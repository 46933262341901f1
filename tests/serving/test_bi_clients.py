"""What BI clients meet: a DuckDB 1.x driver opens the serving file, a published version cannot be changed
through it, a WAL a client left is never replayed, and Parquet readers get one version per manifest."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from serving.publish import MANIFEST, SERVING_DB, publish_serving_copy
from tests.helpers.serving_warehouse import DECLARED_COLUMNS, write_warehouse

OLD_DUCKDB = "1.1.3"  # the oldest 1.x line still in BI drivers; 1.0 storage is what it reads


def _publish(tmp_path: Path, k: int) -> Path:
    warehouse = tmp_path / f"warehouse_{k}.duckdb"
    write_warehouse(warehouse, k)
    serving = tmp_path / "serving"
    publish_serving_copy(warehouse, serving, version=f"v{k}", columns=DECLARED_COLUMNS)
    return serving


@pytest.fixture(scope="session")
def old_duckdb(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder with DuckDB 1.x installed (``pip install --target``), put first on PYTHONPATH."""
    target = tmp_path_factory.mktemp("duckdb_1x")
    completed = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target", str(target),
         f"duckdb=={OLD_DUCKDB}"],
        capture_output=True, text=True, check=False, timeout=600,
    )  # fmt: skip
    if completed.returncode != 0:
        pytest.skip(f"could not install duckdb {OLD_DUCKDB} from the package index: {completed.stderr[-300:]}")
    return target


def test_a_duckdb_1x_client_reads_the_serving_file(tmp_path: Path, old_duckdb: Path) -> None:
    serving = _publish(tmp_path, 3)
    script = (
        "import duckdb, json; "
        f"con = duckdb.connect({str(serving / SERVING_DB)!r}, read_only=True); "
        "print(json.dumps([duckdb.__version__, con.execute('select count(*), max(v) from fct_a').fetchone(), "
        "con.execute('select distinct version from _serving_version').fetchall()]))"
    )
    completed = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=False, timeout=120,
        env={"PYTHONPATH": str(old_duckdb), "PATH": "/usr/bin:/bin"},
    )  # fmt: skip
    assert completed.returncode == 0, completed.stderr[-2000:]
    version, (rows, value), versions = json.loads(completed.stdout)
    assert version == OLD_DUCKDB
    assert (rows, value) == (300, 3) and versions == [["v3"]]


def test_published_files_are_read_only(tmp_path: Path) -> None:
    serving = _publish(tmp_path, 1)
    files = [p for p in (serving / "versions" / "v1").rglob("*") if p.is_file()]
    assert {p.name for p in files} >= {SERVING_DB, MANIFEST, "fct_a.parquet"}
    assert all(p.stat().st_mode & 0o777 == 0o444 for p in files)
    assert (serving / SERVING_DB).stat().st_mode & 0o777 == 0o444


def test_a_wal_left_by_a_client_is_not_carried_over(tmp_path: Path) -> None:
    serving = _publish(tmp_path, 1)
    # A client that opened serving.duckdb read-write and was killed leaves a WAL beside it.
    (serving / f"{SERVING_DB}.wal").write_bytes(b"not a wal of the next version")
    _publish(tmp_path, 2)
    assert not (serving / f"{SERVING_DB}.wal").exists()
    with duckdb.connect(str(serving / SERVING_DB), read_only=True) as con:
        assert con.execute("select count(*), max(v) from fct_a").fetchone() == (200, 2)


def test_a_manifest_read_once_gives_one_version_across_a_publish(tmp_path: Path) -> None:
    serving = _publish(tmp_path, 1)
    manifest = json.loads((serving / MANIFEST).read_text(encoding="utf-8"))
    assert manifest["version"] == "v1"
    assert manifest["tables"]["fct_a"] == {"path": "versions/v1/parquet/fct_a.parquet", "rows": 100}
    _publish(tmp_path, 2)  # a new version is published between two table reads
    values = {
        table: duckdb.sql(f"select distinct v from read_parquet('{serving / entry['path']}')").fetchall()
        for table, entry in manifest["tables"].items()
        if table in ("fct_a", "fct_b")
    }
    assert values == {"fct_a": [(1,)], "fct_b": [(7,)]}  # both from version 1
    assert json.loads((serving / MANIFEST).read_text(encoding="utf-8"))["version"] == "v2"
