"""The incremental models stamp the rows each build writes (``_built_at``, macros/last_build_rows.sql), and
their data tests check those rows only (``where: "__last_build__"``): a full build tests every row, a day
the rows it wrote (DECISIONLOG "Incremental models are selective"). Checked on the dbt manifest, so a test
declared without the restriction (or a yml mapping whose second ``config:`` silently replaces the first)
shows here, not as a slower day. A test comparing the last build's rows with every row (the identity
hash injectivity: a new key against the old ones) names the rows in its `checked_rows` argument instead.

``relationships`` tests on the marts stay unrestricted: they are the safety net against a parent dropping a
key while old child rows, which no build rewrote, still point to it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

LAST_BUILD = "__last_build__"
# The models that stamp their rows (written out here by hand).
STAMPED = {
    "int_orders_unioned", "int_order_lines_unioned", "int_customer_order_state", "int_kpi_monthly_cells",
    "int_kpi_quarterly_cells", "int_touch_events_resolved", "int_record_identity_changes",
    "fct_orders", "fct_order_lines", "fct_touch_events", "repurchase_purchases", "customer_lifecycle",
    "lifecycle_transitions", "member_tier_history", "int_identifier_candidates", "int_identifiers",
    "int_campaign_rfm_cuts", "dim_customers", "customer_pii", "campaign_customer_rfm", "int_identity_hubs",
    "int_identity_nodes", "int_identity_edges", "int_customer_identifiers",
    "int_identity_components", "campaign_assignments", "int_customer_segment_history", "int_kpi_monthly_segments",
    "int_kpi_quarterly_segments",
}  # fmt: skip
# A test that compares the last build's rows with every row takes the placeholder as an argument.
CHECKED_ROWS = "checked_rows"
UNRESTRICTED = "relationships"


@pytest.fixture(scope="module")
def manifest(dbt_manifest: Path) -> dict[str, Any]:
    return json.loads(dbt_manifest.read_text(encoding="utf-8"))


def _models(manifest: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        node["unique_id"]: node for node in manifest["nodes"].values() if node["resource_type"] == "model"
    }


def test_the_stamped_models_are_the_decided_ones(manifest: dict[str, Any]) -> None:
    stamped = {node["name"] for node in _models(manifest).values() if "_built_at" in node["columns"]}
    assert stamped == STAMPED


def test_data_tests_of_stamped_models_check_the_last_build(manifest: dict[str, Any]) -> None:
    models = _models(manifest)
    seen: dict[str, set[str]] = {name: set() for name in STAMPED}
    wrong = []
    for node in manifest["nodes"].values():
        if node["resource_type"] != "test" or not node.get("test_metadata"):
            continue
        model = models.get(node.get("attached_node") or "")
        if model is None or model["name"] not in STAMPED:
            continue
        kind = node["test_metadata"]["name"]
        seen[model["name"]].add(kind)
        where = node["config"].get("where") or node["test_metadata"]["kwargs"].get(CHECKED_ROWS) or ""
        if kind == UNRESTRICTED and model["schema"] == "marts":
            if where:
                wrong.append(f"{node['name']}: where {where!r} (relationships stay unrestricted)")
        elif LAST_BUILD not in where:
            wrong.append(f"{node['name']}: where {where!r}")
    assert wrong == []
    # the check above saw each model's tests (a test that cannot fail is no test): each has its not-null
    # checks, one per column or several in one (not_null_columns)
    assert all(kinds & {"not_null", "not_null_columns"} for kinds in seen.values()), seen
    assert {"fct_orders", "fct_order_lines"} <= {
        name for name, kinds in seen.items() if UNRESTRICTED in kinds
    }


# customer_identifier_map is stamped by the run that wrote a row (updated_at), not `_built_at`
LAST_UPDATE = "__last_update__"
UPDATE_STAMPED = "customer_identifier_map"


def test_data_tests_of_the_identity_map_check_its_last_write(manifest: dict[str, Any]) -> None:
    models = _models(manifest)
    tests = [
        (node["test_metadata"]["name"], node["config"].get("where") or node["test_metadata"]["kwargs"].get(CHECKED_ROWS))
        for node in manifest["nodes"].values()
        if node["resource_type"] == "test" and node.get("test_metadata")
        and models.get(node.get("attached_node") or "", {}).get("name") == UPDATE_STAMPED
    ]
    kinds = sorted(kind for kind, _ in tests)
    # its keys (identifier_id, identifier_key): every written key counted over all rows, so a written key
    # repeating an older row's fails
    assert kinds == ["accepted_values", "not_null_columns", "unique_of_checked_rows", "unique_of_checked_rows"]
    assert [(kind, where) for kind, where in tests if where != LAST_UPDATE] == []
