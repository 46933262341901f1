"""Connected components of the identity graph, vectorised end to end.

Nodes and edges are integer-encoded inside DuckDB (row numbers over the sorted identifier keys), pulled
as numpy arrays, and labelled with ``scipy.sparse.csgraph.connected_components``. Labels are made
deterministic: a component is labelled by the smallest node index it holds, so the same graph gives the
same labels whatever order scipy visits it in.
"""

from __future__ import annotations

import duckdb
import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components


def component_labels(n_nodes: int, src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """Label each of ``n_nodes`` nodes (0..n-1) with the smallest node index of its component.

    ``src``/``dst`` are equal-length integer arrays of undirected edges between node indexes.
    """
    if src.shape != dst.shape:
        raise ValueError(f"edge arrays differ in length: {src.shape[0]} sources, {dst.shape[0]} targets")
    if n_nodes == 0:
        return np.empty(0, dtype=np.int64)
    if src.size and (min(src.min(), dst.min()) < 0 or max(src.max(), dst.max()) >= n_nodes):
        raise ValueError(f"edge endpoint outside 0..{n_nodes - 1}")
    data = np.ones(src.shape[0], dtype=np.int8)
    graph = coo_matrix((data, (src, dst)), shape=(n_nodes, n_nodes)).tocsr()
    _, labels = connected_components(graph, directed=True, connection="weak", return_labels=True)
    # Smallest node index per scipy label, then map every node to it.
    first = np.full(labels.max() + 1, n_nodes, dtype=np.int64)
    np.minimum.at(first, labels, np.arange(n_nodes, dtype=np.int64))
    return first[labels]


def components_relation(
    con: duckdb.DuckDBPyConnection,
    nodes: duckdb.DuckDBPyRelation,
    edges: duckdb.DuckDBPyRelation,
):
    """Return a pyarrow table (identifier_key, component_id) for every node.

    ``nodes`` has a column ``identifier_key`` (unique); ``edges`` has ``from_key`` and ``to_key`` naming
    nodes. ``component_id`` is the 0-based rank (by identifier_key) of the component's first node.
    Edges naming a key that is not a node are an error (a hub or rejected identifier leaking into edges).
    """
    con.register("_identity_nodes_in", nodes)
    con.register("_identity_edges_in", edges)
    try:
        con.execute(
            """
            create or replace temp table _identity_node_index as
            select identifier_key, (row_number() over (order by identifier_key) - 1)::bigint as node_id
            from _identity_nodes_in
            """
        )
        n_nodes = con.execute("select count(*) from _identity_node_index").fetchone()[0]
        encoded = con.execute(
            """
            select f.node_id as src, t.node_id as dst
            from _identity_edges_in as e
            left join _identity_node_index as f on f.identifier_key = e.from_key
            left join _identity_node_index as t on t.identifier_key = e.to_key
            """
        ).fetchnumpy()
        src, dst = encoded["src"], encoded["dst"]
        if np.ma.isMaskedArray(src) or np.ma.isMaskedArray(dst):
            unknown = int(np.ma.count_masked(src) + np.ma.count_masked(dst))
            raise ValueError(f"{unknown} edge endpoint(s) are not identity nodes (hub or rejected value in edges)")
        labels = component_labels(int(n_nodes), np.asarray(src, dtype=np.int64), np.asarray(dst, dtype=np.int64))
        import pyarrow as pa

        con.register("_identity_labels", pa.table({"node_id": np.arange(n_nodes, dtype=np.int64), "component_id": labels}))
        return con.sql(
            """
            select n.identifier_key, l.component_id
            from _identity_node_index as n
            join _identity_labels as l using (node_id)
            """
        ).to_arrow_table()
    finally:
        for name in ("_identity_nodes_in", "_identity_edges_in", "_identity_labels"):
            try:
                con.unregister(name)
            except duckdb.Error:
                pass
        con.execute("drop table if exists _identity_node_index")
