"""Landing-folder sensor: when files appear or change under ``landing/<source>/``, refresh those sources
and everything downstream of them.

The cursor is a JSON object ``{"<source>/<file>": [size_bytes, mtime_ns]}`` of the files already acted
on. The sensor only looks at the file system: it never opens the DuckDB warehouse, whose write lock a
running pipeline may hold. A file modified less than ``settle_seconds`` ago may still be being copied; it
is left for a later tick.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from dagster import (
    AssetKey,
    AssetsDefinition,
    AssetSelection,
    DefaultSensorStatus,
    JobDefinition,
    RunRequest,
    SensorDefinition,
    SensorEvaluationContext,
    SkipReason,
    sensor,
)

from core.paths import SOURCES

from .assets.ingestion import raw_asset_key
from .resources import WarehouseResource

if TYPE_CHECKING:
    # What `define_asset_job` returns has no public name in Dagster 1.13; only the type checker reads it
    # (annotations are strings here), so no private module is imported at run time.
    from dagster._core.definitions.unresolved_asset_job_definition import UnresolvedAssetJobDefinition

LANDING_SENSOR = "landing_files"
FileState = tuple[int, int]  # (size in bytes, mtime in ns)


def _ignored(path: Path) -> bool:
    """Hidden files and editors' lock/partial files are not exports."""
    name = path.name
    return name.startswith((".", "~$")) or name.endswith((".part", ".crdownload", ".tmp"))


def scan_landing(
    landing: Path, *, settle_seconds: float = 0.0, now: float | None = None
) -> dict[str, FileState]:
    """Every settled file under ``landing/<source>/`` (known sources only), keyed ``<source>/<relative path>``."""
    now = time.time() if now is None else now
    state: dict[str, FileState] = {}
    for source in SOURCES:
        folder = landing / source
        if not folder.is_dir():
            continue
        for path in folder.rglob("*"):
            if not path.is_file() or _ignored(path):
                continue
            stat = path.stat()
            if now - stat.st_mtime < settle_seconds:
                continue
            state[path.relative_to(landing).as_posix()] = (stat.st_size, stat.st_mtime_ns)
    return state


def parse_cursor(cursor: str | None) -> dict[str, FileState]:
    if not cursor:
        return {}
    return {path: (int(size), int(mtime)) for path, (size, mtime) in json.loads(cursor).items()}


def changed_files(previous: dict[str, FileState], current: dict[str, FileState]) -> list[str]:
    """Files that are new or whose size or mtime changed since the cursor, sorted."""
    return sorted(path for path, state in current.items() if previous.get(path) != state)


def build_landing_sensor(
    job: JobDefinition | UnresolvedAssetJobDefinition,
    assets: Sequence[AssetsDefinition],
    *,
    settle_seconds: float = 5.0,
    minimum_interval_seconds: int = 30,
    default_status: DefaultSensorStatus = DefaultSensorStatus.STOPPED,
) -> SensorDefinition:
    """A sensor requesting a run of ``job`` for the ingestion assets of the sources whose landing folder
    changed, plus every asset downstream of them (resolved over ``assets``)."""

    executable = {key for assets_def in assets if assets_def.is_executable for key in assets_def.keys}

    def downstream_of(sources: Sequence[str]) -> list[AssetKey]:
        selection = AssetSelection.assets(*(raw_asset_key(s) for s in sources)).downstream()
        keys = selection.resolve(assets) & executable
        return sorted(keys, key=lambda key: key.to_user_string())

    @sensor(
        name=LANDING_SENSOR,
        job=job,
        minimum_interval_seconds=minimum_interval_seconds,
        default_status=default_status,
        description=(
            "Watches landing/<source>/ and refreshes the sources whose files appeared or changed, "
            "plus everything downstream. Never opens the warehouse."
        ),
    )
    def landing_files(context: SensorEvaluationContext, warehouse: WarehouseResource):
        landing = warehouse.paths.landing
        previous = parse_cursor(context.cursor)
        current = scan_landing(landing, settle_seconds=settle_seconds)
        changed = changed_files(previous, current)
        if not changed:
            return SkipReason(f"no new or changed file under {landing}")
        sources = sorted({path.split("/", 1)[0] for path in changed})
        fingerprint = json.dumps([[path, *current[path]] for path in changed])
        context.update_cursor(json.dumps(current, sort_keys=True))
        context.log.info(f"{len(changed)} new or changed file(s) in {', '.join(sources)}")
        return RunRequest(
            run_key=hashlib.sha256(fingerprint.encode()).hexdigest()[:32],
            asset_selection=downstream_of(sources),
            tags={"repurchase/trigger": LANDING_SENSOR, "repurchase/sources": ",".join(sources)},
        )

    return landing_files
