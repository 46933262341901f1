"""Pure-Python ingestion library: readers, normalisers, adapters, the DuckDB loader and the demo generator.

Never imports dagster: everything here is testable and usable on its own.
"""
