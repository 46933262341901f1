"""What the identity tests build with dbt (through ``transform.dbt.run_dbt``)."""

from __future__ import annotations

from pathlib import Path

from transform.dbt import DbtRun, run_dbt

# Every model the identity tests need, with its upstream (staging, unified orders).
IDENTITY_MARTS = "+dim_customers +customer_pii +customer_merges +identity_hubs +fct_order_lines"
# Upstream of identity: built, but their data tests belong to their own suites.
UPSTREAM_PATHS = ("path:models/staging", "path:models/intermediate/orders")


def build_identity(data_dir: Path, target_path: Path, *, data_tests: bool = True) -> DbtRun:
    """One ``dbt build`` of IDENTITY_MARTS: every model, the data tests of all but the upstream ones (none
    without ``data_tests``: a ``dbt run``, for a rebuild whose data the caller checks itself). (dbt unit
    tests check model code, not data: tests/dbt/test_dbt_unit_tests.py runs every one of them.)"""
    if not data_tests:
        return run_dbt(["run", "--select", IDENTITY_MARTS, "-q"], data_dir=data_dir, target_path=target_path)
    excluded = ["resource_type:unit_test", *(f"{path},resource_type:test" for path in UPSTREAM_PATHS)]
    return run_dbt(
        ["build", "--select", IDENTITY_MARTS, "--exclude", *excluded, "-q"],
        data_dir=data_dir,
        target_path=target_path,
    )
