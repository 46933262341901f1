"""The one way this repository runs dbt: the project, its manifest, and every dbt command.

Everything that runs dbt goes through here: the Dagster asset (which hands :func:`build_args` and
:func:`dbt_env` to dagster-dbt's ``DbtCliResource`` so the models stream into the UI), the backfill, the
tests and the benchmarks (:func:`run_dbt`, a subprocess of the ``dbt`` beside this Python). Paths of code
(the dbt project) resolve from this file, so any working directory works; paths of data (the warehouse)
resolve from :mod:`core.paths` and reach dbt's profile through ``$REPURCHASE_DATA_DIR``.

dagster-dbt builds its assets from dbt's ``manifest.json``, which a fresh clone does not have.
:func:`prepare_dbt_manifest` is the one preparation path: it runs ``dbt parse`` when the manifest is
missing or older than any file of the dbt project (or when forced), and does nothing otherwise.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from core.paths import DATA_DIR_ENV, REPO_ROOT, data_paths
from core.secrets import install_hash_key_in

# EXECUTING_COMMANDS: dbt commands that run SQL on the warehouse (the keyed-hash key must be in place first).
from transform.dbt_child import EXECUTING_COMMANDS, RESULTS_ONLY_ENV

DBT_PROJECT_DIR = REPO_ROOT / "dbt"
# dbt's own folders inside the project, never inputs of a parse.
_NOT_PROJECT_INPUTS = {"target", "logs", "dbt_packages"}
# dbt unit tests check model code on hand-written rows: they belong to the test suite (`dbt test --select
# test_type:unit`), not to every data refresh, where they would take about half of the dbt step.
EXCLUDED_RESOURCE_TYPES = ("unit_test",)
# Set (to anything) to run every dbt command as a subprocess instead of a fork (see _run_command).
NO_FORK_ENV = "REPURCHASE_DBT_NO_FORK"


class DbtManifestError(RuntimeError):
    """``dbt parse`` failed, so the Dagster definitions cannot be built."""


class DbtCommandError(RuntimeError):
    """A dbt command exited non-zero; the message carries the tail of what dbt printed."""


def dbt_target_path() -> Path:
    """dbt's target folder for the manifest: ``$DBT_TARGET_PATH`` when set (absolute or relative to the
    dbt project), else ``dbt/target``."""
    configured = os.environ.get("DBT_TARGET_PATH")
    target = Path(configured) if configured else Path("target")
    return target if target.is_absolute() else DBT_PROJECT_DIR / target


def dbt_manifest_path() -> Path:
    return dbt_target_path() / "manifest.json"


def dbt_build_target_path() -> Path:
    """Where the pipeline's ``dbt build`` writes run results and logs: one folder, overwritten by each run
    (runs are one at a time), so ``dbt/target`` stays bounded however many runs there were."""
    return dbt_target_path() / "build"


# The project's own dbt, looked for beside this Python (the project's virtualenv) in this order.
OWN_DBT_NAMES = ("repurchase-dbt", "dbt")


def dbt_executable() -> str:
    """The dbt to run: ``repurchase-dbt`` beside this Python (dbt that stops when its parent dies, see
    :mod:`transform.dbt_child`), else ``dbt`` beside it (the project's virtualenv), else the one on PATH.

    A console script run as ``.venv/bin/repurchase`` does not have ``.venv/bin`` on PATH, so looking
    next to the interpreter first keeps the pinned dbt-core in use."""
    for name in OWN_DBT_NAMES:
        beside = Path(sys.executable).with_name(name)
        if beside.exists():
            return str(beside)
    found = shutil.which("dbt")
    if found is None:
        raise DbtManifestError(
            f"dbt executable not found beside {sys.executable} nor on PATH: install the project "
            "(make install) or activate its virtualenv."
        )
    return found


def is_own_dbt(executable: str) -> bool:
    """Whether ``executable`` is the project's own dbt, the one :func:`dbt_executable` finds beside this
    Python (not a dbt found on PATH)."""
    path = Path(executable)
    return path.parent == Path(sys.executable).parent and path.name in OWN_DBT_NAMES


def dbt_env(data_dir: str | os.PathLike[str] | None = None, log_path: Path | None = None) -> dict[str, str]:
    """Environment for a dbt process: the current one with the data directory made absolute (so dbt's
    profile points at the same warehouse whatever dbt's working directory is), no usage statistics, and
    dbt.log at info level unless ``$DBT_LOG_LEVEL_FILE`` says otherwise. At dbt's default (debug) every SQL
    statement and its timing is formatted into dbt.log, ~40 events a node, each scrubbed for secrets: 12% of
    a 5,000-person day's CPU (11.9 -> 10.5 s, bench_daily --repeat 3). Each node's start and result stay in
    the log, its SQL in the target folder; ``DBT_LOG_LEVEL_FILE=debug`` brings the statements back."""
    env = {**os.environ, DATA_DIR_ENV: str(data_paths(data_dir).root)}
    env["DBT_SEND_ANONYMOUS_USAGE_STATS"] = "false"
    env.setdefault("DBT_LOG_LEVEL_FILE", "info")
    env["REPURCHASE_DBT_PARENT_PID"] = str(os.getpid())
    if log_path is not None:
        env["DBT_LOG_PATH"] = str(log_path)
    return env


def vars_arg(variables: Mapping[str, Any] | None) -> list[str]:
    return ["--vars", json.dumps(dict(variables), sort_keys=True)] if variables else []


# The as_of day reaches dbt as this environment variable, not as a var (macro `marts_as_of_var` reads the
# var first, then this). dbt parses the whole project again whenever any var changes (~12 s of CPU here),
# but when an env var changes it re-parses only the files that read it (one model): a backfill day, a
# test at another as_of or a daily run with --as-of then costs a partial parse.
AS_OF_ENV = "REPURCHASE_AS_OF"


def split_as_of(args: Sequence[str]) -> tuple[list[str], dict[str, str]]:
    """``args`` without the ``as_of`` var (the rest of ``--vars`` kept), and the environment that carries
    it instead: ``{AS_OF_ENV: <day>}``, or ``{AS_OF_ENV: ""}`` when no as_of was given (so a value left
    in the calling process's environment never leaks into a run)."""
    import yaml

    arguments = list(args)
    if "--vars" not in arguments[:-1]:
        return arguments, {AS_OF_ENV: ""}
    at = arguments.index("--vars")
    variables = yaml.safe_load(arguments[at + 1]) or {}
    if not isinstance(variables, dict) or "as_of" not in variables:
        return arguments, {AS_OF_ENV: ""}
    as_of = variables.pop("as_of")
    rest = vars_arg(variables)
    value = "" if as_of is None else (as_of.isoformat() if hasattr(as_of, "isoformat") else str(as_of))
    return [*arguments[:at], *rest, *arguments[at + 2 :]], {AS_OF_ENV: value}


def build_args(
    *,
    as_of: str | None = None,
    full_refresh: bool = False,
    select: str | None = None,
    variables: Mapping[str, Any] | None = None,
) -> list[str]:
    """Arguments of the pipeline's ``dbt build`` (unit tests excluded; ``as_of`` and extra vars passed)."""
    args = ["build"]
    for resource_type in EXCLUDED_RESOURCE_TYPES:
        args += ["--exclude-resource-type", resource_type]
    if select:
        args += ["--select", select]
    merged = {**(variables or {}), **({"as_of": as_of} if as_of is not None else {})}
    args += vars_arg(merged)
    if full_refresh:
        args.append("--full-refresh")
    return args


def dbt_command(args: Sequence[str], *, target_path: Path | None = None) -> list[str]:
    """The full command line of ``dbt <args>`` on this repository's project and in-repo profile."""
    command = [
        dbt_executable(),
        "--no-use-colors",
        *args,
        "--project-dir",
        str(DBT_PROJECT_DIR),
        "--profiles-dir",
        str(DBT_PROJECT_DIR),
    ]
    if target_path is not None:
        command += ["--target-path", str(target_path)]
    return command


@dataclass(frozen=True)
class DbtRun:
    """What a finished dbt command left: its exit code, its output and its target folder."""

    args: tuple[str, ...]
    returncode: int
    output: str
    target_path: Path
    peak_rss_bytes: int = 0  # of the dbt process (0 where the platform does not say)
    cpu_seconds: float = 0.0  # of the dbt process, user + system (0 where the platform does not say)

    @property
    def success(self) -> bool:
        return self.returncode == 0

    def results(self) -> list[dict[str, Any]]:
        """``run_results.json`` of the command (empty when dbt wrote none)."""
        path = self.target_path / "run_results.json"
        if not path.exists():
            return []
        return json.loads(path.read_text(encoding="utf-8"))["results"]

    def manifest(self) -> dict[str, Any]:
        """``manifest.json`` of the command: an executing command writes it when run with ``manifest=True``."""
        path = self.target_path / "manifest.json"
        if not path.exists():
            raise DbtManifestError(
                f"dbt {' '.join(self.args)} wrote no {path}: pass manifest=True to run_dbt to have it written"
            )
        return json.loads(path.read_text(encoding="utf-8"))

    def failures(self) -> list[str]:
        return [
            f"{result['unique_id']}: {result['status']}: {result.get('message')}"
            for result in self.results()
            if result["status"] not in ("success", "pass", "skipped")
        ]


def run_dbt(
    args: Sequence[str],
    *,
    data_dir: str | os.PathLike[str] | None = None,
    target_path: Path | None = None,
    check: bool = True,
    env: Mapping[str, str] | None = None,
    manifest: bool = False,
) -> DbtRun:
    """Run ``dbt <args>`` in a subprocess against ``data_dir`` (default: the data directory of this
    process), writing results and logs to ``target_path`` (default :func:`dbt_build_target_path`).

    An executing command (build, run, test...) writes ``run_results.json`` but not ``manifest.json``
    unless ``manifest`` is asked for (:meth:`DbtRun.manifest`): serialising it costs about 3 s of CPU per
    command (see :func:`transform.dbt_child.run_results_only`). Other commands (parse, compile, docs) write
    what dbt writes. With ``check`` a non-zero exit raises :class:`DbtCommandError` naming the failed nodes."""
    target = Path(target_path) if target_path is not None else dbt_build_target_path()
    target.mkdir(parents=True, exist_ok=True)
    if args and args[0] in EXECUTING_COMMANDS:
        install_hash_key_in(data_paths(data_dir))
    args, as_of_env = split_as_of(args)
    full_env = {
        **dbt_env(data_dir, log_path=target), **as_of_env, RESULTS_ONLY_ENV: "" if manifest else "1", **(env or {})
    }
    parse_key = _parse_key(args)
    _seed_partial_parse(target, parse_key)
    returncode, output, peak, cpu = _run_command(dbt_command(args, target_path=target), full_env, target)
    run = DbtRun(
        args=tuple(args), returncode=returncode, output=output, target_path=target, peak_rss_bytes=peak,
        cpu_seconds=cpu,
    )
    _keep_partial_parse(target, parse_key)
    if check and not run.success:
        failures = run.failures()
        detail = "\n".join(failures) if failures else run.output.strip()[-4000:]
        raise DbtCommandError(f"dbt {' '.join(args)} failed (exit code {run.returncode}):\n{detail}")
    return run


def _run_command(command: list[str], env: dict[str, str], target: Path) -> tuple[int, str, int, float]:
    """(exit code, what it printed, peak RSS in bytes, CPU seconds) of a dbt command line. The project's own dbt (the
    one beside this Python) is forked from the fork server that has it imported (see
    :data:`transform.dbt_child.FORK_PRELOAD`) where the platform has one; any other dbt runs as a
    subprocess (``repurchase-dbt`` honours ``$REPURCHASE_DBT_RESULTS_ONLY`` as the fork does, a plain dbt
    writes every artifact). Either way the command runs in the data directory and stops with this process."""
    if not _forkable(command[0]):
        with subprocess.Popen(
            command, cwd=DBT_PROJECT_DIR, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        ) as process:
            printed = process.stdout.read() if process.stdout else ""
            _, status, usage = os.wait4(process.pid, 0)
            process.returncode = os.waitstatus_to_exitcode(status)
        return process.returncode, printed, usage.ru_maxrss * 1024, usage.ru_utime + usage.ru_stime
    from multiprocessing import forkserver

    from transform.dbt_child import FORK_PRELOAD, main_module_not_rerun, run_forked

    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(FORK_PRELOAD)
    descriptor, name = tempfile.mkstemp(prefix="dbt_output.", suffix=".txt", dir=target)
    os.close(descriptor)
    output = Path(name)
    forkserver.ensure_running()
    server_pid = getattr(forkserver._forkserver, "_forkserver_pid", None)
    child = context.Process(
        target=run_forked,
        args=(command[1:], env, str(DBT_PROJECT_DIR), str(output), server_pid),
        daemon=False,
    )
    with main_module_not_rerun():
        child.start()
    child.join()
    usage = output.with_suffix(".usage")
    try:
        printed = output.read_text(encoding="utf-8", errors="replace")
        peak, cpu = usage.read_text(encoding="utf-8").split() if usage.exists() else ("0", "0")
    finally:
        output.unlink(missing_ok=True)
        usage.unlink(missing_ok=True)
    return child.exitcode if child.exitcode is not None else 1, printed, int(peak), float(cpu)


def _forkable(executable: str) -> bool:
    """Whether ``executable`` can be forked from the fork server: it is the project's own dbt (the one the
    server has imported), the platform has fork servers and forking is not turned off."""
    return (
        is_own_dbt(executable)
        and "forkserver" in multiprocessing.get_all_start_methods()
        and not os.environ.get(NO_FORK_ENV)
    )


# dbt's partial-parse state: a parse of an unchanged project is reused when the vars and the profile are
# the same (the profile is, whatever the data directory: see transform/dbt_child.py). A fresh target folder
# starts from the last state parsed with the same vars (kept per vars in the main target folder), so a
# command in a new folder (a test, a backfill day) costs a partial parse instead of a full one. dbt checks
# the state itself (project files, vars, profile, versions) and parses in full when it does not match.
PARTIAL_PARSE_FILE = "partial_parse.msgpack"


def _parse_key(args: Sequence[str]) -> str:
    """The vars and the target of a command: dbt parses in full when either changes, so each pair keeps its
    own state (a Spark run does not throw away the DuckDB runs' parse)."""
    import hashlib

    arguments = list(args)
    variables = arguments[arguments.index("--vars") + 1] if "--vars" in arguments[:-1] else ""
    target = arguments[arguments.index("--target") + 1] if "--target" in arguments[:-1] else ""
    key = variables if not target else f"{variables}\0target={target}"
    return hashlib.sha256(key.encode()).hexdigest()[:16]


def _parse_cache(key: str) -> Path:
    return dbt_target_path() / "partial_parse_by_vars" / f"{key}.msgpack"


def _seed_partial_parse(target: Path, key: str) -> None:
    state = target / PARTIAL_PARSE_FILE
    if state.exists():
        return
    for source in (_parse_cache(key), dbt_target_path() / PARTIAL_PARSE_FILE):
        if source.exists() and source != state:
            shutil.copyfile(source, state)
            return


def _keep_partial_parse(target: Path, key: str) -> None:
    state, kept = target / PARTIAL_PARSE_FILE, _parse_cache(key)
    if not state.exists() or (kept.exists() and kept.stat().st_mtime >= state.stat().st_mtime):
        return
    kept.parent.mkdir(parents=True, exist_ok=True)
    partial = kept.with_suffix(f".{os.getpid()}.tmp")
    shutil.copyfile(state, partial)
    partial.replace(kept)


def project_var(name: str) -> Any:
    """A var's default as ``dbt/dbt_project.yml`` sets it (the one place thresholds live)."""
    import yaml

    project = yaml.safe_load((DBT_PROJECT_DIR / "dbt_project.yml").read_text(encoding="utf-8"))
    return project["vars"][name]


def project_files_newest_mtime() -> float:
    """The newest modification time of any input of a parse (models, macros, yml, profiles)."""
    newest = 0.0
    for path in DBT_PROJECT_DIR.rglob("*"):
        relative = path.relative_to(DBT_PROJECT_DIR)
        if relative.parts and relative.parts[0] in _NOT_PROJECT_INPUTS:
            continue
        if path.is_file():
            newest = max(newest, path.stat().st_mtime)
    return newest


def manifest_is_stale(manifest: Path | None = None) -> bool:
    manifest = manifest or dbt_manifest_path()
    return not manifest.exists() or manifest.stat().st_mtime < project_files_newest_mtime()


def prepare_dbt_manifest(*, force: bool = False) -> Path:
    """Run ``dbt parse`` to write ``manifest.json`` when forced, missing or older than the project.

    Returns the manifest path. Raises ``DbtManifestError`` with dbt's own messages when parsing fails.
    """
    import fcntl

    manifest = dbt_manifest_path()
    if not force and not manifest_is_stale(manifest):
        return manifest
    target = dbt_target_path()
    target.mkdir(parents=True, exist_ok=True)
    # One parse at a time into the shared target folder (two test workers, or the CLI beside the UI);
    # whoever waited finds the manifest fresh and parses nothing.
    with (target / ".parse.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not force and not manifest_is_stale(manifest):
            return manifest
        run = run_dbt(["parse"], target_path=target, check=False)
    if not run.success or not manifest.exists():
        raise DbtManifestError(
            f"`dbt parse` of the dbt project at {DBT_PROJECT_DIR} failed (exit code "
            f"{run.returncode}); the Dagster definitions need its manifest at {manifest}.\n"
            f"dbt said:\n{run.output.strip()[-4000:]}"
        )
    return manifest


STATIC_DOCS_FILE = "static_index.html"


def write_static_docs(out: Path, *, data_dir: str | os.PathLike[str] | None = None) -> Path:
    """dbt's documentation site as one self-contained HTML file at ``out`` (``dbt docs generate
    --static``): models, sources, exposures, columns with their descriptions and declared types, lineage.

    It is generated from the project's manifest (:func:`prepare_dbt_manifest`) without compiling and with
    an empty catalog, so it never connects to the warehouse (the pipeline holds its write lock): column
    types are the ones the yml declares. Being a function of the manifest alone, the page is kept per
    manifest digest (``<target>/static_docs/``) and copied while the project is unchanged: dbt runs only
    after the project changed (~10 s saved on every other publish). Raises ``DbtCommandError`` when dbt
    fails."""
    import hashlib

    manifest = prepare_dbt_manifest()
    cached = dbt_target_path() / "static_docs" / f"{hashlib.sha256(manifest.read_bytes()).hexdigest()[:16]}.html"
    if not cached.is_file():
        with tempfile.TemporaryDirectory(prefix="dbt-docs-") as folder:
            target = Path(folder)
            shutil.copyfile(manifest, target / "manifest.json")
            run = run_dbt(
                ["docs", "generate", "--static", "--no-compile", "--empty-catalog"],
                data_dir=data_dir,
                target_path=target,
                check=True,
            )
            page = run.target_path / STATIC_DOCS_FILE
            if not page.is_file():
                raise DbtCommandError(
                    f"`dbt docs generate --static` wrote no {STATIC_DOCS_FILE}:\n{run.output[-2000:]}"
                )
            cached.parent.mkdir(parents=True, exist_ok=True)
            for old in cached.parent.glob("*.html"):  # pages of earlier manifests: never used again
                old.unlink(missing_ok=True)
            partial = cached.with_suffix(f".{os.getpid()}.tmp")
            shutil.copyfile(page, partial)
            partial.replace(cached)
    out = Path(out)
    shutil.copyfile(cached, out)
    return out
