"""dbt twice on the same data gives the same customer ids; a file that joins two customers keeps the older id."""

from __future__ import annotations

import hashlib
from pathlib import Path

import duckdb
import pytest

from tests.helpers.identity_dbt import IDENTITY_MARTS, build_identity
from tests.helpers.identity_raw_rows import open_warehouse
from tests.helpers.identity_scenario import load_base, load_merge_file
from transform.dbt import run_dbt

# dbt on a warehouse: slow (not in `pytest -m "not e2e"`)
pytestmark = pytest.mark.e2e


# the incremental identity tables, as a full rebuild has them (build stamps aside; the hubs and record
# outcomes without the rows an incremental build keeps for what went: ex-hubs, records with no outcome)
INCREMENTAL_IDENTITY = {
    table: f"select {columns} from intermediate.{table} where {where} order by all"
    for table, columns, where in (
        # by name: an upgraded table gains its missing columns at the end
        ("int_identity_hubs", "identifier_id, identifier_key, identifier_type, degree, degree_neighbour_type, "
                              "is_hub, first_degree, hub_threshold", "is_hub or first_degree is not null"),
        ("int_identity_nodes", "* exclude (_built_at)", "true"),
        ("int_identity_edges", "* exclude (_built_at)", "true"),
        ("int_identity_components", "* exclude (_built_at)", "true"),
        ("int_customer_identifiers", "* exclude (_built_at)", "true"),
        ("int_record_identity_changes", "* exclude (_built_at)", "identity_status is not null"),
    )
}


def _build(data_dir: Path, work: Path, *, data_tests: bool = True) -> None:
    build_identity(data_dir, work / "target", data_tests=data_tests)


def _ids(data_dir: Path) -> dict[str, str]:
    con = duckdb.connect(str(data_dir / "warehouse.duckdb"))
    try:
        rows = con.execute("select identifier_key, customer_id from intermediate.int_customer_identifiers").fetchall()
    finally:
        con.close()
    return dict(rows)


def _query(data_dir: Path, sql: str) -> list[tuple]:
    con = duckdb.connect(str(data_dir / "warehouse.duckdb"))
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


@pytest.fixture()
def world(tmp_path: Path) -> tuple[Path, Path]:
    data_dir, work = tmp_path / "data", tmp_path / "dbt"
    con = open_warehouse(data_dir)
    load_base(con)
    con.close()
    return data_dir, work


def test_ids_are_stable_and_a_merge_keeps_the_older_id(world: tuple[Path, Path]) -> None:
    data_dir, work = world
    _build(data_dir, work)
    first = _ids(data_dir)
    # hand-computed: ids minted in first-seen order (see scenario.py)
    ana = {"phone:13900000001", "member_card:M001", "openid:oA1", "openid:oB1", "unionid:uAna",
           "email:ana@example.com"}
    assert {first[k] for k in ana} == {"C0000000001"}  # openid -> unionid -> phone chain: one customer
    assert first["phone:13700000002"] == "C0000000002"
    assert first["tmall_nick:dong_nick"] == first["tmall_oaid:oaidD"] == "C0000000003"
    # the store phone is a hub: its seven cards stay seven customers and the phone has none
    assert [first[f"member_card:M1{i}"] for i in range(7)] == [f"C00000000{n:02d}" for n in range(4, 11)]
    assert "phone:13912345678" not in first
    assert _query(data_dir, "select identifier_type, value_masked, degree from marts.identity_hubs") == [
        ("phone", "139****5678", 7)
    ]
    # masked-only Tmall orders T3, T4 get no customer but stay in revenue
    assert _query(
        data_dir,
        "select order_key, customer_id, identity_status, net_amount from marts.fct_orders"
        " where order_key in ('tmall:T3', 'tmall:T4') order by 1",
    ) == [("tmall:T3", None, "unusable_identifier", 30), ("tmall:T4", None, "unusable_identifier", 40)]

    _build(data_dir, work, data_tests=False)  # the same data again: the ids are the check (data tests ran above)
    assert _ids(data_dir) == first
    assert _query(data_dir, "select count(*) from marts.customer_merges") == [(0,)]

    con = duckdb.connect(str(data_dir / "warehouse.duckdb"))
    load_merge_file(con)
    con.close()
    _build(data_dir, work)
    after = _ids(data_dir)
    assert after["tmall_nick:dong_nick"] == after["tmall_oaid:oaidD"] == after["phone:13700000002"] == "C0000000002"
    assert {k: v for k, v in after.items() if k in first and first[k] != "C0000000003"} == {
        k: v for k, v in first.items() if v != "C0000000003"
    }
    merges = _query(
        data_dir,
        "select kept_id, retired_id, cause_link_types, cause_record_key, identifiers_moved from marts.customer_merges",
    )
    assert merges == [("C0000000002", "C0000000003", "tmall_nick-phone", "tmall:T9", 2)]
    dim = _query(
        data_dir,
        "select customer_id, channels, purchase_count, net_spend from marts.dim_customers"
        " where customer_id in ('C0000000002', 'C0000000003')",
    )
    assert dim == [("C0000000002", "pos,tmall", 3, 550)]

    # a further run on the same data records nothing new
    _build(data_dir, work, data_tests=False)
    assert _ids(data_dir) == after
    assert _query(data_dir, "select count(*) from marts.customer_merges") == [(1,)]

    # the incremental identity tables after the merge equal a full rebuild (the graph steps and the record
    # outcomes recompute only what the merge file changed; the map keeps its ids through full refreshes)
    incremental = {table: _query(data_dir, sql) for table, sql in INCREMENTAL_IDENTITY.items()}
    assert all(incremental.values())
    run_dbt(["run", "--select", IDENTITY_MARTS, "--full-refresh", "-q"], data_dir=data_dir, target_path=work / "target")
    assert {table: _query(data_dir, sql) for table, sql in INCREMENTAL_IDENTITY.items()} == incremental


