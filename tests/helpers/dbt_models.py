"""Load a dbt Python model's file as a module, so tests can call its pure functions directly."""

from __future__ import annotations

import importlib.util
from types import ModuleType

from transform.dbt import DBT_PROJECT_DIR


def load_python_model(relative_path: str) -> ModuleType:
    """The module of ``dbt/<relative_path>`` (e.g. ``models/intermediate/identity/x.py``), named after the
    file. The model's ``model(dbt, session)`` is not called: only its module-level code runs."""
    path = DBT_PROJECT_DIR / relative_path
    spec = importlib.util.spec_from_file_location(path.stem, path)
    assert spec and spec.loader, path
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
