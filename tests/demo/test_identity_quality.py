"""Identity quality on the default demo scale (5000 people): precision >= 0.999, recall >= 0.98."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from core.paths import SOURCES
from demo.generator import generate
from demo.identity_quality import identity_quality
from ingestion.loader import load_source
from ingestion.schemas import create_raw_tables
from tests.helpers.identity_dbt import build_identity


@pytest.mark.e2e
def test_identity_quality_on_default_demo(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    generate(data_dir, people=5000, seed=42)
    con = duckdb.connect(str(data_dir / "warehouse.duckdb"))
    create_raw_tables(con)
    for source in SOURCES:
        load_source(con, data_dir / "landing", source)
    con.close()

    build_identity(data_dir, tmp_path / "dbt" / "target")

    con = duckdb.connect(str(data_dir / "warehouse.duckdb"))
    try:
        report = identity_quality(con, data_dir / "ground_truth")
        truth_people = con.execute(
            "select count(distinct person_id) from read_parquet(?)",
            [str(data_dir / "ground_truth" / "identifiers.parquet")],
        ).fetchone()[0]
    finally:
        con.close()

    assert report.true_people == truth_people
    assert report.precision >= 0.999, report
    assert report.recall >= 0.98, report
    assert report.people_joined_through_placeholder == 0, report
    assert report.placeholder_phones_resolved == 0, report
