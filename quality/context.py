"""The run-time Great Expectations file context of a data directory and the gates it holds.

Nothing of it is committed: code is the single source of truth (``core/sources.py`` and
``quality/suites.py``). :func:`open_context` writes the context's configuration (:data:`GX_CONFIG`) to
``<data dir>/gx/great_expectations.yml``; :func:`ensure_gates` writes, from code, one pandas data source
``warehouse`` with one dataframe asset and one whole-dataframe batch definition per raw table, and per
source the suite ``raw__<source>``, its validation definition and its checkpoint (add-or-update: the
stored copies always equal the code). Validation results (``<data dir>/gx/validations``) and data docs
(``<data dir>/gx/data_docs``) live beside them. Analytics are disabled (``GX_ANALYTICS_ENABLED=false``
before GX is imported, and ``analytics_enabled: false`` in the config): the machine has no internet.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from core.paths import SOURCES, DataPaths

from .offline_docs import make_offline
from .suites import build_suite, suite_name

if TYPE_CHECKING:
    import pandas as pd
    from great_expectations.checkpoint.checkpoint import CheckpointResult
    from great_expectations.data_context import FileDataContext

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
# The context's configuration, rewritten on every open (data sources are added by ensure_gates). Store
# directories are relative to the context's root, <data dir>/gx.
GX_CONFIG = f"""\
# Written by quality/context.py on every open: edit GX_CONFIG there, not this file.
config_version: 4.0
stores:
  expectations_store:
    class_name: ExpectationsStore
    store_backend:
      class_name: TupleFilesystemStoreBackend
      base_directory: expectations/
  validation_results_store:
    class_name: ValidationResultsStore
    store_backend:
      class_name: TupleFilesystemStoreBackend
      base_directory: validations/
  checkpoint_store:
    class_name: CheckpointStore
    store_backend:
      class_name: TupleFilesystemStoreBackend
      suppress_store_backend_id: true
      base_directory: checkpoints/
  validation_definition_store:
    class_name: ValidationDefinitionStore
    store_backend:
      class_name: TupleFilesystemStoreBackend
      base_directory: validation_definitions/
expectations_store_name: expectations_store
validation_results_store_name: validation_results_store
checkpoint_store_name: checkpoint_store
data_docs_sites:
  {DATA_DOCS_SITE}:
    class_name: SiteBuilder
    show_how_to_buttons: false
    store_backend:
      class_name: TupleFilesystemStoreBackend
      base_directory: data_docs/
    site_index_builder:
      class_name: DefaultSiteIndexBuilder
analytics_enabled: false
progress_bars:
  globally: false
  metric_calculations: false
"""


def runtime_dir(paths: DataPaths) -> Path:
    """Where GX writes validation results and data docs for this data directory."""
    return paths.root / "gx"


def open_context(paths: DataPaths) -> FileDataContext:
    """The file context under ``runtime_dir(paths)``, its configuration written from :data:`GX_CONFIG`
    (call :func:`ensure_gates` before using a gate)."""
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    root = runtime_dir(paths)
    root.mkdir(parents=True, exist_ok=True)
    (root / "great_expectations.yml").write_text(GX_CONFIG, encoding="utf-8")
    import great_expectations as gx

    return gx.get_context(mode="file", context_root_dir=str(root))


@dataclass(frozen=True)
class Gate:
    source: str
    checkpoint_name: str


def ensure_gates(context: FileDataContext, sources: tuple[str, ...] = SOURCES) -> dict[str, Gate]:
    """Write the gates of ``sources`` into ``context`` from code: the data source and its assets (added
    when missing), and each suite, validation definition and checkpoint (added or updated, so the stored
    copies equal what :func:`quality.suites.build_suite` builds now)."""
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
        suite = context.suites.add_or_update(build_suite(source))
        definition = context.validation_definitions.add_or_update(
            gx.ValidationDefinition(name=name, data=batch, suite=suite)
        )
        context.checkpoints.add_or_update(
            gx.Checkpoint(name=name, validation_definitions=[definition], actions=[], result_format=RESULT_FORMAT)
        )
        gates[source] = Gate(source=source, checkpoint_name=name)
    return gates


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
    """Build the data docs site (suites and every stored validation result) so that it opens offline
    (:func:`quality.offline_docs.make_offline`); returns its index.html. Raises if a page still loads
    something from the internet (a GX upgrade added a CDN URL that ``ASSETS`` does not map)."""
    context.build_data_docs(site_names=[DATA_DOCS_SITE])
    site = Path(context.root_directory) / "data_docs"
    still_external = make_offline(site)
    if still_external:
        raise RuntimeError(
            f"the GX data docs in {site} still load {sorted(still_external)} from the internet: vendor "
            "them in quality/offline_docs.py ASSETS and run `python -m quality.offline_docs --refresh`"
        )
    return site / "index.html"
