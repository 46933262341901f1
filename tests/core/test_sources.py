"""The source registry (core/sources.py) and everything that must agree with it: the source names, the raw
tables, the adapters, the dbt sources, staging models and order channels."""

from __future__ import annotations

import dataclasses

import pytest
import yaml

from core.paths import REPO_ROOT, SOURCES
from core.sources import (
    MONEY,
    REGISTRY,
    Column,
    Freshness,
    OrderChannel,
    PhoneColumn,
    get_source,
    order_channels,
)
from ingestion.adapters import ADAPTERS
from ingestion.schemas import CANONICAL

DBT = REPO_ROOT / "dbt"


def test_sources_are_the_registry_in_its_order() -> None:
    assert SOURCES == ("pos", "tmall", "jd", "wechat_members", "wechat_pay", "touches")
    assert SOURCES == tuple(source.name for source in REGISTRY)
    assert list(CANONICAL) == list(SOURCES)
    assert CANONICAL["tmall"]["total_amount"] == MONEY
    assert get_source("jd").event_time == "ordered_at"
    with pytest.raises(ValueError, match="unknown source 'fax'"):
        get_source("fax")


def test_freshness_defaults_a_merchant_can_live_with() -> None:
    # Order feeds warn after 3 days (a weekend is quiet) and block after 35 (a monthly exporter never is);
    # the member snapshot warns after 14, blocks after 100; campaign logs warn after 30, never block.
    thresholds = {s.name: (s.freshness.warn_after_days, s.freshness.error_after_days) for s in REGISTRY}
    assert thresholds == {
        "pos": (3, 35),
        "tmall": (3, 35),
        "jd": (3, 35),
        "wechat_members": (14, 100),
        "wechat_pay": (3, 35),
        "touches": (30, None),
    }
    with pytest.raises(ValueError, match="warn_after_days must be below"):
        Freshness(error_after_days=14, warn_after_days=14)
    with pytest.raises(ValueError, match="positive whole days"):
        Freshness(error_after_days=0)
    assert Freshness(error_after_days=None, warn_after_days=400).error_after_days is None  # never blocks


def test_an_entry_naming_a_column_it_does_not_have_is_refused() -> None:
    pos = get_source("pos")
    with pytest.raises(ValueError, match=r"rules name columns it does not have: \['sold_on'\]"):
        dataclasses.replace(pos, event_time="sold_on")
    with pytest.raises(ValueError, match="rules name columns it does not have"):
        dataclasses.replace(pos, phone_columns=(PhoneColumn("phone", when=("kind", "phone")),))
    with pytest.raises(ValueError, match="rules name columns it does not have"):
        dataclasses.replace(pos, order=OrderChannel(channel="pos", natural_key="order_no"))
    with pytest.raises(ValueError, match=r"money bounds on non-money columns \['quantity'\]"):
        dataclasses.replace(pos, money_bounds={"quantity": (0, 10)})
    with pytest.raises(ValueError, match="unknown DuckDB type"):
        Column("x", "TEXT")


def test_every_source_has_an_adapter_writing_its_canonical_columns() -> None:
    assert list(ADAPTERS) == list(SOURCES)
    for source in REGISTRY:
        adapter = ADAPTERS[source.name]
        assert adapter.source == source.name
        canonical = set(source.column_types)
        for column in adapter.columns:
            assert column.name in canonical, (source.name, column.name)
            if column.kind == "phone":
                assert {f"{column.name}_masked", f"{column.name}_issue"} <= canonical
            if column.kind == "masked":
                assert f"{column.name}_masked" in canonical


def test_adapters_know_the_registry_status_values() -> None:
    for source in REGISTRY:
        known = {c.name: c.known_values for c in ADAPTERS[source.name].columns if c.known_values}
        assert known == {c: v for c, v in source.status_sets.items() if c in known}, source.name
    # touches map native spellings onto the registry's canonical values
    from ingestion.adapters import touches

    spec = get_source("touches")
    assert tuple(touches.EVENT_TYPES) == spec.status_set("event_type")
    assert tuple(touches.RECIPIENT_TYPES) == spec.status_set("recipient_type")
    assert touches.CHANNELS == spec.status_set("channel")
    assert set(touches.EVENT_TYPE_SPELLINGS) == set(spec.status_set("event_type"))


