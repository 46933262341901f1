"""Where the repository's dbt project lives, and how its manifest is prepared.

Paths of code (the dbt project) resolve from this package's location, so the CLI works from any working
directory; paths of data (the warehouse, landing files) resolve from ``ingestion.paths`` (``./data``
relative to the working directory unless ``REPURCHASE_DATA_DIR``).

dagster-dbt builds its assets from dbt's ``manifest.json``, which a fresh clone does not have.
``prepare_dbt_manifest`` runs ``dbt parse`` to write it; the definitions call it at import time when the
manifest is missing, and the CLI calls it before every run so new models are always picked up.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from ingestion.paths import DATA_DIR_ENV, data_paths

REPO_ROOT = Path(__file__).resolve().parent.parent
DBT_PROJECT_DIR = REPO_ROOT / "dbt"
WORKSPACE_YAML = REPO_ROOT / "workspace.yaml"


class DbtManifestError(RuntimeError):
    """``dbt parse`` failed, so the Dagster definitions cannot be built."""


def dbt_target_path() -> Path:
    """dbt's target folder: ``$DBT_TARGET_PATH`` when set (absolute or relative to the dbt project), else
    ``dbt/target``."""
    configured = os.environ.get("DBT_TARGET_PATH")
    target = Path(configured) if configured else Path("target")
    return target if target.is_absolute() else DBT_PROJECT_DIR / target


def dbt_manifest_path() -> Path:
    return dbt_target_path() / "manifest.json"


def dbt_executable() -> str:
    """The ``dbt`` installed beside this Python (the project's virtualenv), else the one on PATH.

    A console script run as ``.venv/bin/repurchase`` does not have ``.venv/bin`` on PATH, so looking
    next to the interpreter first keeps the pinned dbt-core in use."""
    beside = Path(sys.executable).with_name("dbt")
    if beside.exists():
        return str(beside)
    found = shutil.which("dbt")
    if found is None:
        raise DbtManifestError(
            f"dbt executable not found beside {sys.executable} nor on PATH: install the project "
            "(make install) or activate its virtualenv."
        )
    return found


def dbt_env() -> dict[str, str]:
    """Environment for a dbt process: the current one with the data directory made absolute, so
    dbt's profile points at the same warehouse whatever dbt's working directory is."""
    return {**os.environ, DATA_DIR_ENV: str(data_paths().root)}


def prepare_dbt_manifest(*, force: bool = False) -> Path:
    """Run ``dbt parse`` to write ``manifest.json`` (always when ``force``, else only when missing).

    Returns the manifest path. Raises ``DbtManifestError`` with dbt's own messages when parsing fails.
    """
    manifest = dbt_manifest_path()
    if manifest.exists() and not force:
        return manifest
    target = dbt_target_path()
    command = [
        dbt_executable(),
        "parse",
        "--project-dir",
        str(DBT_PROJECT_DIR),
        "--profiles-dir",
        str(DBT_PROJECT_DIR),
        "--target-path",
        str(target),
    ]
    env = dbt_env()
    env.setdefault("DBT_LOG_PATH", str(target))
    env["DBT_SEND_ANONYMOUS_USAGE_STATS"] = "false"
    completed = subprocess.run(
        command, cwd=DBT_PROJECT_DIR, env=env, capture_output=True, text=True, check=False
    )
    if completed.returncode != 0 or not manifest.exists():
        output = "\n".join(part for part in (completed.stdout, completed.stderr) if part.strip())
        raise DbtManifestError(
            f"`dbt parse` of the dbt project at {DBT_PROJECT_DIR} failed (exit code "
            f"{completed.returncode}); the Dagster definitions need its manifest at {manifest}.\n"
            f"dbt said:\n{output.strip()[-4000:]}"
        )
    return manifest
