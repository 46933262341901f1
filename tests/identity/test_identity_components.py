"""connected components over integer-encoded identity edges."""

from __future__ import annotations

import duckdb
import numpy as np
import pytest

from identity.components import component_labels, components_relation


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


def test_components_relation_chain_openid_unionid_phone_is_one_component() -> None:
    con = duckdb.connect()
    nodes = con.sql(
        "select * from (values ('openid:oB1'), ('unionid:uAna'), ('openid:oA1'), ('phone:13900000001'),"
        " ('member_card:M001'), ('phone:13700000002')) as t(identifier_key)"
    )
    edges = con.sql(
        "select * from (values ('openid:oB1', 'unionid:uAna'), ('phone:13900000001', 'unionid:uAna'),"
        " ('openid:oA1', 'phone:13900000001'), ('member_card:M001', 'phone:13900000001'))"
        " as t(from_key, to_key)"
    )
    table = components_relation(con, nodes, edges)
    got = dict(zip(table.column("identifier_key").to_pylist(), table.column("component_id").to_pylist()))
    # sorted keys: member_card:M001(0) openid:oA1(1) openid:oB1(2) phone:137..(3) phone:139..(4) unionid(5)
    assert got == {
        "member_card:M001": 0, "openid:oA1": 0, "openid:oB1": 0, "phone:13900000001": 0, "unionid:uAna": 0,
        "phone:13700000002": 3,
    }


def test_components_relation_refuses_edges_to_unknown_nodes() -> None:
    con = duckdb.connect()
    nodes = con.sql("select * from (values ('phone:13900000001')) as t(identifier_key)")
    edges = con.sql("select * from (values ('phone:13900000001', 'phone:13912345678')) as t(from_key, to_key)")
    with pytest.raises(ValueError, match="1 edge endpoint"):
        components_relation(con, nodes, edges)