def _key_id(key: str) -> int:
    """identity_key_id computed here: the first 8 bytes of the key's md5, read little-endian."""
    return int.from_bytes(hashlib.md5(key.encode()).digest()[:8], "little")


def test_the_maps_key_tests_count_a_written_key_against_every_row(world: tuple[Path, Path]) -> None:
    """The map's tests check the rows its last run wrote (newest updated_at), each key counted over every
    row: a written row repeating an older row's key fails, which dbt's `unique` over the written rows
    alone would pass."""
    data_dir, work = world
    _build(data_dir, work, data_tests=False)
    tested = run_dbt(["test", "--select", "customer_identifier_map", "-q"], data_dir=data_dir,
                     target_path=work / "target", check=False)
    assert tested.success, tested.output[-3000:]
    con = duckdb.connect(str(data_dir / "warehouse.duckdb"))
    # a later write of one key that left the older row in place (what delete+insert must never do)
    con.execute(
        "insert into intermediate.customer_identifier_map"
        " select * replace (updated_at + interval 1 day as updated_at)"
        " from intermediate.customer_identifier_map where identifier_key = 'phone:13700000002'"
    )
    con.close()
    tested = run_dbt(["test", "--select", "customer_identifier_map", "-q"], data_dir=data_dir,
                     target_path=work / "target", check=False)
    failed = sorted(r["unique_id"].split(".")[2] for r in tested.results() if r["status"] == "fail")
    assert failed == [
        "unique_of_checked_rows_customer_identifier_map___last_update____identifier_id",
        "unique_of_checked_rows_customer_identifier_map___last_update____identifier_key",
    ]


def test_relationships_tests_return_the_children_whose_parent_is_gone(world: tuple[Path, Path]) -> None:
    """The project's `relationships` test (macros/test_relationships.sql, DuckDB's SQL differs from dbt's)
    passes on a built warehouse and returns each child row whose parent row is gone: a customer deleted
    from dim_customers fails fct_orders' test with that customer's orders, a node deleted from
    int_identity_nodes the edge tests with that node's edges, each side counted here (the tests with
    fct_orders or the edges as child or parent: fct_order_lines' order keys too, which still pass)."""
    data_dir, work = world
    _build(data_dir, work, data_tests=False)
    selector = ["--select", "test_name:relationships,fct_orders", "test_name:relationships,int_identity_edges"]

    def tested() -> dict[str, tuple[str, int]]:
        run = run_dbt(["test", *selector, "-q"], data_dir=data_dir, target_path=work / "target", check=False)
        return {r["unique_id"].split(".")[2]: (r["status"], r["failures"]) for r in run.results()}

    # fct_orders has more rows than dim_customers: its test hashes the parents (DuckDB's branch of the
    # macro); the edges' tests check the last build's rows (a `where`: dbt's SQL)
    ((order_rows, customer_rows),) = _query(
        data_dir, "select (select count(*) from marts.fct_orders), (select count(*) from marts.dim_customers)"
    )
    assert order_rows > customer_rows
    before = tested()
    assert len(before) == 4 and all(status == "pass" for status, _ in before.values()), before
    ((customer_id, orders),) = _query(
        data_dir,
        "select customer_id, count(*) from marts.fct_orders where customer_id is not null"
        " group by customer_id order by count(*) desc, customer_id limit 1",
    )
    ((node_id, from_edges, to_edges),) = _query(
        data_dir,
        "select node, count(*) filter (where from_id = node), count(*) filter (where to_id = node)"
        " from intermediate.int_identity_edges, (select min(to_id) as node from intermediate.int_identity_edges)"
        " group by node",
    )
    assert orders > 0 and to_edges > 0
    con = duckdb.connect(str(data_dir / "warehouse.duckdb"))
    con.execute("delete from marts.dim_customers where customer_id = ?", [customer_id])
    con.execute("delete from intermediate.int_identity_nodes where identifier_id = ?", [node_id])
    con.close()
    after = tested()
    expected = {
        "relationships_fct_orders_customer_id__customer_id__ref_dim_customers_": orders,
        "relationships_fct_order_lines_order_key__order_key__ref_fct_orders_": 0,  # fct_orders untouched
        "relationships_int_identity_edges_from_id__identifier_id__ref_int_identity_nodes_": from_edges,
        "relationships_int_identity_edges_to_id__identifier_id__ref_int_identity_nodes_": to_edges,
    }
    assert {name: failures for name, (_, failures) in after.items()} == expected
    assert {name for name, (status, _) in after.items() if status == "fail"} == {
        name for name, failures in expected.items() if failures
    }


