"""The committed Great Expectations file context (``expectations/gx``) and the gates it holds.

One pandas data source ``warehouse`` with one dataframe asset and one whole-dataframe batch definition
per raw table; per source a suite ``raw__<source>``, a validation definition ``raw__<source>`` and a
checkpoint ``raw__<source>``. All of them are committed; :func:`ensure_gates` is get-or-add only, so on a
fresh clone it finds everything and writes nothing.

Run artefacts (validation results, data docs) never go to the repository: ``great_expectations.yml``
points those stores at ``${REPURCHASE_GX_RUNTIME_DIR}``, which :func:`open_context` sets to
``<data dir>/gx`` (data docs in ``<data dir>/gx/data_docs``). Analytics are disabled
(``GX_ANALYTICS_ENABLED=false`` before GX is imported, and ``analytics_enabled: false`` in the config): the
machine has no internet.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from core.paths import REPO_ROOT, SOURCES, DataPaths

from .suites import build_suite, comparable, suite_name

if TYPE_CHECKING:
    import pandas as pd
    from great_expectations.checkpoint.checkpoint import CheckpointResult
    from great_expectations.data_context import FileDataContext

EXPECTATIONS_DIR = REPO_ROOT / "expectations"
GX_DIR = EXPECTATIONS_DIR / "gx"
RUNTIME_DIR_ENV = "REPURCHASE_GX_RUNTIME_DIR"
DATASOURCE_NAME = "warehouse"
BATCH_DEFINITION_NAME = "whole_table"
DATA_DOCS_SITE = "local_site"
# Stored validation results kept per suite (one per gate run; older ones are deleted after each run).
KEEP_VALIDATION_RUNS = 30
# Failing rows are named by file and row, so a person can open the export and find them.
INDEX_COLUMNS = ["_file_name", "_row_number"]
RESULT_FORMAT: dict[str, Any] = {
    "result_format": "SUMMARY",
    "partial_unexpected_count": 10,
    "unexpected_index_column_names": INDEX_COLUMNS,
}


def runtime_dir(paths: DataPaths) -> Path:
    """Where GX writes validation results and data docs for this data directory."""
    return paths.root / "gx"


def open_context(paths: DataPaths, project_dir: Path = EXPECTATIONS_DIR) -> FileDataContext:
    """The file context of ``project_dir`` with its run artefacts under ``runtime_dir(paths)``."""
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    target = runtime_dir(paths)
    target.mkdir(parents=True, exist_ok=True)
    os.environ[RUNTIME_DIR_ENV] = str(target)
    import great_expectations as gx

    return gx.get_context(mode="file", project_root_dir=str(project_dir))


def _get_or_add(factory: Any, name: str, build: Any) -> Any:
    from great_expectations.exceptions import DataContextError

    try:
        return factory.get(name)
    except (DataContextError, KeyError, ValueError):
        return factory.add(build())


@dataclass(frozen=True)
class Gate:
    source: str
    checkpoint_name: str


def ensure_gates(context: FileDataContext, sources: tuple[str, ...] = SOURCES) -> dict[str, Gate]:
    """Get (or add when missing: never update) the data source, assets, suites, validation definitions
    and checkpoints of ``sources``."""
    import great_expectations as gx

    try:
        datasource = context.data_sources.get(DATASOURCE_NAME)
    except (KeyError, ValueError):
        datasource = context.data_sources.add_pandas(DATASOURCE_NAME)
    gates: dict[str, Gate] = {}
    for source in sources:
        name = suite_name(source)
        try:
            asset = datasource.get_asset(name)
        except LookupError:
            asset = datasource.add_dataframe_asset(name)
        try:
            batch = asset.get_batch_definition(BATCH_DEFINITION_NAME)
        except (KeyError, ValueError, LookupError):
            batch = asset.add_batch_definition_whole_dataframe(BATCH_DEFINITION_NAME)
        suite = _get_or_add(context.suites, name, lambda s=source: build_suite(s))
        definition = _get_or_add(
            context.validation_definitions,
            name,
            lambda n=name, b=batch, s=suite: gx.ValidationDefinition(name=n, data=b, suite=s),
        )
        _get_or_add(
            context.checkpoints,
            name,
            lambda n=name, d=definition: gx.Checkpoint(
                name=n, validation_definitions=[d], actions=[], result_format=RESULT_FORMAT
            ),
        )
        gates[source] = Gate(source=source, checkpoint_name=name)
    return gates


def suite_drift(context: FileDataContext, source: str) -> list[str]:
    """How the stored suite of ``source`` differs from the code's (empty when identical)."""
    stored = [comparable(e) for e in context.suites.get(suite_name(source)).expectations]
    wanted = [comparable(e) for e in build_suite(source).expectations]
    problems = []
    for i in range(max(len(stored), len(wanted))):
        have = stored[i] if i < len(stored) else None
        want = wanted[i] if i < len(wanted) else None
        if have != want:
            problems.append(f"{suite_name(source)} expectation {i}: stored {have} != code {want}")
    return problems


def update_suite(context: FileDataContext, source: str) -> bool:
    """Deliberately rewrite the stored suite of ``source`` to the code's expectations (keeping the suite
    id and the ids of unchanged expectations). Returns whether anything changed. For maintainers after
    editing ``gx_suites``; never called by the pipeline."""
    if not suite_drift(context, source):
        return False
    suite = context.suites.get(suite_name(source))
    stored = {_key(e): e for e in suite.expectations}
    new = []
    for expectation in build_suite(source).expectations:
        kept = stored.get(_key(expectation))
        if kept is not None:
            expectation.id = kept.id
        new.append(expectation)
    suite.expectations = new
    suite.save()
    return True


def _key(expectation: Any) -> str:
    import json

    return json.dumps(comparable(expectation), sort_keys=True, ensure_ascii=False, default=str)


def run_gate(
    context: FileDataContext, source: str, frame: pd.DataFrame, parameters: Mapping[str, Any]
) -> CheckpointResult:
    """Run the checkpoint ``raw__<source>`` on ``frame`` with the suite parameters."""
    checkpoint = context.checkpoints.get(suite_name(source))
    return checkpoint.run(batch_parameters={"dataframe": frame}, expectation_parameters=dict(parameters))


def prune_validation_results(paths: DataPaths, source: str, keep: int | None = None) -> int:
    """Delete all but the newest ``keep`` (default KEEP_VALIDATION_RUNS) stored validation results of ``raw__<source>``; returns how many
    runs were deleted. GX stores one folder per run under ``validations/<suite>/<batch>/<run time>/`` (the
    run time, ``YYYYMMDDTHHMMSS.ffffffZ``, sorts chronologically); a daily refresh would otherwise grow
    that folder forever."""
    keep = KEEP_VALIDATION_RUNS if keep is None else keep
    suite_dir = runtime_dir(paths) / "validations" / suite_name(source)
    if not suite_dir.is_dir():
        return 0
    deleted = 0
    for batch_dir in (d for d in suite_dir.iterdir() if d.is_dir()):
        runs = sorted((d for d in batch_dir.iterdir() if d.is_dir()), key=lambda d: d.name)
        for old in runs[: max(len(runs) - keep, 0)]:
            shutil.rmtree(old, ignore_errors=True)
            deleted += 1
    return deleted


def build_data_docs(context: FileDataContext) -> Path:
    """Build the data docs site (suites and every stored validation result); returns its index.html."""
    context.build_data_docs(site_names=[DATA_DOCS_SITE])
    return Path(os.environ[RUNTIME_DIR_ENV]) / "data_docs" / "index.html"
