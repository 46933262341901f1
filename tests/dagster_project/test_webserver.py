"""The Dagster UI, for real: ``dagster-webserver`` on workspace.yaml against a tiny generated demo.

Through the webserver's GraphQL API: the asset graph loads (ingestion, dbt models, exports, serving), the
checks, the ``daily_refresh`` schedule and the ``landing_files`` sensor are there; a run of the
``refresh_all`` job launched from the API runs in its own process and succeeds: it rebuilds a dbt model
through dbt (streamed back as Dagster events) and publishes the serving copy. With Debian's chromium
installed, a headless screenshot of the asset graph page is taken.

The data directory is a copy of the session's refreshed demo (tests/helpers/refreshed_demo.py: the whole
job already ran on it), so the run launched here is a selection of that job (one dbt model and the
serving copy): launching from the UI is what this test adds, the whole job is tested there and by the
benchmark of the README's main command (tests/scripts/test_bench_overhead.py).

The webserver alone rather than ``dagster dev``: under ``dagster dev`` the definitions re-parse the dbt
project on load (``prepare_if_dev``) and the daemon starts too, which costs about a minute on two cores;
the test's instance uses the DefaultRunCoordinator so the webserver launches the run itself. The whole
process group is killed at the end.

Nothing here depends on how fast the machine is: every wait polls for the state it needs (location loaded,
run finished) under one generous ceiling, so a busy machine makes the test slower, never red; the ceiling
only turns a hang into a failure.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pytest

from core.paths import DATA_DIR_ENV, REPO_ROOT, DataPaths
from tests.helpers.refreshed_demo import RefreshedDemo, copy_data_dir

pytestmark = pytest.mark.e2e

LOCATION = "repurchase"
REPOSITORY = "__repository__"
# What the launched run materializes: a dbt model (through dbt, in the run's own process) and the serving
# copy, which reads every mart the refreshed demo built.
SELECTION = (["marts", "repurchase_as_of"], ["serving", "marts"])
# Ceiling of any one wait (webserver startup, a GraphQL answer, the screenshot, the run): far above what
# each takes on a quiet 2-core machine (~10 s, ~1 s, ~10 s, ~60 s). Not a performance budget: it only turns
# a hang into a failure.
CEILING_SECONDS = 600
POLL_SECONDS = 1
CHROMIUM = Path("/usr/bin/chromium")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def graphql(port: int, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
    body = json.dumps({"query": query, "variables": variables or {}}).encode()
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/graphql", data=body, headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=CEILING_SECONDS) as response:
        payload = json.loads(response.read())
    assert "errors" not in payload, payload["errors"]
    return payload["data"]


LOCATION_STATUS = """
query { workspaceOrError { ... on Workspace { locationEntries {
  name loadStatus
  locationOrLoadError { __typename ... on PythonError { message } }
} } } }
"""


def _log_tail(log: Path) -> str:
    return log.read_text(errors="replace")[-3000:] if log.exists() else "(no log)"


@pytest.fixture
def data_dir(refreshed_demo: RefreshedDemo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> DataPaths:
    """A copy of the session's refreshed demo, set as $REPURCHASE_DATA_DIR (and DAGSTER_HOME inside it)."""
    paths = copy_data_dir(refreshed_demo, tmp_path / "data")
    monkeypatch.setenv(DATA_DIR_ENV, str(paths.root))
    monkeypatch.setenv("DAGSTER_HOME", str(paths.dagster_home))
    return paths