# (staging model, its Jinja mapping's name, source, registry column): the native values the loader accepts
# without a note must each be mapped to an English label by staging, or they become 'unknown' there (a JD
# 已完成 order would not count as a purchase).
STAGING_MAPPINGS = [
    ("staging/jd/stg_jd__order_lines.sql", "order_statuses", "jd", "order_status"),
    ("staging/tmall/stg_tmall__orders.sql", "order_statuses", "tmall", "order_status"),
    ("staging/wechat_members/stg_wechat_members__members.sql", "follow_statuses", "wechat_members", "follow_status"),
]


@pytest.mark.parametrize(("model", "mapping", "source", "column"), STAGING_MAPPINGS)
def test_staging_maps_every_value_the_registry_knows(model: str, mapping: str, source: str, column: str) -> None:
    import ast
    import re

    sql = (REPO_ROOT / "dbt" / "models" / model).read_text(encoding="utf-8")
    found = re.search(r"\{%-?\s*set " + mapping + r" = (\{.*?\})\s*-?%\}", sql, flags=re.S)
    assert found, f"{model}: no `set {mapping} = {{...}}`"
    mapped = ast.literal_eval(found.group(1))
    known = get_source(source).status_set(column)
    assert set(known) <= set(mapped), (model, sorted(set(known) - set(mapped)))


def test_rows_the_adapters_quarantine_for_an_empty_value_are_not_null_in_the_registry() -> None:
    # A column the adapter must fill on every loaded row is one the gate can require not null.
    for source in REGISTRY:
        row_required = {c.name for c in ADAPTERS[source.name].columns if c.row_required}
        assert row_required <= set(source.not_null), source.name


def test_dbt_raw_sources_and_staging_models_follow_the_registry() -> None:
    sources_yml = yaml.safe_load((DBT / "models" / "staging" / "_raw__sources.yml").read_text("utf-8"))
    [raw] = [s for s in sources_yml["sources"] if s["name"] == "raw"]
    tables = [t["name"] for t in raw["tables"] if not t["name"].startswith("_")]
    assert tables == list(SOURCES)
    for source in REGISTRY:
        model = DBT / "models" / "staging" / source.name / f"{source.staging_model}.sql"
        assert model.is_file(), model
        assert "source('raw', '" + source.name + "')" in model.read_text("utf-8")


def test_dbt_order_channels_are_the_registry_order_channels() -> None:
    project = yaml.safe_load((DBT / "dbt_project.yml").read_text("utf-8"))
    assert project["vars"]["order_channels"] == order_channels()
    assert order_channels() == [
        {"channel": "pos", "source": "pos", "key": "receipt_no", "has_lines": True},
        {"channel": "tmall", "source": "tmall", "key": "order_id", "has_lines": False},
        {"channel": "jd", "source": "jd", "key": "order_id", "has_lines": True},
        {"channel": "wechat", "source": "wechat_pay", "key": "out_trade_no", "has_lines": False},
    ]


def test_the_order_lines_model_reads_the_channels_with_lines() -> None:
    """int_order_lines_unioned's hooks take their channels from the var (no list written in the model), and
    its body unions exactly the channels the registry says have item lines."""
    text = (DBT / "models" / "intermediate" / "orders" / "int_order_lines_unioned.sql").read_text("utf-8")
    config = text.split("{#-", 1)[0]
    assert config.count("order_line_channels()") == 3 and "'pos'" not in config
    for spec in order_channels():
        assert (f"'{spec['channel']}' as channel" in text) == spec["has_lines"], spec


@pytest.mark.parametrize("macro", ["orders_incremental.sql", "identity_incremental.sql"])
def test_incremental_macros_take_the_order_channels_from_the_var(macro: str) -> None:
    text = (DBT / "macros" / macro).read_text("utf-8")
    assert "order_channels()" in text
    for spec in order_channels():
        if spec["channel"] == "pos":  # the POS return links are POS's own logic
            continue
        assert f"'{spec['channel']}'" not in text and f"'{spec['source']}'" not in text, spec
