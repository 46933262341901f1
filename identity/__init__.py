"""Identity resolution helpers that need more than SQL: connected components over identity edges.

The rules (what is an identifier, what is a hub, which identifiers link) live in the dbt SQL models under
``dbt/models/intermediate/identity``; this package only turns the resulting graph into components.
"""

from identity.components import component_labels, components_relation

__all__ = ["component_labels", "components_relation"]
