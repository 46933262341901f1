"""dbt started through ``repurchase-dbt`` stops when the process that started it is killed (SIGKILL
included), so an orphaned dbt never keeps the warehouse's write lock."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time

import pytest

from core.processes import descendants
from dagster_project.dead_runs import process_alive

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="prctl is Linux only")

# A parent that starts a child which arms the parent-death signal, as repurchase-dbt does before it
# execs dbt, then prints the child's pid and waits to be killed. Its SIGTERM (argv[1]) is left as it is,
# ignored or blocked first: both are inherited through fork and exec, and would leave the parent-death
# signal undelivered (the suite's worker once had it so).
PARENT = textwrap.dedent(
    """
    import signal, subprocess, sys, time
    if sys.argv[1] == "ignored":
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
    elif sys.argv[1] == "blocked":
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM})
    child = subprocess.Popen([sys.executable, "-c",
        "from transform.dbt_child import stop_with_parent; import time; "
        "assert stop_with_parent(); print('armed', flush=True); time.sleep(600)"],
        stdout=subprocess.PIPE, text=True)
    assert child.stdout.readline().strip() == "armed"
    print(child.pid, flush=True)
    time.sleep(600)
    """
)


def _wait_until(predicate, ceiling: float = 60.0) -> bool:
    deadline = time.monotonic() + ceiling
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return predicate()


@pytest.mark.parametrize("parent_sigterm", ["default", "ignored", "blocked"])
def test_the_child_dies_with_its_killed_parent(parent_sigterm: str) -> None:
    parent = subprocess.Popen([sys.executable, "-c", PARENT, parent_sigterm], stdout=subprocess.PIPE, text=True)
    try:
        child_pid = int(parent.stdout.readline())
        assert process_alive(child_pid)
        parent.kill()  # SIGKILL: the parent gets no chance to clean up
        parent.wait()
        assert _wait_until(lambda: not process_alive(child_pid)), "the child outlived its parent"
    finally:
        if parent.poll() is None:
            parent.kill()


def test_repurchase_dbt_runs_the_real_dbt() -> None:
    exe = os.path.join(os.path.dirname(sys.executable), "repurchase-dbt")
    if not os.path.exists(exe):
        pytest.skip("repurchase-dbt is not installed beside this Python (make install)")
    completed = subprocess.run([exe, "--version"], check=False, capture_output=True, text=True, timeout=120)
    assert completed.returncode == 0 and "1.11" in completed.stdout


def test_dbt_runs_inside_the_data_directory_with_absolute_paths(tmp_path) -> None:
    from pathlib import Path

    from transform.dbt_child import in_data_dir

    started_in = Path("/srv/repo/dbt")
    args = [
        "build",
        "--target-path",
        "target/build",
        "--log-path=logs",
        "--select",
        "x",
        "--project-dir",
        ".",
    ]
    env = {"REPURCHASE_DATA_DIR": "/data/shop1", "DBT_TARGET_PATH": "target", "DBT_LOG_PATH": "/var/log/dbt"}
    new_args, new_env, cwd = in_data_dir(args, env, started_in)
    assert cwd == Path("/data/shop1")
    assert new_args == [
        "build",
        "--target-path",
        "/srv/repo/dbt/target/build",
        "--log-path=/srv/repo/dbt/logs",
        "--select",
        "x",
        "--project-dir",
        "/srv/repo/dbt",
    ]
    assert new_env["REPURCHASE_DBT_WAREHOUSE"] == "warehouse.duckdb"
    assert new_env["DBT_TARGET_PATH"] == "/srv/repo/dbt/target" and new_env["DBT_LOG_PATH"] == "/var/log/dbt"
    assert new_env["DBT_PROJECT_DIR"] == "/srv/repo/dbt"  # where dbt would have looked for the project
    assert "DBT_PROFILES_DIR" not in new_env  # no profiles.yml in the fictitious folder
    assert env == {
        "REPURCHASE_DATA_DIR": "/data/shop1",
        "DBT_TARGET_PATH": "target",
        "DBT_LOG_PATH": "/var/log/dbt",
    }
    # No data directory (or the warehouse already chosen): dbt runs as it was asked.
    assert in_data_dir(args, {}, started_in) == (args, {}, started_in)
    chosen = {"REPURCHASE_DATA_DIR": "/d", "REPURCHASE_DBT_WAREHOUSE": "/elsewhere/w.duckdb"}
    assert in_data_dir(args, chosen, started_in) == (args, chosen, started_in)


@pytest.mark.e2e
def test_a_new_data_directory_and_target_reuse_the_last_parse(tmp_path, monkeypatch) -> None:
    """dbt re-parses the whole project when its profile changes; the warehouse path is the same relative
    path in every data directory, and a fresh target folder starts from the last parse with the same vars,
    so the second parse below (another data directory, another target) re-reads no file.

    The kept parses live in a main target folder of this test's own: in the shared one, a test running
    beside it with an as_of (an environment variable, not a var) can keep its parse in between, and the
    second parse then re-reads the files that read the as_of."""
    import json

    from transform.dbt import run_dbt

    monkeypatch.setenv("DBT_TARGET_PATH", str(tmp_path / "main_target"))

    first, second = tmp_path / "first", tmp_path / "second"
    run_dbt(["parse"], data_dir=tmp_path / "shop_a", target_path=first)
    run_dbt(["parse"], data_dir=tmp_path / "shop_b", target_path=second)
    perf = json.loads((second / "perf_info.json").read_text())
    assert perf["is_partial_parse_enabled"] and perf["path_count"] > 100
    assert perf["parsed_path_count"] == 0, perf


# A parent that runs a dbt command through run_dbt (forked from the fork server) that would take minutes:
# an inline query over a hundred billion rows.
FORKING_PARENT = textwrap.dedent(
    """
    import sys
    from transform.dbt import run_dbt
    run_dbt(["show", "--inline", "select count(*) as n from range(100000000000) t(x) where x % 7 = 3"],
            data_dir=sys.argv[1], target_path=sys.argv[2], check=False)
    """
)


@pytest.mark.e2e
def test_a_forked_dbt_dies_with_its_killed_caller(tmp_path, dbt_manifest) -> None:
    target = tmp_path / "target"
    parent = subprocess.Popen([sys.executable, "-c", FORKING_PARENT, str(tmp_path / "data"), str(target)])
    family: set[int] = set()
    try:
        # dbt is running once its output file exists (written by the forked command itself) and it has
        # opened the warehouse.
        assert _wait_until(lambda: any(target.glob("dbt_output.*")), ceiling=600), "dbt never started"
        assert _wait_until(lambda: (tmp_path / "data" / "warehouse.duckdb").exists(), ceiling=600)
        family = descendants(parent.pid)
        assert len(family) >= 2  # the fork server and the dbt command (at least)
        parent.kill()
        parent.wait()
        assert _wait_until(lambda: not any(process_alive(pid) for pid in family)), [
            pid for pid in family if process_alive(pid)
        ]
    finally:
        for pid in {parent.pid, *family}:
            if process_alive(pid):
                os.kill(pid, 9)


# A script as a person writes it: no `if __name__ == "__main__":` guard. multiprocessing would re-run it in
# every child it starts; the forked dbt must not (it would call dbt again inside dbt, and fail).
UNGUARDED_SCRIPT = """\
import sys
from pathlib import Path

