"""dim_customers and customer_pii are incremental: a build rewrites only the customers whose inputs changed
since its last build, deletes the customers that are gone, and then equals a full rebuild.

The hand-written identity world (tests/helpers/identity_scenario.py), with Fan, a member in two WeChat apps
and no orders, goes through seven days and a key change, each an incremental ``dbt build`` followed by a full rebuild of
both models in a copy of the warehouse. Each day's change reaches the models by another path:
  1. the same data again: nothing to rewrite (then a stored identifier count set wrong: that row again);
  2. the merge file: Chen (C0000000002) and Dong (C0000000003) merge, C0000000003 goes (new orders,
     identifiers that move);
  3. Fan's wxB member row exported again with a level and points (only the record's observations are new);
  4. Chen's Tmall order T9 exported again with another address (the same);
  5. Fan's wxA row again without her unionid: she splits in two (only the identity map says so);
  6. Chen's phone typed on six new receipts, each with its own card: the phone becomes a hub (Chen loses
     it, receipt R2 loses its customer), six card-only customers appear;
  7. as_of moved back to 2025-01-04: customers without an order by then lose their order totals (only
     the stored rows say so).
A last build under another hash key rewrites everyone with the new key's hashes.

Which rows a build rewrote is read from `_built_at` (the rows stamped after the newest stamp before that
build, so a build that rewrote nothing shows none); what each day must rewrite is written here by hand
from the scenario, and every value checked is computed by hand or by
Python's own HMAC.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import shutil
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from core.secrets import HASH_KEY_ENV
from tests.helpers.identity_dbt import IDENTITY_MARTS, UPSTREAM_PATHS
from tests.helpers.identity_raw_rows import LOADED_AT, insert_raw, open_warehouse, ts
from tests.helpers.identity_scenario import load_base, load_merge_file
from transform.dbt import run_dbt, vars_arg

pytestmark = pytest.mark.e2e

MODELS = {"dim_customers": "marts", "customer_pii": "restricted"}
BOOKKEEPING = ["_built_at", "_built_settings"]
ANA, CHEN, DONG = "C0000000001", "C0000000002", "C0000000003"
FAN = "C0000000011"  # first seen 2025-01-20, after the store-phone cards
CARD_CUSTOMERS = {f"C00000000{n:02d}" for n in range(4, 11)}  # M10..M16 behind the store phone
KEY = "a-test-deployment-key"


def rows(data_dir: Path, model: str) -> pd.DataFrame:
    with duckdb.connect(str(data_dir / "warehouse.duckdb"), read_only=True) as con:
        frame = con.execute(f"select * from {MODELS[model]}.{model}").df()
    return frame.sort_values("customer_id").reset_index(drop=True)


def rewritten(data_dir: Path, model: str, since: pd.Timestamp) -> set[str]:
    """The customers whose row a build stamped after `since` (the newest stamp before that build)."""
    frame = rows(data_dir, model)
    return set(frame.loc[frame["_built_at"] > since, "customer_id"])


def assert_rewrote(data_dir: Path, since: pd.Timestamp, expected: set[str]) -> None:
    """Both models rewrote the expected customers; the order state restamps its first customer (Ana) on
    every build (its as_of marker), so she may be rewritten too."""
    for model in MODELS:
        found = rewritten(data_dir, model, since)
        assert expected <= found <= expected | {ANA}, (model, sorted(found))


def build(data_dir: Path, work: Path, *extra: str) -> pd.Timestamp | None:
    """One day: the identity tests' dbt build (both models, everything upstream, the data tests of all but
    the staging and order models), with extra arguments (vars). Returns the newest stamp of both models
    before it (None before the first build)."""
    since = None
    if (data_dir / "warehouse.duckdb").exists():
        with duckdb.connect(str(data_dir / "warehouse.duckdb"), read_only=True) as con:
            if con.execute(
                "select count(*) from duckdb_tables() where table_name = 'dim_customers'"
            ).fetchone()[0]:
                since = max(
                    con.execute(f"select max(_built_at) from {schema}.{model}").fetchone()[0]
                    for model, schema in MODELS.items()
                )
    excluded = ["resource_type:unit_test", *(f"{path},resource_type:test" for path in UPSTREAM_PATHS)]
    run_dbt(
        ["build", "--select", *IDENTITY_MARTS.split(), "--exclude", *excluded, *extra, "-q"],
        data_dir=data_dir,
        target_path=work / "target",
    )
    return since


def assert_equals_full_rebuild(data_dir: Path, work: Path, *extra: str) -> None:
    """Both models equal a full rebuild (of a copy of the warehouse), bookkeeping aside."""
    copy = work / "rebuilt"
    shutil.rmtree(copy, ignore_errors=True)
    copy.mkdir(parents=True)
    for name in ("warehouse.duckdb", "warehouse.duckdb.wal"):  # a file's last writes may be in its WAL
        if (data_dir / name).exists():
            shutil.copy2(data_dir / name, copy / name)
    run_dbt(
        ["run", "--select", *MODELS, "--full-refresh", *extra, "-q"],
        data_dir=copy,
        target_path=work / "target_rebuilt",
    )
    for model in MODELS:
        drop = [column for column in BOOKKEEPING if column in rows(copy, model)]
        pd.testing.assert_frame_equal(
            rows(data_dir, model).drop(columns=drop), rows(copy, model).drop(columns=drop), obj=model
        )


def hmac_hex(key: str, value: str) -> str:
    return hmac.new(key.encode(), value.encode(), hashlib.sha256).hexdigest()


def member(
    openid: str, app_id: str, unionid: str | None, registered_at: str, day: int, **extra: object
) -> dict:
    """Fan's member row in one app, loaded `day` days after the base files."""
    return {
        "openid": openid,
        "unionid": unionid,
        "app_id": app_id,
        "registered_at": ts(registered_at),
        "follow_status": "关注",
        "_loaded_at": LOADED_AT + dt.timedelta(days=day),
        **extra,
    }


