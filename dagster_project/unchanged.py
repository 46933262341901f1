"""A run that could change nothing is not run: ``repurchase run`` with no new export costs seconds.

Everything a run computes is a function of its inputs: the exports in ``landing/``, the as_of, the code
and the dbt project, the deployment's settings (``REPURCHASE_*`` variables, the hash key), and, because
the raw gates judge how long ago each feed's newest file arrived, the freshness verdicts of today. After
a good run of ``repurchase run`` the CLI records those inputs (as digests: the hash key never leaves its
file) with what the run left: its id, the warehouse file's modification time and the serving version
it published. The next ``repurchase run`` computes its inputs first; when they are all equal and
nothing else wrote the warehouse or switched the serving copy since (a run from the UI, the schedule or
a backfill would have), the marts, exports, report and serving copy of the recorded run are what a new
run would produce: the CLI prints its summary again instead of starting Dagster (``--force`` runs
anyway). What is compared is deliberately cheap: file names, sizes and modification times, no content
hashing; any doubt (a touched file, a missing record) means a full run.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

from core.paths import REPO_ROOT, SOURCES, DataPaths

from .outcome import RunOutcome, SourceLoad

STATE_FILE = "last_good_run.json"
# The first-party code and the files that decide what it installs: a change to any of them re-runs.
CODE_PACKAGES = ("core", "ingestion", "quality", "transform", "serving", "reporting", "prediction",
                 "dagster_project")  # fmt: skip
CODE_FILES = ("pyproject.toml", "requirements.lock")
DBT_NOT_INPUTS = {"target", "logs", "dbt_packages"}
SETTINGS_PREFIX = "REPURCHASE_"
# Variables that name where things are or how a process is run, not what a run computes.
NOT_SETTINGS = {"REPURCHASE_DATA_DIR", "REPURCHASE_DBT_PARENT_PID", "REPURCHASE_AS_OF",
                "REPURCHASE_DBT_WAREHOUSE", "REPURCHASE_UI_SCREENSHOT"}  # fmt: skip


@dataclass(frozen=True)
class RunInputs:
    landing: str  # digest of every export's (path, size, mtime) under landing/
    as_of: str | None
    code: str  # digest of the first-party code and dbt project files (path, size, mtime)
    settings: str  # digest of the REPURCHASE_* settings and of the hash key
    freshness: dict[str, str]  # source -> verdict of the raw gate's freshness rule, judged now


def _digest(entries: list[tuple[str, ...]]) -> str:
    return hashlib.sha256(json.dumps(sorted(entries)).encode()).hexdigest()


def _files_digest(root: Path, files: list[Path]) -> str:
    entries = []
    for path in files:
        stat = path.stat()
        entries.append((path.relative_to(root).as_posix(), str(stat.st_size), str(stat.st_mtime_ns)))
    return _digest(entries)


def landing_files(paths: DataPaths) -> list[Path]:
    """Every file under ``landing/``, in any folder, hidden or not (whatever the loader would make of it:
    any change is a reason to run)."""
    return sorted(p for p in paths.landing.rglob("*") if p.is_file()) if paths.landing.is_dir() else []


def _code_files() -> list[Path]:
    files = [REPO_ROOT / name for name in CODE_FILES if (REPO_ROOT / name).is_file()]
    for package in CODE_PACKAGES:
        files += [p for p in (REPO_ROOT / package).rglob("*.py") if "__pycache__" not in p.parts]
    dbt_dir = REPO_ROOT / "dbt"
    for path in dbt_dir.rglob("*"):
        relative = path.relative_to(dbt_dir)
        if path.is_file() and not (relative.parts and relative.parts[0] in DBT_NOT_INPUTS):
            files.append(path)
    return files


def _settings_digest(paths: DataPaths) -> str:
    from core.secrets import hash_key

    settings = [
        (name, value)
        for name, value in os.environ.items()
        if name.startswith(SETTINGS_PREFIX) and name not in NOT_SETTINGS
    ]
    key = hashlib.sha256(hash_key(paths).encode()).hexdigest()
    return _digest([*settings, ("hash key sha256", key)])


def _freshness(paths: DataPaths) -> dict[str, str]:
    import duckdb

    from core.sources import get_source
    from quality.raw_frames import judge_freshness, newest_arrival, utc_now

    now = utc_now()
    with duckdb.connect(str(paths.warehouse), read_only=True) as con:
        return {
            source: judge_freshness(
                source, get_source(source).freshness, newest_arrival(con, source), now
            ).verdict
            for source in SOURCES
        }


def inputs_before_run(paths: DataPaths, as_of: str | None) -> RunInputs:
    """What a run reads, taken before it starts (a file landing during the run is not in it, so the next
    run sees it); the freshness verdicts are judged after it (:func:`record_good_run`), on what it loaded."""
    return RunInputs(
        landing=_files_digest(paths.landing, landing_files(paths)),
        as_of=as_of,
        code=_files_digest(REPO_ROOT, _code_files()),
        settings=_settings_digest(paths),
        freshness={},
    )


def current_inputs(paths: DataPaths, as_of: str | None) -> RunInputs | None:
    """The inputs a run would have now (None when there is no warehouse yet: then it must run)."""
    if not paths.warehouse.exists():
        return None
    return replace(inputs_before_run(paths, as_of), freshness=_freshness(paths))


def _serving_version(paths: DataPaths) -> str | None:
    from serving.publish import current_version

    return current_version(paths.serving)


def _warehouse_mtime(paths: DataPaths) -> int:
    return paths.warehouse.stat().st_mtime_ns


def record_good_run(paths: DataPaths, before: RunInputs, *, run_id: str, checks_passed: int) -> Path:
    """After a good run whose inputs were taken before it started (:func:`inputs_before_run`): what it
    read, today's freshness verdicts on what it loaded, and what it left."""
    state = {
        "inputs": asdict(replace(before, freshness=_freshness(paths))),
        "run_id": run_id,
        "checks_passed": checks_passed,
        "finished_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "warehouse_mtime_ns": _warehouse_mtime(paths),
        "serving_version": _serving_version(paths),
    }
    path = paths.dagster_home / STATE_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".tmp")
    partial.write_text(json.dumps(state, indent=2), encoding="utf-8")
    partial.replace(path)
    return path


