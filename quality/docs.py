"""Build the GX data docs of the raw gates into ``<data dir>/gx/data_docs`` (``repurchase gx-docs``)."""

from __future__ import annotations

from pathlib import Path

from core.paths import DataPaths

from .context import build_data_docs, ensure_gates, open_context


def build_gx_docs(paths: DataPaths) -> Path:
    """Build the site from the suites as the code defines them (written into the data directory's GX
    context) and every validation result stored there; returns the path of its ``index.html``."""
    context = open_context(paths)
    ensure_gates(context)
    return build_data_docs(context)
