"""The identity benchmark (scripts/bench_identity.py) still runs: at a tiny scale, in its own process as a person would
run it, printing its figures. The figures themselves are not asserted (they measure the machine); what is
asserted is what the benchmark promises besides its timings: its re-run on the same data changes no customer id, and
the peer's input it exports is one row per resolved record."""

from __future__ import annotations

import re
from pathlib import Path

import duckdb
import pytest

from tests.helpers.bench_scripts import figure, number, run_script

pytestmark = pytest.mark.e2e


def test_bench_identity_tiny(tmp_path: Path) -> None:
    output = run_script(
        "bench_identity.py", "--people", "2000", "--scale", "0.002", "--keep", str(tmp_path / "bench"),
        "--export-peer", str(tmp_path / "peer"), cwd=tmp_path,
    )
    assert output.count("identity models total") == 2  # the first run and the re-run
    for model in ("int_identifier_candidates", "int_identity_components", "customer_identifier_map",
                  "fct_orders", "dim_customers"):  # fmt: skip
        # seconds, CPU seconds, peak RSS
        assert re.search(rf"^{model}\s+\d+\.\d+\s+\d+\.\d+\s+\d+\.\d+ GB$", output, flags=re.MULTILINE), (model, output)
    assert number(figure(output, "customers")) > 0
    assert number(figure(output, "hubs")) > 0  # the store phones typed for walk-ins
    assert number(figure(output, "map rows changed by re-run")) == 0
    # the peer's input: one row per record the project resolved, its identifiers in one column per type;
    # read back here and compared with the warehouse the bench kept
    con = duckdb.connect(str(tmp_path / "bench" / "data" / "warehouse.duckdb"), read_only=True)
    try:
        resolved = dict(con.sql(
            "select record_key, customer_id from intermediate.int_record_customers"
        ).fetchall())
        exported = con.sql(f"select * from read_parquet('{tmp_path / 'peer' / 'records.parquet'}')").fetchall()
        columns = con.sql(f"describe select * from read_parquet('{tmp_path / 'peer' / 'records.parquet'}')").fetchall()
    finally:
        con.close()
    assert [c[0] for c in columns] == ["record_key", "loaded_at", "phone", "member_card", "tmall_nick",
                                       "tmall_oaid", "jd_account", "openid", "unionid", "email"]  # fmt: skip
    assert sorted(row[0] for row in exported) == sorted(resolved)
    assert all(any(value is not None for value in row[2:]) for row in exported)
    assert number(figure(output, "resolved records")) == len(resolved)
    assert "peer reference (issue #17, not run here): 21.8 s" in output
