"""One adapter per landing source: native export → canonical frame + quarantined rows with reasons.

The adapter of source ``<name>`` (a registry entry, ``core/sources.py``) is the :class:`Adapter` subclass
with ``source = "<name>"`` in ``ingestion/adapters/<name>.py``.
"""

from __future__ import annotations

import importlib

from core.sources import SOURCE_NAMES
from ingestion.adapters.base import Adapter, Column, ParseResult
from ingestion.errors import FileRejected


def _adapter_of(source: str) -> Adapter:
    module = importlib.import_module(f"{__name__}.{source}")
    found = [
        obj
        for obj in vars(module).values()
        if isinstance(obj, type) and issubclass(obj, Adapter) and obj.source == source
    ]
    if len(found) != 1:
        raise ImportError(f"{module.__file__}: expected one Adapter subclass with source = {source!r}")
    return found[0]()


ADAPTERS: dict[str, Adapter] = {source: _adapter_of(source) for source in SOURCE_NAMES}


def get_adapter(source: str) -> Adapter:
    try:
        return ADAPTERS[source]
    except KeyError:
        raise ValueError(f"no adapter for source {source!r}; known: {', '.join(ADAPTERS)}") from None


__all__ = ["ADAPTERS", "Adapter", "Column", "FileRejected", "ParseResult", "get_adapter"]