def load(data_dir: Path, source: str, file_name: str, raw_rows: list[dict]) -> None:
    with duckdb.connect(str(data_dir / "warehouse.duckdb")) as con:
        insert_raw(con, source, file_name, raw_rows)


@pytest.fixture()
def world(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path]:
    """The identity world plus Fan, a member in two apps joined by her unionid, without orders."""
    monkeypatch.setenv(HASH_KEY_ENV, KEY)
    data_dir, work = tmp_path / "data", tmp_path / "dbt"
    with open_warehouse(data_dir) as con:
        load_base(con)
        insert_raw(con, "wechat_members", "members_fan.csv", [
            member("oF1", "wxA", "uFan", "2025-01-20 09:00:00", 0, phone="13500000005", phone_masked=False),
            member("oF2", "wxB", "uFan", "2025-01-21 09:00:00", 0),
        ])  # fmt: skip
    build(data_dir, work)
    return data_dir, work


def test_a_day_rewrites_the_changed_customers_and_equals_a_full_rebuild(
    world: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    data_dir, work = world
    first = rows(data_dir, "dim_customers")
    assert set(first["customer_id"]) == {ANA, CHEN, DONG, FAN, *CARD_CUSTOMERS}
    assert first["_built_at"].nunique() == 1
    assert first.set_index("customer_id").loc[CHEN, "phone_hash"] == hmac_hex(KEY, "13700000002")

    # 1. the same data again
    since = build(data_dir, work)
    assert_rewrote(data_dir, since, set())
    assert_equals_full_rebuild(data_dir, work)

    # a stored row whose identifier count no longer matches, as an identifier that turned from hub into node
    # again inside its customer (its kept map row unchanged, nothing stamped) would leave it: recomputed
    card_customer = min(CARD_CUSTOMERS)
    with duckdb.connect(str(data_dir / "warehouse.duckdb")) as con:
        con.execute(
            "update marts.dim_customers set identifier_count = 2 where customer_id = ?", [card_customer]
        )
    since = build(data_dir, work)
    assert_rewrote(data_dir, since, {card_customer})
    assert (
        rows(data_dir, "dim_customers").set_index("customer_id").loc[card_customer, "identifier_count"] == 1
    )

    # 2. the merge file: Tmall T9 by dong_nick with Chen's phone
    with duckdb.connect(str(data_dir / "warehouse.duckdb")) as con:
        load_merge_file(con)
    since = build(data_dir, work)
    dim = rows(data_dir, "dim_customers").set_index("customer_id")
    assert DONG not in dim.index and DONG not in set(rows(data_dir, "customer_pii")["customer_id"])
    assert_rewrote(data_dir, since, {CHEN})
    assert (dim.loc[CHEN, "purchase_count"], dim.loc[CHEN, "identifier_count"]) == (3, 3)
    pii = rows(data_dir, "customer_pii").set_index("customer_id")
    assert (pii.loc[CHEN, "name"], pii.loc[CHEN, "address"]) == ("收货人T9", "上海市T9")  # the latest order's
    assert_equals_full_rebuild(data_dir, work)

    # 3. Fan's wxB member row exported again with a level and points: no identifier, order or customer changes
    load(
        data_dir,
        "wechat_members",
        "members_fan_2.csv",
        [member("oF2", "wxB", "uFan", "2025-01-21 09:00:00", 2, member_level="银卡", points=300)],
    )
    since = build(data_dir, work)
    assert_rewrote(data_dir, since, {FAN})
    dim = rows(data_dir, "dim_customers").set_index("customer_id")
    assert (dim.loc[FAN, "points"], dim.loc[FAN, "member_level"]) == (300, "银卡")
    assert_equals_full_rebuild(data_dir, work)

    # 4. T9 exported again with another address: the order's amounts and customer stay
    with duckdb.connect(str(data_dir / "warehouse.duckdb"), read_only=True) as con:
        t9 = (
            con.execute(
                "select * exclude (_file_sha256, _file_name, _row_number, _extra, _loaded_at) "
                "from raw.tmall where order_id = 'T9'"
            )
            .df()
            .to_dict("records")[0]
        )
    load(
        data_dir,
        "tmall",
        "tmall_2025-02_again.csv",
        [{**t9, "receiver_address": "北京市T9", "_loaded_at": LOADED_AT + dt.timedelta(days=3)}],
    )
    since = build(data_dir, work)
    assert_rewrote(data_dir, since, {CHEN})
    assert rows(data_dir, "customer_pii").set_index("customer_id").loc[CHEN, "address"] == "北京市T9"
    assert_equals_full_rebuild(data_dir, work)

    # 5. Fan's wxA row exported again without the unionid: her two apps split into two customers, one keeps
    # her id (each side holds two identifiers: the tie goes to the side with the smaller node id)
    load(data_dir, "wechat_members", "members_fan_3.csv", [
        member("oF1", "wxA", None, "2025-01-20 09:00:00", 4, phone="13500000005", phone_masked=False),
    ])  # fmt: skip
    since = build(data_dir, work)
    dim = rows(data_dir, "dim_customers").set_index("customer_id")
    split_off = set(dim.index) - {ANA, CHEN, FAN, *CARD_CUSTOMERS}
    assert len(split_off) == 1 and dim.loc[[FAN, *split_off], "identifier_count"].tolist() == [2, 2]
    assert_rewrote(data_dir, since, {FAN} | split_off)
    assert_equals_full_rebuild(data_dir, work)

    # 6. Chen's phone on six new receipts, each with its own card: a hub now
    load(data_dir, "pos", "pos_2025-02.csv", [
        {"receipt_no": f"R2{i}", "receipt_type": "销售", "store_code": "S01", "store_name": "静安店",
         "sold_at": ts("2025-02-02 10:00:00"), "member_card": f"M2{i}", "phone": "13700000002",
         "phone_masked": False, "sku_code": "SKU1", "sku_name": "面霜", "quantity": 1, "unit_price": 10.0,
         "discount_amount": 0, "paid_amount": 10.0, "payment_method": "微信",
         "_loaded_at": LOADED_AT + dt.timedelta(days=5)}
        for i in range(6)
    ])  # fmt: skip
    since = build(data_dir, work)
    dim = rows(data_dir, "dim_customers").set_index("customer_id")
    new_cards = set(dim.index) - {ANA, CHEN, FAN, *split_off, *CARD_CUSTOMERS}
    assert len(new_cards) == 6 and set(dim.loc[sorted(new_cards), "member_card"]) == {
        f"M2{i}" for i in range(6)
    }
    # Chen keeps the nick and the OAID, loses the phone and R2 (a hub-only receipt now): T2 and T9 remain
    assert (dim.loc[CHEN, "identifier_count"], dim.loc[CHEN, "purchase_count"]) == (2, 2)
    assert pd.isna(dim.loc[CHEN, "phone_hash"])
    assert_rewrote(data_dir, since, {CHEN} | new_cards)
    assert_equals_full_rebuild(data_dir, work)

    # 7. as_of moved back to 2025-01-04: only Ana (R1 2025-01-01, P1 2025-01-06 after) has an order by
    # then; the others lose their order totals
    as_of = vars_arg({"as_of": "2025-01-04"})
    since = build(data_dir, work, *as_of)
    dim = rows(data_dir, "dim_customers").set_index("customer_id")
    assert dim.loc[ANA, "purchase_count"] == 1
    assert (dim.drop(index=ANA)["purchase_count"] == 0).all() and dim.drop(index=ANA)["channels"].isna().all()
    assert_rewrote(data_dir, since, {CHEN, *CARD_CUSTOMERS, *new_cards})  # everyone who had orders
    assert_equals_full_rebuild(data_dir, work, *as_of)

    # another key (a rotated secret): every row again, hashed with it
    monkeypatch.setenv(HASH_KEY_ENV, "another-deployment-key")
    since = build(data_dir, work, *as_of)
    dim = rows(data_dir, "dim_customers").set_index("customer_id")
    assert rewritten(data_dir, "dim_customers", since) == set(dim.index)
    assert dim.loc[ANA, "phone_hash"] == hmac_hex("another-deployment-key", "13900000001")
    assert_equals_full_rebuild(data_dir, work, *as_of)