def test_a_map_written_before_identifier_id_keeps_its_ids(world: tuple[Path, Path]) -> None:
    """A warehouse whose map predates its identifier_id column gains the column on the next run, filled
    with each key's id, and no customer id changes (the map opts out of full refreshes)."""
    data_dir, work = world
    _build(data_dir, work, data_tests=False)
    before = _ids(data_dir)
    old_columns = "select * exclude (identifier_id) from intermediate.customer_identifier_map order by 1"
    map_before = _query(data_dir, old_columns)
    con = duckdb.connect(str(data_dir / "warehouse.duckdb"))
    con.execute("alter table intermediate.customer_identifier_map drop column identifier_id")  # the old layout
    con.close()

    _build(data_dir, work)  # with the data tests (unique, not_null identifier_id)
    assert _ids(data_dir) == before
    rows = _query(data_dir, "select identifier_key, identifier_id from intermediate.customer_identifier_map")
    assert len(rows) == len(map_before) > 0
    assert {key: identifier_id for key, identifier_id in rows} == {key: _key_id(key) for key, _ in rows}
    assert _query(data_dir, old_columns) == map_before  # no row rewritten


# what the identity chain's tables lacked before they recomputed only what a day changed (the stamps, the
# hubs' is_hub, the candidates' retracted_at)
ADDED_COLUMNS = {
    "int_identifier_candidates": ["retracted_at"],
    "int_identity_hubs": ["is_hub", "_built_at"],
    "int_identity_nodes": ["_built_at"],
    "int_identity_edges": ["_built_at"],
    "int_identity_components": ["_built_at"],
    "int_customer_identifiers": ["_built_at"],
}


def test_a_warehouse_built_before_the_incremental_graph_runs_on(world: tuple[Path, Path]) -> None:
    """A warehouse whose identity tables predate their stamps (an upgrade) needs no full refresh: the next
    run gains the columns (null: every stored observation live, every table to be recomputed), merges as a
    fresh warehouse does, and its tables equal a full rebuild."""
    data_dir, work = world
    _build(data_dir, work, data_tests=False)
    con = duckdb.connect(str(data_dir / "warehouse.duckdb"))
    for table, columns in ADDED_COLUMNS.items():
        for column in columns:
            con.execute(f"alter table intermediate.{table} drop column {column}")
    load_merge_file(con)
    con.close()

    _build(data_dir, work)  # with the data tests
    after = _ids(data_dir)
    assert after["tmall_nick:dong_nick"] == after["tmall_oaid:oaidD"] == after["phone:13700000002"] == "C0000000002"
    assert _query(data_dir, "select count(*) from intermediate.int_identifier_candidates where retracted_at is not null") == [(0,)]
    incremental = {table: _query(data_dir, sql) for table, sql in INCREMENTAL_IDENTITY.items()}
    run_dbt(["run", "--select", IDENTITY_MARTS, "--full-refresh", "-q"], data_dir=data_dir, target_path=work / "target")
    assert {table: _query(data_dir, sql) for table, sql in INCREMENTAL_IDENTITY.items()} == incremental
