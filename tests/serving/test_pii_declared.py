"""Which mart columns are personal data is declared in the marts' dbt yml (``config: {meta: {pii: true}}``),
and the serving copy follows the declaration. Checked on the dbt manifest of the project as it is now:

- every mart enforces its contract, so its yml lists exactly the columns it builds (none undocumented);
- the personal-data columns are exactly the ones decided (written out here by hand);
- a column whose name looks personal (phone, name, address, card...) is declared pii or says why not;
- publishing a warehouse shaped like the marts leaves every pii column out and refuses an undocumented one.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import duckdb
import pytest

from serving.publish import (
    PARQUET_DIR,
    PII_META_KEY,
    SERVED_SCHEMA,
    SERVING_DB,
    ServingError,
    declared_columns,
    list_versions,
    publish_serving_copy,
    quote_identifier,
)

# The old name rule of the serving copy (phone|mobile|address|email|openid|unionid|id_card) widened to
# names, cards, nicknames, birthdays and genders: a safety net for review, no longer the rule itself.
LOOKS_PERSONAL = re.compile(
    r"phone|mobile|address|email|openid|unionid|id_card|card|name|nick|birth|gender", re.IGNORECASE
)
JUSTIFICATION_KEY = "pii_justification"


@pytest.fixture(scope="module")
def manifest(dbt_manifest: Path) -> dict[str, Any]:
    return json.loads(dbt_manifest.read_text(encoding="utf-8"))


def _models(manifest: dict[str, Any], schema: str) -> dict[str, dict[str, Any]]:
    return {
        node.get("alias") or node["name"]: node
        for node in manifest["nodes"].values()
        if node["resource_type"] == "model" and node["schema"] == schema
    }


def _sources(manifest: dict[str, Any], schema: str) -> dict[str, dict[str, Any]]:
    """dbt sources declared in ``schema``: tables Python writes into the marts (the predictive-CLV marts)."""
    return {
        node.get("identifier") or node["name"]: node
        for node in manifest.get("sources", {}).values()
        if node["schema"] == schema
    }


def _meta(column: dict[str, Any]) -> dict[str, Any]:
    return {**(column.get("meta") or {}), **((column.get("config") or {}).get("meta") or {})}


def test_every_mart_enforces_its_contract(manifest: dict[str, Any]) -> None:
    # An enforced contract makes dbt refuse to build a mart whose columns differ from its yml, so the yml
    # documents every column the serving copy can meet.
    marts = _models(manifest, SERVED_SCHEMA)
    assert {"dim_customers", "fct_orders", "activation_audience"} <= set(marts)
    unenforced = [
        name
        for name, node in marts.items()
        if not node["config"].get("contract", {}).get("enforced") or not node["columns"]
    ]
    assert unenforced == []


def test_personal_data_columns_are_the_decided_ones(manifest: dict[str, Any]) -> None:
    marts = declared_columns(manifest)
    left_out = {
        (table, column) for table, columns in marts.items() for column, is_left_out in columns.items() if is_left_out
    }
    # Besides personal data, the marts' bookkeeping is left out: the `_built_*` columns of the incremental
    # marts (which build wrote a row, its as_of and settings), the purchases' stored row fingerprint (what
    # the KPI cells sum per month), the assignments' window purchases fingerprint, and nothing else.
    bookkeeping = {(table, column) for table, column in left_out if column.startswith("_")}
    assert bookkeeping == {
        ("repurchase_purchases", "_row_fingerprint"),
        ("fct_orders", "_built_at"),
        ("fct_order_lines", "_built_at"),
        ("fct_touch_events", "_built_at"),
        ("repurchase_purchases", "_built_at"),
        ("repurchase_purchases", "_built_as_of"),
        ("lifecycle_transitions", "_built_at"),
        *(("customer_lifecycle", column) for column in ("_built_at", "_built_as_of", "_built_settings")),
        *(("member_tier_history", column) for column in ("_built_at", "_built_as_of", "_built_settings")),
        *(("dim_customers", column) for column in ("_built_at", "_built_settings")),
        *(("campaign_customer_rfm", column) for column in ("_built_at", "_built_as_of", "_built_settings")),
        *(("campaign_assignments", column)
          for column in ("_built_at", "_built_as_of", "_built_settings", "_purchases_fingerprint")),
    }
    for table, column in bookkeeping:
        meta = _meta(_models(manifest, SERVED_SCHEMA)[table]["columns"][column])
        assert meta.get("bookkeeping") is True and not meta.get(PII_META_KEY), (table, column)
    pii = left_out - bookkeeping
    # The display form of the phone, the clear member card and the birthday are the personal data in the
    # marts (keyed hashes stand in for phones, a mask for the card, the fired trigger for the birthday);
    # they stay in the warehouse for restricted exports and the birthday trigger.
    assert pii == {
        ("dim_customers", "phone_masked"),
        ("dim_customers", "member_card"),
        ("dim_customers", "birth_month_day"),
        ("dim_customers", "birth_year"),
    }
    # The restricted table is not a mart (never served) and declares its personal data all the same.
    assert "customer_pii" not in marts
    assert declared_columns(manifest, schema="restricted")["customer_pii"] == {
        "customer_id": False,
        "phone": True,
        "name": True,
        "address": True,
        "email": True,
        "_built_at": False,  # the build that wrote the row (bookkeeping)
    }


def test_columns_that_look_personal_are_pii_or_justified(manifest: dict[str, Any]) -> None:
    unjustified = []
    for table, node in sorted(_models(manifest, SERVED_SCHEMA).items()):
        for name, column in node["columns"].items():
            if not LOOKS_PERSONAL.search(name):
                continue
            meta = _meta(column)
            justified = meta.get(PII_META_KEY) is False and str(meta.get(JUSTIFICATION_KEY) or "").strip()
            if meta.get(PII_META_KEY) is not True and not justified:
                unjustified.append(f"{table}.{name}")
    assert unjustified == [], (
        "declare these columns `config: {meta: {pii: true}}`, or `pii: false` with a "
        f"{JUSTIFICATION_KEY} saying why they are not personal data"
    )


def _write_marts_warehouse(path: Path, manifest: dict[str, Any]) -> None:
    """Every mart (and restricted.customer_pii) as an empty table with the columns its yml declares (the
    models', and the sources' declared in the schema)."""
    con = duckdb.connect(str(path))
    try:
        for schema in (SERVED_SCHEMA, "restricted"):
            con.execute(f"create schema {schema}")
            for table, node in {**_models(manifest, schema), **_sources(manifest, schema)}.items():
                columns = ", ".join(
                    f"{quote_identifier(name)} {column.get('data_type') or 'varchar'}"
                    for name, column in node["columns"].items()
                )
                con.execute(f"create table {schema}.{quote_identifier(table)} ({columns})")
    finally:
        con.close()


def _published_columns(serving: Path) -> dict[str, list[str]]:
    con = duckdb.connect(str(serving / SERVING_DB), read_only=True)
    try:
        rows = con.execute(
            "select table_name, column_name from information_schema.columns "
            "where table_name <> '_serving_version' order by table_name, ordinal_position"
        ).fetchall()
    finally:
        con.close()
    tables: dict[str, list[str]] = {}
    for table, column in rows:
        tables.setdefault(table, []).append(column)
    return tables


def test_publishing_leaves_every_pii_column_out(manifest: dict[str, Any], tmp_path: Path) -> None:
    warehouse = tmp_path / "warehouse.duckdb"
    _write_marts_warehouse(warehouse, manifest)
    serving = tmp_path / "serving"

    # Without `columns` the publisher reads the declarations from the dbt project itself.
    published = publish_serving_copy(warehouse, serving, version="v1")

    assert published.dropped_columns == {
        "dim_customers": ["phone_masked", "member_card", "birth_month_day", "birth_year", "_built_at", "_built_settings"],
        "fct_orders": ["_built_at"],
        "repurchase_purchases": ["_row_fingerprint", "_built_at", "_built_as_of"],
        "lifecycle_transitions": ["_built_at"],
        "fct_order_lines": ["_built_at"],
        "fct_touch_events": ["_built_at"],
        "customer_lifecycle": ["_built_at", "_built_as_of", "_built_settings"],
        "member_tier_history": ["_built_at", "_built_as_of", "_built_settings"],
        "campaign_customer_rfm": ["_built_at", "_built_as_of", "_built_settings"],
        "campaign_assignments": ["_built_at", "_built_as_of", "_built_settings", "_purchases_fingerprint"],
    }
    declared = declared_columns(manifest)
    tables = _published_columns(serving)
    assert set(tables) == set(declared)  # every mart, nothing restricted
    for table, columns in declared.items():
        assert tables[table] == [name for name, is_pii in columns.items() if not is_pii], table
        parquet = serving / "current" / PARQUET_DIR / f"{table}.parquet"
        assert duckdb.read_parquet(str(parquet)).columns == tables[table], table


def test_an_undocumented_column_stops_the_publish(manifest: dict[str, Any], tmp_path: Path) -> None:
    warehouse = tmp_path / "warehouse.duckdb"
    _write_marts_warehouse(warehouse, manifest)
    con = duckdb.connect(str(warehouse))
    try:
        con.execute("alter table marts.dim_customers add column guest_phone varchar")
        con.execute("create table marts.scratch (note varchar)")
    finally:
        con.close()
    serving = tmp_path / "serving"

    with pytest.raises(ServingError, match="not documented") as refused:
        publish_serving_copy(warehouse, serving, version="v1", columns=declared_columns(manifest))

    assert "dim_customers.guest_phone" in str(refused.value)
    assert "scratch.note" in str(refused.value)
    assert not (serving / SERVING_DB).exists()
    assert list_versions(serving) == []


def test_sources_declared_in_the_served_schema_are_declarations_too() -> None:
    # Tables Python writes into the marts (the predictive-CLV marts) are declared as dbt sources of schema
    # marts; a source of another schema (raw) declares nothing publishable.
    manifest = {
        "nodes": {
            "model.p.fct_a": {"resource_type": "model", "schema": "marts", "name": "fct_a",
                              "columns": {"id": {"name": "id"}}},
        },
        "sources": {
            "source.p.clv_predicted.customer_clv_predicted": {
                "resource_type": "source", "schema": "marts", "name": "customer_clv_predicted",
                "identifier": "customer_clv_predicted",
                "columns": {"customer_id": {"name": "customer_id"}, "p_alive": {"name": "p_alive", "meta": {}}},
            },
            "source.p.raw.pos": {"resource_type": "source", "schema": "raw", "name": "pos",
                                 "columns": {"phone": {"name": "phone"}}},
        },
    }  # fmt: skip
    assert declared_columns(manifest) == {
        "fct_a": {"id": False},
        "customer_clv_predicted": {"customer_id": False, "p_alive": False},
    }


def test_the_predictive_clv_marts_are_declared_in_the_project(manifest: dict[str, Any]) -> None:
    marts = declared_columns(manifest)
    assert {
        "customer_clv_predicted",
        "clv_predicted_by_segment",
        "clv_model_fit",
        "clv_holdout_check",
    } <= set(marts)
    assert not any(marts["customer_clv_predicted"].values())


def test_bookkeeping_columns_are_left_out_and_must_be_true_or_false() -> None:
    # A mart's bookkeeping (the stamp and inputs of the build that wrote a row: DECISIONLOG "Customer state
    # is a model") is documented like any column and left out like personal data.
    def manifest_with(meta: dict[str, Any]) -> dict[str, Any]:
        columns = {"id": {"name": "id"}, "_built_at": {"name": "_built_at", "config": {"meta": meta}}}
        node = {"resource_type": "model", "schema": "marts", "name": "fct_a", "columns": columns,
                "original_file_path": "models/marts/fct_a.sql"}  # fmt: skip
        return {"nodes": {"model.p.fct_a": node}}

    assert declared_columns(manifest_with({"bookkeeping": True})) == {"fct_a": {"id": False, "_built_at": True}}
    assert declared_columns(manifest_with({"bookkeeping": False})) == {"fct_a": {"id": False, "_built_at": False}}
    with pytest.raises(ServingError, match=r"fct_a\._built_at has meta bookkeeping: 'yes'"):
        declared_columns(manifest_with({"bookkeeping": "yes"}))
