"""Connected components of the identity graph (nodes: non-hub identifiers; edges: same-record links).

Runs inside DuckDB's process: keys are integer-encoded in SQL, scipy labels the components, the result
is one row per node with component_id = the 0-based rank (by identifier_key) of the component's first
node, so the same graph always gives the same labels.
"""

from identity.components import components_relation


def model(dbt, session):
    dbt.config(materialized="table")
    nodes = dbt.ref("int_identity_nodes")
    edges = dbt.ref("int_identity_edges")
    return components_relation(session, nodes.select("identifier_key"), edges.select("from_key, to_key"))