def forget_good_run(paths: DataPaths) -> None:
    (paths.dagster_home / STATE_FILE).unlink(missing_ok=True)


def unchanged_since_good_run(paths: DataPaths, inputs: RunInputs | None) -> dict[str, Any] | None:
    """The recorded good run when a run with ``inputs`` could change nothing it left, else None."""
    path = paths.dagster_home / STATE_FILE
    if inputs is None or not path.exists():
        return None
    try:
        state = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if state.get("inputs") != asdict(inputs):
        return None
    if state.get("warehouse_mtime_ns") != _warehouse_mtime(paths):
        return None  # another run (UI, schedule, backfill) wrote the warehouse since
    if state.get("serving_version") != _serving_version(paths):
        return None
    return state


def recorded_outcome(paths: DataPaths, state: dict[str, Any]) -> RunOutcome:
    """The recorded run as the CLI summary prints it: nothing new loaded this time; per source, the files
    the manifest holds as loaded and the rows of its raw table."""
    import duckdb

    loads = {}
    with duckdb.connect(str(paths.warehouse), read_only=True) as con:
        for source in SOURCES:
            files = con.execute(
                "select count(*) from raw._files where source = ? and status = 'loaded'", [source]
            ).fetchone()[0]
            rows = con.execute(f'select count(*) from raw."{source}"').fetchone()[0]
            loads[source] = SourceLoad(source=source, files_already_loaded=files, table_rows=rows)
    return RunOutcome(
        run_id=state["run_id"], success=True, failed_steps={}, loads=loads,
        checks_passed=int(state.get("checks_passed", 0)), checks_failed=[],
    )  # fmt: skip
