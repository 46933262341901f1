"""Connected components of the identity graph (nodes: non-hub identifiers; edges: same-record links).

Runs inside DuckDB's process: integer node ids are pulled as numpy arrays, scipy labels the
components; one row per node with component_id = the smallest node id of its component, so the same
graph always gives the same labels.
"""

from identity.components import components_relation


def model(dbt, session):
    dbt.config(materialized="table")
    nodes = dbt.ref("int_identity_nodes").select("identifier_id")
    edges = dbt.ref("int_identity_edges").select("from_id, to_id")
    return components_relation(session, nodes, edges)
