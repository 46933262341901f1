"""``repurchase-dbt``: dbt, stopped with the process that started it, run inside the data directory.

The pipeline runs ``dbt build`` as a child process holding the warehouse's write lock. If the parent (the
CLI, or a Dagster run worker) is killed, even with SIGKILL, an orphaned dbt would keep the lock and every
later run would fail to open the warehouse. On Linux this entry point asks the kernel to send it SIGTERM
when its parent dies (``prctl(PR_SET_PDEATHSIG)``, kept across ``exec``), then replaces itself with the
real ``dbt`` beside this Python. Elsewhere it just runs dbt.

It also runs dbt with the data directory (``$REPURCHASE_DATA_DIR``) as its working directory and the
profile's warehouse path relative to it (``$REPURCHASE_DBT_WAREHOUSE=warehouse.duckdb``, see
``dbt/profiles.yml``). dbt re-parses the whole project (~10 s) whenever the profile's connection
settings change; with the path the same for every data directory, a build on another data directory (a
test's copy, a backfill's scratch warehouse, a second deployment) reuses the parse of the last one. Paths
given to dbt relative to where it was started (project, profiles, target and log folders, flags or their
environment variables) are made absolute first.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import signal
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

PR_SET_PDEATHSIG = 1
DATA_DIR_ENV = "REPURCHASE_DATA_DIR"  # core.paths.DATA_DIR_ENV (this entry point imports nothing of ours)
WAREHOUSE_ENV = "REPURCHASE_DBT_WAREHOUSE"
WAREHOUSE_FILE = "warehouse.duckdb"
# dbt's path flags and the environment variables that stand for them.
PATH_FLAGS = {
    "--project-dir": "DBT_PROJECT_DIR",
    "--profiles-dir": "DBT_PROFILES_DIR",
    "--target-path": "DBT_TARGET_PATH",
    "--log-path": "DBT_LOG_PATH",
    "--state": "DBT_STATE",
    "--defer-state": "DBT_DEFER_STATE",
}


def stop_with_parent(parent_pid: int | None = None) -> bool:
    """Ask the kernel to SIGTERM this process when its parent exits; False where unsupported.

    ``parent_pid`` (default ``$REPURCHASE_DBT_PARENT_PID``, set by whoever started this process) is the
    parent expected: when this process has another, that parent died before the request took hold.

    A process inherits its parent's ignored and blocked signals (through fork and exec). A parent that
    ignores or blocks SIGTERM (some process managers and executors do while they run work) would make the
    request a dead letter, so SIGTERM is set back to its default action and unblocked here first."""
    if not sys.platform.startswith("linux"):
        return False
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM})
    libc_name = ctypes.util.find_library("c")
    if libc_name is None:
        return False
    libc = ctypes.CDLL(libc_name, use_errno=True)
    if libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0) != 0:
        return False
    # The parent may have died between fork and prctl: then we were re-parented already.
    expected = parent_pid if parent_pid is not None else os.environ.get("REPURCHASE_DBT_PARENT_PID")
    if expected and os.getppid() != int(expected):
        sys.exit("repurchase-dbt: the process that started dbt is gone; not starting dbt")
    return True


def in_data_dir(args: list[str], env: dict[str, str], cwd: Path) -> tuple[list[str], dict[str, str], Path]:
    """(args, environment, working directory) that run dbt inside the data directory with the profile's
    warehouse path relative to it; unchanged when no data directory is set. Relative path flags and
    their environment variables become absolute (from ``cwd``); the project and profiles folders default
    to ``cwd``, where dbt would have looked for them."""
    data_dir = env.get(DATA_DIR_ENV)
    if not data_dir or WAREHOUSE_ENV in env:
        return args, env, cwd
    args, env = list(args), dict(env)
    for i, arg in enumerate(args):
        flag, eq, value = arg.partition("=")
        if flag in PATH_FLAGS:
            if eq:
                args[i] = f"{flag}={(cwd / value).absolute()}"
            elif i + 1 < len(args):
                args[i + 1] = str((cwd / args[i + 1]).absolute())
    for name in PATH_FLAGS.values():
        if env.get(name):
            env[name] = str((cwd / env[name]).absolute())
    env.setdefault("DBT_PROJECT_DIR", str(cwd))
    if (cwd / "profiles.yml").exists():
        env.setdefault("DBT_PROFILES_DIR", str(cwd))
    env[WAREHOUSE_ENV] = WAREHOUSE_FILE
    return args, env, (cwd / data_dir).absolute()


# Set (to anything but empty) by a caller that reads an executing command's run_results.json but not its
# manifest.json (transform.dbt.run_dbt unless asked for the manifest; the pipeline's dbt asset: dagster-dbt
# streams dbt's events and has its own manifest): the command, forked or started as ``repurchase-dbt``,
# then runs as :func:`run_results_only`.
RESULTS_ONLY_ENV = "REPURCHASE_DBT_RESULTS_ONLY"
# dbt commands that run SQL on the warehouse and write run results.
EXECUTING_COMMANDS = ("build", "run", "test", "seed", "snapshot")


def results_target(args: list[str], env: dict[str, str]) -> Path | None:
    """The folder a command writes its run results to: ``--target-path``, else ``$DBT_TARGET_PATH``;
    None when neither says (dbt's default folder)."""
    given = next((args[i + 1] for i, arg in enumerate(args[:-1]) if arg == "--target-path"), None)
    given = given or env.get(PATH_FLAGS["--target-path"])
    return Path(given) if given else None


def results_only(args: list[str], env: dict[str, str]) -> bool:
    """Whether ``repurchase-dbt <args>`` runs as :func:`run_results_only`: asked for, an executing command
    (the first argument that is not a flag) and a known target folder. Anything else is dbt's CLI as is."""
    command = next((arg for arg in args if not arg.startswith("-")), None)
    return bool(env.get(RESULTS_ONLY_ENV)) and command in EXECUTING_COMMANDS and results_target(args, env) is not None


def main() -> None:
    stop_with_parent()
    args, env, cwd = in_data_dir(sys.argv[1:], dict(os.environ), Path.cwd())
    cwd.mkdir(parents=True, exist_ok=True)
    os.chdir(cwd)
    if results_only(args, env):
        os.environ.clear()
        os.environ.update(env)
        sys.exit(run_results_only(args))
    dbt = Path(sys.executable).with_name("dbt")
    os.execve(str(dbt), [str(dbt), *args], env)


if __name__ == "__main__":
    main()


# dbt forked from a process that has imported it already. Importing dbt costs ~3.5 s of CPU (most of it
# building dataclass (de)serialisers), a third to a half of a small dbt command; the pipeline's helpers,
# the backfill and the tests run many small commands. ``transform.dbt.run_dbt`` starts them from a
# multiprocessing fork server that imported dbt and the DuckDB adapter once (``FORK_PRELOAD``); each
# command is a fresh fork, so no dbt state carries over from one command to the next.
FORK_PRELOAD = ["dbt.cli.main", "dbt.adapters.duckdb", "dbt.adapters.duckdb.impl", __name__]


# Both sides of the fork server see the caller's ``__main__`` module: multiprocessing re-runs it in each
# child it starts (main_module_not_rerun stops that), and pyspark's Connect module exits a process
# whose ``__main__`` has no file (main_module_file gives it one). Both adjust ``__main__`` only while inside.


@contextmanager
def main_module_not_rerun() -> Iterator[None]:
    """Start a process without multiprocessing's re-run of the caller's main script in it.

    multiprocessing hands every child it starts the caller's ``__main__`` to import again (as
    ``__mp_main__``), for objects defined there. The dbt child needs nothing of it (its function lives in
    :mod:`transform.dbt_child`): re-running it costs the script's imports in every command, and a script
    or notebook without the ``if __name__ == "__main__"`` guard would run itself again inside the child
    and fail it. While the child starts, ``__main__`` shows neither its file nor its spec."""
    main = sys.modules["__main__"]
    saved = {name: main.__dict__[name] for name in ("__file__", "__spec__") if name in main.__dict__}
    main.__dict__.pop("__file__", None)
    main.__spec__ = None
    try:
        yield
    finally:
        main.__dict__.pop("__spec__", None)
        main.__dict__.update(saved)


@contextmanager
def main_module_file(name: str) -> Iterator[None]:
    """Give ``__main__`` the file name ``name`` while inside, when it has none.

    A process started as ``python -c`` (the fork server, pytest-xdist's workers) has a ``__main__`` with
    neither file nor spec, which pyspark's Connect module takes for a doctest run of itself without its
    dependencies: it calls ``sys.exit(0)`` when imported (pyspark/sql/connect/utils.py). Great Expectations
    tries that import when it is imported, and so may the Spark adapter: a dbt build would "succeed"
    without running and a test worker would exit. A name that is not a real file is only ever looked at,
    and it is taken away again on the way out (multiprocessing would try to run such a file)."""
    main = sys.modules["__main__"]
    if main.__spec__ is not None or hasattr(main, "__file__"):
        yield
        return
    main.__file__ = name
    try:
        yield
    finally:
        del main.__file__


def run_results_only(args: list[str]) -> int:
    """Run ``dbt <args>`` (an executing command: build, run, test...) in this process and write its
    ``run_results.json`` into its target folder (:func:`results_target`), but not ``manifest.json``;
    return dbt's exit code.

    dbt serialises the whole manifest (~2 MB of JSON for this project) twice per command, after parsing
    and again at the end, plus its graph: about 3 s of CPU, most of a small command's fixed cost. A
    command's caller reads its run results; the manifest of an unchanged project says nothing new. dbt's
    ``--no-write-json`` skips all three and the run results too, so those are written here from the result
    dbt returns (the same artifact, the same file). The exit code is the CLI's: 0 success, 1 a node failed,
    2 dbt itself failed."""
    from dbt.cli.exceptions import DbtInternalException, DbtUsageException
    from dbt.cli.main import dbtRunner

    target = results_target(args, dict(os.environ))
    results = target / "run_results.json" if target else None
    if results is not None:
        results.unlink(missing_ok=True)  # never a previous command's results
    outcome = dbtRunner().invoke([*args, "--no-write-json"])
    if results is not None and hasattr(outcome.result, "write"):
        outcome.result.write(str(results))
    if outcome.success:
        return 0
    if isinstance(outcome.exception, DbtUsageException | DbtInternalException):
        # The CLI prints these (a wrong flag...); the runner only returns them. Every other error dbt
        # has printed already, as its CLI does.
        print(f"Error: {outcome.exception}", file=sys.stderr)
    return 2 if outcome.exception is not None else 1


def run_forked(args: list[str], env: dict[str, str], cwd: str, output: str, server_pid: int | None) -> None:
    """The body of a forked dbt command: output to the file ``output``, stopped with the fork server
    (which stops with the process that started it), then dbt's own command line entry point, or
    :func:`run_results_only` when the caller asked for it (:func:`results_only`), as ``main`` does."""
    # The fork server lives while some process holds the write end of its "alive" pipe: the process
    # that started it, and every fork (multiprocessing hands it over so that a fork can fork again).
    # Let go of it here, so the server stops when its starter dies and takes this command with it.
    from multiprocessing import forkserver

    alive = getattr(forkserver._forkserver, "_forkserver_alive_fd", None)
    if alive is not None:
        os.close(alive)
        forkserver._forkserver._forkserver_alive_fd = None
    fd = os.open(output, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    os.close(fd)
    stop_with_parent(server_pid)
    args, env, directory = in_data_dir(args, env, Path(cwd))
    os.environ.clear()
    os.environ.update(env)
    directory.mkdir(parents=True, exist_ok=True)
    os.chdir(directory)
    from dbt.cli.main import cli

    sys.argv = ["dbt", *args]
    try:
        with main_module_file("dbt"):  # as dbt started as a console script has
            if results_only(args, env):
                sys.exit(run_results_only(args))
            cli.main(args=args, prog_name="dbt")
    finally:
        # The peak RSS (kB on Linux) and the CPU seconds (user + system, DuckDB's threads included) of this
        # command, beside its output: the caller is not its parent, so its rusage of children cannot see them.
        import resource

        usage = resource.getrusage(resource.RUSAGE_SELF)
        Path(output).with_suffix(".usage").write_text(
            f"{usage.ru_maxrss * 1024} {usage.ru_utime + usage.ru_stime}", encoding="utf-8"
        )