@pytest.fixture
def webserver(data_dir: DataPaths, tmp_path: Path, dbt_manifest: Path) -> Iterator[int]:
    """``dagster-webserver`` on a free port over a copy of the refreshed demo; yields the port once the
    location loaded."""
    from dagster_project.instance import DAGSTER_YAML, prepare_environment

    home = data_dir.dagster_home
    home.mkdir(parents=True, exist_ok=True)
    # The project's instance settings, except that the webserver launches runs itself: without the daemon
    # (`dagster dev` starts one; it adds half a minute here) nothing would dequeue them.
    (home / "dagster.yaml").write_text(
        DAGSTER_YAML
        + "run_coordinator:\n  module: dagster.core.run_coordinator\n  class: DefaultRunCoordinator\n",
        encoding="utf-8",
    )
    prepare_environment(data_dir)
    port = free_port()
    env = {**os.environ, DATA_DIR_ENV: str(data_dir.root), "DAGSTER_HOME": str(home)}
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", "")
    command = [
        str(Path(sys.executable).with_name("dagster-webserver")),
        "-w", str(REPO_ROOT / "workspace.yaml"),
        "-h", "127.0.0.1", "-p", str(port),
    ]  # fmt: skip
    log = tmp_path / "dagster_dev.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            command, cwd=REPO_ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        started = time.monotonic()
        while True:
            assert process.poll() is None, f"dagster-webserver exited early:\n{_log_tail(log)}"
            assert time.monotonic() < started + CEILING_SECONDS, (
                f"webserver not ready after {CEILING_SECONDS}s (hung?):\n{_log_tail(log)}"
            )
            try:
                entries = graphql(port, LOCATION_STATUS)["workspaceOrError"]["locationEntries"]
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                time.sleep(POLL_SECONDS)
                continue
            entry = next((e for e in entries if e["name"] == LOCATION), None)
            if entry is not None and entry["loadStatus"] == "LOADED":
                located = entry["locationOrLoadError"]
                assert located["__typename"] == "RepositoryLocation", located
                break
            time.sleep(POLL_SECONDS)
        print(f"webserver ready in {time.monotonic() - started:.1f}s")
        yield port
    finally:
        _stop(process)