from transform.dbt import run_dbt

with Path(sys.argv[1]).open("a") as runs:
    runs.write("ran\\n")
run = run_dbt(["list", "--select", "repurchase_as_of"], data_dir=sys.argv[2], target_path=Path(sys.argv[3]),
              check=False)
print("exit", run.returncode, "repurchase_as_of" in run.output)
"""


@pytest.mark.e2e
def test_a_script_without_a_main_guard_runs_dbt_once(tmp_path, dbt_manifest) -> None:
    script = tmp_path / "unguarded.py"
    script.write_text(UNGUARDED_SCRIPT, encoding="utf-8")
    runs = tmp_path / "runs.txt"
    completed = subprocess.run(
        [sys.executable, str(script), str(runs), str(tmp_path / "data"), str(tmp_path / "target")],
        check=False,
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
    )
    assert completed.stdout.splitlines()[-1:] == ["exit 0 True"], completed.stdout + completed.stderr
    assert runs.read_text() == "ran\n"  # the script ran once: not again inside the dbt command


@pytest.mark.e2e
def test_an_executing_command_writes_its_run_results_and_the_manifest_only_when_asked(
    tmp_path, dbt_manifest
) -> None:
    """A forked build, run or test writes ``run_results.json`` as dbt's CLI does (and with its exit codes)
    but skips serialising the manifest unless the caller asks for it."""
    from transform.dbt import DbtManifestError, run_dbt

    # An empty warehouse: the staging view's raw table does not exist, so the model fails (exit code 1).
    lean = run_dbt(["run", "--select", "stg_jd__order_lines"], data_dir=tmp_path / "data",
                   target_path=tmp_path / "lean", check=False)
    assert lean.returncode == 1, lean.output
    assert [(r["unique_id"], r["status"]) for r in lean.results()] == [("model.repurchase.stg_jd__order_lines", "error")]
    assert "raw" in lean.results()[0]["message"].lower()
    assert not (tmp_path / "lean" / "manifest.json").exists()
    with pytest.raises(DbtManifestError, match="manifest=True"):
        lean.manifest()

    full = run_dbt(["run", "--select", "stg_jd__order_lines"], data_dir=tmp_path / "data",
                   target_path=tmp_path / "full", check=False, manifest=True)
    assert full.returncode == 1
    assert full.results()[0]["unique_id"] == "model.repurchase.stg_jd__order_lines"
    assert full.manifest()["nodes"]["model.repurchase.stg_jd__order_lines"]["schema"] == "staging"

    # dbt itself failing (an unknown flag) is exit code 2, and leaves no results behind, not even old ones.
    broken = run_dbt(["run", "--no-such-flag"], data_dir=tmp_path / "data", target_path=tmp_path / "lean",
                     check=False)
    assert broken.returncode == 2, broken.output
    assert "no-such-flag" in broken.output
    assert broken.results() == []


@pytest.mark.e2e
def test_repurchase_dbt_asked_for_results_only_skips_the_manifest(tmp_path) -> None:
    """The pipeline's dbt asset runs ``repurchase-dbt`` with $REPURCHASE_DBT_RESULTS_ONLY and its target in
    $DBT_TARGET_PATH (as dagster-dbt does): an executing command then writes run_results.json, with the
    CLI's exit code, and no manifest.json. (Unasked it is dbt's CLI as is: ``results_only`` below.)"""
    from transform.dbt import DBT_PROJECT_DIR, dbt_env
    from transform.dbt_child import RESULTS_ONLY_ENV

    exe = os.path.join(os.path.dirname(sys.executable), "repurchase-dbt")
    if not os.path.exists(exe):
        pytest.skip("repurchase-dbt is not installed beside this Python (make install)")
    target = tmp_path / "target"
    env = {**dbt_env(tmp_path / "data"), "DBT_TARGET_PATH": str(target), "REPURCHASE_AS_OF": ""}
    env[RESULTS_ONLY_ENV] = "1"
    # An empty warehouse: the staging view's raw table does not exist, so the model fails (exit code 1).
    completed = subprocess.run(
        [exe, "--no-use-colors", "run", "--select", "stg_jd__order_lines", "--project-dir", str(DBT_PROJECT_DIR),
         "--profiles-dir", str(DBT_PROJECT_DIR)],
        check=False, capture_output=True, text=True, timeout=600, env=env,
    )
    assert completed.returncode == 1, completed.stdout + completed.stderr
    assert "stg_jd__order_lines" in completed.stdout
    results = json.loads((target / "run_results.json").read_text())["results"]
    assert [(r["unique_id"], r["status"]) for r in results] == [("model.repurchase.stg_jd__order_lines", "error")]
    assert not (target / "manifest.json").exists()


def test_results_only_is_asked_for_an_executing_command_with_a_target() -> None:
    from transform.dbt_child import RESULTS_ONLY_ENV, results_only

    asked = {RESULTS_ONLY_ENV: "1", "DBT_TARGET_PATH": "/t"}
    assert results_only(["--no-use-colors", "build", "--select", "x"], asked)
    assert results_only(["test", "--target-path", "/elsewhere"], {RESULTS_ONLY_ENV: "1"})
    assert not results_only(["build"], {"DBT_TARGET_PATH": "/t"})  # not asked: dbt's CLI as is
    assert not results_only(["build"], {RESULTS_ONLY_ENV: "1"})  # no target folder known
    assert not results_only(["parse"], asked)  # parse writes the manifest: that is what it is for
    assert not results_only(["docs", "generate"], asked)


@pytest.mark.e2e
def test_dbt_log_keeps_results_not_statements_unless_asked(tmp_path) -> None:
    """dbt.log is written at info level (transform.dbt.dbt_env): each node's result is there, not every
    SQL statement with its timing, which cost 12% of a small build's CPU at dbt's default (debug). An
    operator's ``DBT_LOG_LEVEL_FILE=debug`` brings the statements back."""
    import duckdb

    from ingestion.schemas import create_raw_tables
    from transform.dbt import run_dbt

    data_dir = tmp_path / "data"
    data_dir.mkdir()
    with duckdb.connect(str(data_dir / "warehouse.duckdb")) as con:
        create_raw_tables(con)
    logs = {}
    for level, extra in (("default", {}), ("debug", {"DBT_LOG_LEVEL_FILE": "debug"})):
        target = tmp_path / level
        run = run_dbt(["run", "--select", "stg_jd__order_lines"], data_dir=data_dir, target_path=target, env=extra)
        assert run.success, run.output
        logs[level] = (target / "dbt.log").read_text(encoding="utf-8")
    for log in logs.values():
        assert "OK created sql view model" in log and "stg_jd__order_lines" in log, log[-3000:]
    assert "SQL status:" not in logs["default"], logs["default"][-3000:]
    assert "SQL status:" in logs["debug"], logs["debug"][-3000:]
