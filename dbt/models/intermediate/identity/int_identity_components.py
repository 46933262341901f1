"""Connected components of the identity graph (nodes: non-hub identifiers; edges: same-record links).

Runs inside DuckDB's process, vectorised end to end: the 64-bit node ids (hashes of identifier keys,
computed in DuckDB) are pulled as numpy arrays and encoded to 0..n-1 (their sorted order; DuckDB's hash
join gives each edge end its index),
``scipy.sparse.csgraph.connected_components`` labels the components, and each component is named by the
smallest node id it holds, so the same graph always gives the same labels whatever order scipy visits it
in. One row per node. No Python loop per row.

The functions below are pure and imported by the tests (tests/dbt/identity/test_identity_components.py)
straight from this file, as the A/B statistics model's are.
"""

from __future__ import annotations

import duckdb
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


def edge_indexes(con, nodes: np.ndarray, from_ids: np.ndarray, to_ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Both ends of each edge as indexes into the sorted unique ``nodes`` (-1 for an id that is not a node).

    DuckDB's hash join of the edges with the numbered nodes does the lookup: on 3M nodes and 1.5M edges
    it took 0.3 s where numpy's sort of the 3M endpoints and binary search took 0.9 s (bench_identity's
    data). Each row pairs an edge's two ends; the edges' order is not kept (it does not matter).
    """
    name = f"identity_edges_{id(nodes):x}"
    numbered = pa.table({
        "identifier_id": pa.array(nodes),
        "node_index": pa.array(np.arange(nodes.size, dtype=np.int64)),
    })
    edges = pa.table({"from_id": pa.array(from_ids), "to_id": pa.array(to_ids)})
    con.register(f"{name}_nodes", numbered)
    con.register(f"{name}_edges", edges)
    try:
        ends = con.sql(f"""
            select
                coalesce(from_node.node_index, -1) as src,
                coalesce(to_node.node_index, -1) as dst
            from {name}_edges as edges
            left join {name}_nodes as from_node
                on from_node.identifier_id = edges.from_id
            left join {name}_nodes as to_node
                on to_node.identifier_id = edges.to_id
        """).fetchnumpy()
    finally:
        con.unregister(f"{name}_nodes")
        con.unregister(f"{name}_edges")
    return np.asarray(ends["src"], dtype=np.int64), np.asarray(ends["dst"], dtype=np.int64)


def component_ids(
    node_ids: np.ndarray, from_ids: np.ndarray, to_ids: np.ndarray, con=None
) -> tuple[np.ndarray, np.ndarray]:
    """For unique integer ``node_ids`` and edges between them, return (sorted node ids, component ids).

    A component id is the smallest node id in the component. Edges naming an id that is not a node
    are an error (a hub or rejected identifier leaking into edges). ``con`` is the DuckDB connection that
    looks the edge ends up (an in-memory one when none is given).
    """
    nodes = np.sort(np.asarray(node_ids))
    if nodes.size > 1 and (nodes[1:] == nodes[:-1]).any():
        raise ValueError("node ids are not unique")
    from_ids, to_ids = np.asarray(from_ids), np.asarray(to_ids)
    if from_ids.shape != to_ids.shape:
        raise ValueError(f"edge arrays differ in length: {from_ids.shape[0]} sources, {to_ids.shape[0]} targets")
    src, dst = edge_indexes(con if con is not None else duckdb.connect(), nodes, from_ids, to_ids)
    unknown = int((src < 0).sum() + (dst < 0).sum())
    if unknown:
        raise ValueError(f"{unknown} edge endpoint(s) are not identity nodes (hub or rejected value in edges)")
    labels = component_labels(nodes.size, src, dst)
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
    ids, components = component_ids(node_ids, edge_arrays["from_id"], edge_arrays["to_id"], con)
    return pa.table({"identifier_id": ids, "component_id": components})


def changed_identifiers(con, since) -> None:
    """Into temp table identity_components_changed: the identifiers of every record whose observations were
    written or retracted after ``since``, or that shows an identifier whose hub status changed since then
    (the same set int_identity_edges recomputes the edges of)."""
    con.execute(
        """
        create or replace temp table identity_components_changed as
        select distinct identifier_id
        from identity_components__candidates
        where identifier_id is not null
            and record_id in (
                select record_id from identity_components__candidates where _built_at > $since
                union
                select record_id from identity_components__candidates
                where retracted_at is null
                    and identifier_id in (
                        select identifier_id from identity_components__hubs where _built_at > $since
                    )
            )
        """,
        {"since": since},
    )


def affected_part(con, this: str) -> None:
    """Into temp table identity_components_part: the nodes a build labels again.

    The changed identifiers' stored components are taken whole (a lost link can split one), with the
    changed identifiers themselves (a new node has no stored component). Then, until nothing is added,
    every node an edge of the part reaches is added, with its stored component (a new link can join two).
    The part is then closed under today's edges: labelling it alone gives each of its nodes the component
    that labelling the whole graph gives it, and no other node's component changed.
    """
    con.execute(
        f"""
        create or replace temp table identity_components_part as
        select identifier_id from {this}
        where component_id in (
            select component_id from {this}
            where identifier_id in (select identifier_id from identity_components_changed)
        )
        union
        select identifier_id from identity_components_changed
        """
    )
    while True:
        ((added,),) = con.execute(
            f"""
            insert into identity_components_part
            with reached as (
                select edges.to_id as identifier_id
                from identity_components__edges as edges
                where edges.from_id in (select identifier_id from identity_components_part)
                union
                select edges.from_id
                from identity_components__edges as edges
                where edges.to_id in (select identifier_id from identity_components_part)
            )
            select identifier_id from (
                select identifier_id from reached
                union
                select stored.identifier_id
                from {this} as stored
                where stored.component_id in (
                    select component_id from {this}
                    where identifier_id in (select identifier_id from reached)
                )
            ) as candidates
            where identifier_id not in (select identifier_id from identity_components_part)
            """
        ).fetchall()
        if not added:
            return


def part_relation(con, stamp) -> pa.Table:
    """Labels of the part's nodes that are nodes today; the others (a vanished node) with no component,
    which replaces the stored row and which the model's post-hook drops."""
    nodes = con.sql(
        "select identifier_id from identity_components__nodes "
        "where identifier_id in (select identifier_id from identity_components_part)"
    )
    edges = con.sql(
        "select from_id, to_id from identity_components__edges "
        "where from_id in (select identifier_id from identity_components_part) "
        "or to_id in (select identifier_id from identity_components_part)"
    )
    labelled = components_relation(con, nodes, edges)
    gone = con.execute(
        "select identifier_id from identity_components_part "
        "where identifier_id not in (select identifier_id from identity_components__nodes)"
    ).fetchnumpy()["identifier_id"]
    ids = np.concatenate([labelled["identifier_id"].to_numpy(), np.asarray(gone, dtype=np.uint64)])
    components = pa.array(
        np.concatenate([labelled["component_id"].to_numpy(), np.zeros(gone.size, dtype=np.uint64)]),
        mask=np.concatenate([np.zeros(labelled.num_rows, dtype=bool), np.ones(gone.size, dtype=bool)]),
    )
    return stamped(pa.table({"identifier_id": pa.array(ids), "component_id": components}), stamp)