def _stop(process: subprocess.Popen) -> None:
    """SIGTERM to the whole group (webserver, daemon, code servers, run workers), SIGKILL if needed."""
    try:
        os.killpg(process.pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        pass
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    process.wait(timeout=10)


ASSET_GRAPH = """
query {
  assetNodes {
    assetKey { path }
    groupName
    assetChecksOrError { ... on AssetChecks { checks { name } } }
  }
}
"""

AUTOMATIONS = """
query ($selector: RepositorySelector!) {
  repositoryOrError(repositorySelector: $selector) {
    __typename
    ... on Repository {
      schedules { name cronSchedule executionTimezone }
      sensors { name }
      jobs { name }
    }
  }
}
"""

LAUNCH = """
mutation ($params: ExecutionParams!) {
  launchRun(executionParams: $params) {
    __typename
    ... on LaunchRunSuccess { run { runId } }
    ... on PythonError { message }
    ... on InvalidSubsetError { message }
    ... on RunConfigValidationInvalid { errors { message } }
  }
}
"""

RUN_STATUS = """
query ($runId: ID!) { runOrError(runId: $runId) { __typename ... on Run { status } } }
"""

FAILURE_EVENTS = """
query ($runId: ID!) { logsForRun(runId: $runId) { ... on EventConnection { events {
  __typename ... on ExecutionStepFailureEvent { stepKey error { message } }
  ... on RunFailureEvent { message }
  ... on AssetCheckEvaluationEvent { evaluation { checkName success metadataEntries {
    label ... on TextMetadataEntry { text } ... on MarkdownMetadataEntry { mdStr } } } }
} } } }
"""


MATERIALIZED = """
query ($runId: ID!) { logsForRun(runId: $runId) { ... on EventConnection { events {
  __typename ... on MaterializationEvent { assetKey { path } }
} } } }
"""


def test_ui_shows_the_graph_and_runs_the_job(
    webserver: int, data_dir: DataPaths, tmp_path: Path
) -> None:
    port = webserver
    started = time.monotonic()
    nodes = graphql(port, ASSET_GRAPH)["assetNodes"]
    keys = {"/".join(node["assetKey"]["path"]) for node in nodes}
    for expected in (
        "raw/pos", "raw/tmall", "raw/jd", "raw/wechat_members", "raw/wechat_pay", "raw/touches",
        "staging/stg_pos__receipt_lines", "marts/dim_customers", "marts/fct_orders",
        "restricted/customer_pii", "exports/audiences", "serving/marts",
    ):  # fmt: skip
        assert expected in keys, expected
    checks = {
        ("/".join(node["assetKey"]["path"]), check["name"])
        for node in nodes
        for check in (node["assetChecksOrError"] or {}).get("checks", [])
    }
    # dbt's tests on the primary key of the customer dimension surface as checks.
    assert any(key == "marts/dim_customers" and "unique" in name for key, name in checks), sorted(checks)[:20]
    assert len(checks) > 50

    selector = {"repositoryName": REPOSITORY, "repositoryLocationName": LOCATION}
    repository = graphql(port, AUTOMATIONS, {"selector": selector})["repositoryOrError"]
    assert repository["__typename"] == "Repository", repository
    assert {"name": "daily_refresh", "cronSchedule": "0 6 * * *", "executionTimezone": "Asia/Shanghai"} in (
        repository["schedules"]
    )
    assert {"name": "landing_files"} in repository["sensors"]
    assert {"name": "refresh_all"} in repository["jobs"]

    _screenshot(port, tmp_path)
    print(f"graph checked and screenshot in {time.monotonic() - started:.1f}s")

    params = {
        "selector": {**selector, "jobName": "refresh_all", "assetSelection": [{"path": p} for p in SELECTION]},
        "runConfigData": {},
    }
    launched = graphql(port, LAUNCH, {"params": params})["launchRun"]
    assert launched["__typename"] == "LaunchRunSuccess", launched
    run_id = launched["run"]["runId"]
    status = "QUEUED"
    launched_at = time.monotonic()
    while status not in ("SUCCESS", "FAILURE", "CANCELED"):
        assert time.monotonic() < launched_at + CEILING_SECONDS, (
            f"run {run_id} still {status} after {CEILING_SECONDS}s (hung?)"
        )
        time.sleep(POLL_SECONDS)
        status = graphql(port, RUN_STATUS, {"runId": run_id})["runOrError"]["status"]
    print(f"run {status} after {time.monotonic() - started:.1f}s")
    if status != "SUCCESS":
        events = graphql(port, FAILURE_EVENTS, {"runId": run_id})["logsForRun"]["events"]
        failures = [
            event
            for event in events
            if "Failure" in event.get("__typename", "") or event.get("evaluation", {}).get("success") is False
        ]
        pytest.fail(f"run {run_id} ended {status}: {failures}")

    # The run loaded the demo and published the serving copy (readable without the warehouse's lock).
    con = duckdb.connect(str(data_dir.serving / "serving.duckdb"), read_only=True)
    try:
        run_ids = con.execute("select distinct run_id from _serving_version").fetchall()
        customers = con.execute("select count(*) from dim_customers").fetchone()[0]
    finally:
        con.close()
    with duckdb.connect(str(data_dir.warehouse), read_only=True) as warehouse:
        built = warehouse.execute("select count(*) from marts.dim_customers").fetchone()[0]
    assert run_ids == [(run_id,)]
    assert customers == built > 0
    # Exactly the selection was materialized, the dbt model by dbt in the run's process.
    events = graphql(port, MATERIALIZED, {"runId": run_id})["logsForRun"]["events"]
    materialized = {tuple(e["assetKey"]["path"]) for e in events if e["__typename"] == "MaterializationEvent"}
    assert materialized == {tuple(path) for path in SELECTION}


def _screenshot(port: int, tmp_path: Path) -> None:
    """Headless chromium screenshot of the asset graph page (when Debian's chromium is installed)."""
    if not CHROMIUM.exists():
        warnings.warn(
            f"UI screenshot skipped: {CHROMIUM} is not installed (.ci/run installs it when apt works)",
            stacklevel=2,
        )
        return
    shot = tmp_path / "asset_graph.png"
    command = [
        str(CHROMIUM), "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--disable-dev-shm-usage", f"--user-data-dir={tmp_path / 'chromium'}",
        "--virtual-time-budget=15000", f"--screenshot={shot}", "--window-size=1400,900",
        f"http://127.0.0.1:{port}/asset-groups",
    ]  # fmt: skip
    completed = subprocess.run(
        command,
        check=False,
        capture_output=True,
        text=True,
        timeout=CEILING_SECONDS,
        start_new_session=True,
    )
    assert shot.exists(), f"no screenshot (exit {completed.returncode}): {completed.stderr[-2000:]}"
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert len(data) > 20_000, len(data)  # a blank 1400x900 page compresses to a few kB
    artifacts = os.environ.get("REPURCHASE_UI_SCREENSHOT")
    if artifacts:
        shutil.copyfile(shot, artifacts)
