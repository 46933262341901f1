"""Connected components over integer-encoded identity edges: the pure functions of the dbt Python model
int_identity_components, loaded from its file."""

from __future__ import annotations

import duckdb
import numpy as np
import pytest

from tests.helpers.dbt_models import load_python_model

components_model = load_python_model("models/intermediate/identity/int_identity_components.py")
component_ids = components_model.component_ids
component_labels = components_model.component_labels
components_relation = components_model.components_relation


def test_component_labels_are_the_smallest_node_of_each_component() -> None:
    # 0-3-5 chain, 1-4 pair, 2 alone, 6-6 self loop
    src = np.array([5, 3, 4, 6])
    dst = np.array([3, 0, 1, 6])
    labels = component_labels(7, src, dst)
    assert labels.tolist() == [0, 1, 2, 0, 1, 0, 6]


def test_component_labels_without_edges_and_without_nodes() -> None:
    assert component_labels(3, np.array([], dtype=np.int64), np.array([], dtype=np.int64)).tolist() == [0, 1, 2]
    assert component_labels(0, np.array([], dtype=np.int64), np.array([], dtype=np.int64)).tolist() == []


def test_component_labels_reject_edges_outside_the_nodes() -> None:
    with pytest.raises(ValueError, match="outside 0..2"):
        component_labels(3, np.array([0]), np.array([3]))


def test_component_ids_name_each_component_by_its_smallest_node_id() -> None:
    # ids: 10-30-50 chain (via 30), 20-40 pair, 60 alone
    nodes, components = component_ids(
        np.array([50, 10, 40, 60, 20, 30], dtype=np.uint64),
        np.array([50, 40, 30], dtype=np.uint64),
        np.array([30, 20, 10], dtype=np.uint64),
    )
    assert nodes.tolist() == [10, 20, 30, 40, 50, 60]
    assert components.tolist() == [10, 20, 10, 20, 10, 60]


def test_component_ids_refuse_edges_to_unknown_nodes() -> None:
    with pytest.raises(ValueError, match="1 edge endpoint"):
        component_ids(np.array([1, 2], dtype=np.uint64), np.array([1], dtype=np.uint64), np.array([3], dtype=np.uint64))


def test_component_ids_refuse_a_repeated_node_id() -> None:
    # int_identity_components has no uniqueness data test: this check is what stops a repeated node
    with pytest.raises(ValueError, match="node ids are not unique"):
        component_ids(np.array([4, 9, 4], dtype=np.uint64), np.array([], dtype=np.uint64), np.array([], dtype=np.uint64))


def test_components_relation_reads_duckdb_relations() -> None:
    con = duckdb.connect()
    nodes = con.sql("select * from (values (7::ubigint), (3::ubigint), (5::ubigint)) as t(identifier_id)")
    edges = con.sql("select * from (values (7::ubigint, 5::ubigint)) as t(from_id, to_id)")
    table = components_relation(con, nodes, edges)
    assert table.column("identifier_id").to_pylist() == [3, 5, 7]
    assert table.column("component_id").to_pylist() == [3, 5, 5]


def test_component_ids_look_edge_ends_up_on_the_given_connection_and_leave_nothing_behind() -> None:
    # 4-2 and 2-8 link 2, 4, 8; 6 alone; the lookup runs on the model's connection, registering its two
    # arrays only for the query
    con = duckdb.connect()
    nodes, components = component_ids(
        np.array([8, 6, 4, 2], dtype=np.uint64),
        np.array([4, 2], dtype=np.uint64),
        np.array([2, 8], dtype=np.uint64),
        con,
    )
    assert nodes.tolist() == [2, 4, 6, 8]
    assert components.tolist() == [2, 2, 6, 2]
    assert con.execute("select count(*) from duckdb_views() where not internal").fetchone()[0] == 0
    assert con.execute("select count(*) from duckdb_tables()").fetchone()[0] == 0
