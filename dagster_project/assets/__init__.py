"""Asset definitions: one ingestion asset per landing source, and the dbt project's models."""
