"""Connected components of the identity graph (nodes: non-hub identifiers; edges: same-record links).

Runs inside DuckDB's process, vectorised end to end: the 64-bit node ids (hashes of identifier keys,
computed in DuckDB) are pulled as numpy arrays and encoded to 0..n-1 (sort + searchsorted),
``scipy.sparse.csgraph.connected_components`` labels the components, and each component is named by the
smallest node id it holds, so the same graph always gives the same labels whatever order scipy visits it
in. One row per node. No Python loop per row.

The functions below are pure and imported by the tests (tests/dbt/identity/test_identity_components.py)
straight from this file, as the A/B statistics model's are.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
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
    # Smallest node index per scipy label: assigning in descending node order leaves the smallest last.
    first = np.empty(labels.max() + 1, dtype=np.int64)
    first[labels[::-1]] = np.arange(n_nodes - 1, -1, -1, dtype=np.int64)
    return first[labels]


def node_indexes(nodes: np.ndarray, wanted: np.ndarray) -> tuple[np.ndarray, int]:
    """Index of each ``wanted`` id in the sorted unique ``nodes``, and how many ids are not nodes.

    The ids are looked up in ascending order (searchsorted on sorted needles walks both arrays once
    instead of jumping around 3M nodes per edge: ~3x faster at bench scale), then put back in place.
    The order of equal ids does not matter (they get one index), so the sort need not be stable:
    numpy's default introsort takes half the time of its stable sort on 3M ids.
    """
    order = np.argsort(wanted)
    ordered = wanted[order]
    found = np.searchsorted(nodes, ordered)
    inside = found < nodes.size
    unknown = int((~inside).sum()) + int((nodes[found[inside]] != ordered[inside]).sum())
    indexes = np.empty_like(found)
    indexes[order] = found
    return indexes, unknown


def component_ids(node_ids: np.ndarray, from_ids: np.ndarray, to_ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For unique integer ``node_ids`` and edges between them, return (sorted node ids, component ids).

    A component id is the smallest node id in the component. Edges naming an id that is not a node
    are an error (a hub or rejected identifier leaking into edges).
    """
    nodes = np.sort(np.asarray(node_ids))
    if nodes.size > 1 and (nodes[1:] == nodes[:-1]).any():
        raise ValueError("node ids are not unique")
    from_ids, to_ids = np.asarray(from_ids), np.asarray(to_ids)
    if from_ids.shape != to_ids.shape:
        raise ValueError(f"edge arrays differ in length: {from_ids.shape[0]} sources, {to_ids.shape[0]} targets")
    endpoints, unknown = node_indexes(nodes, np.concatenate([from_ids, to_ids]))
    src, dst = endpoints[: from_ids.size], endpoints[from_ids.size :]
    if unknown:
        raise ValueError(f"{unknown} edge endpoint(s) are not identity nodes (hub or rejected value in edges)")
    labels = component_labels(nodes.size, src.astype(np.int64), dst.astype(np.int64))
    return nodes, nodes[labels]


def components_relation(
    con,
    nodes,
    edges,
) -> pa.Table:
    """Return a pyarrow table (identifier_id, component_id) for every node.

    ``nodes`` has a column ``identifier_id`` (unique integers); ``edges`` has ``from_id`` and ``to_id``.
    """
    node_ids = nodes.fetchnumpy()["identifier_id"]
    edge_arrays = edges.fetchnumpy()
    ids, components = component_ids(node_ids, edge_arrays["from_id"], edge_arrays["to_id"])
    return pa.table({"identifier_id": ids, "component_id": components})


def model(dbt, session):
    dbt.config(materialized="table")
    nodes = dbt.ref("int_identity_nodes").select("identifier_id")
    edges = dbt.ref("int_identity_edges").select("from_id, to_id")
    return components_relation(session, nodes, edges)
