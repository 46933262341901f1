"""The layout rules of the repository, checked on the source tree (no imports of the code under test).

- Only ``dagster_project/`` imports Dagster: every other package is a plain library a script, a test or
  another orchestrator can use.
- Data flows one way: a package imports only packages of the layers below it (``LAYERS``).
- ``tests/`` mirrors the package tree, and no test module imports another test module (shared helpers
  live in ``tests/helpers/`` or in fixtures).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# Each package, with the first-party packages it may import. A package missing here fails the test, so
# a new home is a decision written down, not an accident.
LAYERS: dict[str, set[str]] = {
    "core": set(),
    "ingestion": {"core"},
    "demo": {"core", "ingestion"},
    "transform": {"core"},
    "quality": {"core", "ingestion"},
    "serving": {"core", "transform"},
    "reporting": {"core"},
    "prediction": {"core"},
    "dagster_project": {
        "core", "ingestion", "transform", "quality", "serving", "reporting", "demo", "prediction",
    },
}  # fmt: skip
FIRST_PARTY = set(LAYERS) | {"tests", "scripts"}
TEST_ONLY_DIRS = {"helpers", "scripts"}  # tests/helpers: shared helpers; tests/scripts: the benchmarks


def _python_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*.py") if "__pycache__" not in p.parts)


def _imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def _top(module: str) -> str:
    return module.split(".")[0]


def test_every_top_level_package_has_a_declared_layer() -> None:
    packages = {p.parent.name for p in ROOT.glob("*/__init__.py")} - {"tests"}
    assert packages == set(LAYERS), "declare the new package's layer in LAYERS (or remove it)"


@pytest.mark.parametrize("package", sorted(set(LAYERS) - {"dagster_project"}))
def test_no_module_outside_dagster_project_imports_dagster(package: str) -> None:
    offenders = [
        f"{path.relative_to(ROOT)}: {module}"
        for path in _python_files(ROOT / package)
        for module in _imported_modules(path)
        if _top(module) in ("dagster", "dagster_dbt", "dagster_webserver")
    ]
    assert not offenders, offenders


@pytest.mark.parametrize("package", sorted(LAYERS))
def test_packages_import_only_the_layers_below(package: str) -> None:
    allowed = LAYERS[package] | {package}
    offenders = [
        f"{path.relative_to(ROOT)} imports {module}"
        for path in _python_files(ROOT / package)
        for module in _imported_modules(path)
        if _top(module) in FIRST_PARTY and _top(module) not in allowed
    ]
    assert not offenders, offenders


def test_dbt_python_models_import_no_repository_package() -> None:
    models = _python_files(ROOT / "dbt" / "models")
    offenders = [
        f"{path.relative_to(ROOT)} imports {module}"
        for path in models
        for module in _imported_modules(path)
        if _top(module) in FIRST_PARTY
    ]
    assert models and not offenders, offenders


def test_tests_mirror_the_package_tree() -> None:
    top_dirs = {p.name for p in (ROOT / "tests").iterdir() if p.is_dir() and p.name != "__pycache__"}
    assert top_dirs - TEST_ONLY_DIRS <= set(LAYERS) | {"dbt"}, (
        "tests/<dir> must be named after the package it tests (or dbt/ for the dbt project)"
    )


def test_no_test_module_imports_another_test_module() -> None:
    offenders = []
    for path in _python_files(ROOT / "tests"):
        for module in _imported_modules(path):
            if _top(module) == "tests" and module.split(".")[-1].startswith("test_"):
                offenders.append(f"{path.relative_to(ROOT)} imports {module}")
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.level > 0 and (node.module or "").startswith("test_"):
                offenders.append(f"{path.relative_to(ROOT)} imports .{node.module}")
    assert not offenders, offenders
