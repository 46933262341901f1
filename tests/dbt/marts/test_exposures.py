"""The dbt exposures (dbt/models/marts/_marts__exposures.yml): lineage ends where people read the marts,
and the report's exposure depends on exactly the marts the report reads."""

from __future__ import annotations

import json
from pathlib import Path

from reporting.report_data import TABLES


def test_the_reports_exposure_depends_on_the_marts_it_reads(dbt_manifest: Path) -> None:
    manifest = json.loads(dbt_manifest.read_text(encoding="utf-8"))
    exposures = {exposure["name"]: exposure for exposure in manifest["exposures"].values()}
    assert set(exposures) == {"repurchase_report", "serving_copy", "activation_exports"}
    read = {node.split(".")[-1] for node in exposures["repurchase_report"]["depends_on"]["nodes"]}
    assert read == set(TABLES)
    assert {node.split(".")[-1] for node in exposures["activation_exports"]["depends_on"]["nodes"]} == {
        "activation_audience",
        "activation_triggers",
        "activation_triggers_churn_risk",
        "customer_pii",
    }