def stamped(table: pa.Table, stamp) -> pa.Table:
    """The table with a ``_built_at`` column of ``stamp`` on every row. Arrow repeats the one value: a
    Python list of it took 0.58 s for 3M nodes (identity bench), a third of the model's first build."""
    column = pa.repeat(pa.scalar(stamp, type=pa.timestamp("us")), table.num_rows)
    return table.append_column("_built_at", column)


def model(dbt, session):
    # Incremental on DuckDB (this model runs there only; Spark builds its SQL twin as a table): a build
    # labels again only the part of the graph its changes reach, and equals a full labelling.
    dbt.config(
        materialized="incremental",
        incremental_strategy="delete+insert",
        unique_key="identifier_id",
        on_schema_change="append_new_columns",
    )
    inputs = {
        "nodes": dbt.ref("int_identity_nodes"),
        "edges": dbt.ref("int_identity_edges"),
        "candidates": dbt.ref("int_identifier_candidates"),
        "hubs": dbt.ref("int_identity_hubs"),
    }
    for name, relation in inputs.items():
        relation.create_view(f"identity_components__{name}", replace=True)
    try:
        # the rows' stamp: the newest upstream change they reflect (a build that changes nothing writes none)
        (stamp,) = session.execute(
            "select greatest((select max(_built_at) from identity_components__candidates), "
            "(select max(_built_at) from identity_components__hubs))"
        ).fetchall()[0]
        this = f"{dbt.this}"
        # a stored table written before it had stamps (an upgraded warehouse) is labelled again in full
        stamped_before = dbt.is_incremental and any(
            name == "_built_at" for (name, *_) in session.execute(f"describe {this}").fetchall()
        )
        since = session.execute(f"select max(_built_at) from {this}").fetchall()[0][0] if stamped_before else None
        if since is None:
            labelled = stamped(
                components_relation(
                    session,
                    session.sql("select identifier_id from identity_components__nodes"),
                    session.sql("select from_id, to_id from identity_components__edges"),
                ),
                stamp,
            )
        else:
            changed_identifiers(session, since)
            affected_part(session, this)
            labelled = part_relation(session, stamp)
    finally:
        for name in inputs:
            session.execute(f"drop view if exists identity_components__{name}")
        session.execute("drop table if exists identity_components_changed")
        session.execute("drop table if exists identity_components_part")
    return labelled
