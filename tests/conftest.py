"""Shared fixtures: a throw-away data directory the whole process (and dbt) points at.

The session's dbt target folder (manifest, partial-parse state, run results) is a temporary one unless
``$DBT_TARGET_PATH`` is set: a test run never writes into the working tree's ``dbt/target``, so two runs
(or a run and a ``dagster dev``) in the same checkout never overwrite each other's manifest.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest

from core.paths import DATA_DIR_ENV, DataPaths, data_paths
from transform.dbt_child import main_module_file

# pytest-xdist workers run as `python -c`, which pyspark's Connect module answers with sys.exit(0) when
# imported (see transform.dbt_child.main_module_file); Great Expectations tries that import once, when it
# is imported: do it here with a file name on __main__.
with main_module_file("pytest-xdist-worker"):
    import great_expectations.compatibility.pyspark  # noqa: F401

_SESSION_DBT_TARGET: list[str] = []


def pytest_configure(config: pytest.Config) -> None:
    if "DBT_TARGET_PATH" not in os.environ:
        target = tempfile.mkdtemp(prefix="pytest-dbt-target-")
        os.environ["DBT_TARGET_PATH"] = target
        _SESSION_DBT_TARGET.append(target)


# The order modules start in. `make test` hands modules to its two workers in collection order (`--dist
# loadscope --no-loadscope-reorder`). The first worker takes test_gating, which builds the session's
# refreshed demo (about two minutes); the modules after it need no demo, so the second worker runs them
# meanwhile instead of waiting on the demo's lock (test_webserver there waited 82 s). Then the slowest
# first, so the short ones fill the gaps at the end and both workers finish together (durations of a
# full run, `pytest --durations=0`). A module not listed keeps its place after these.
SLOWEST_FIRST = (
    "tests/dagster_project/test_gating.py",  # builds the refreshed demo first
    # need no refreshed demo: about three minutes of the second worker while the first builds it
    "tests/dbt/identity/test_identity_incremental.py",
    "tests/dbt/identity/test_identity_stable_ids.py",
    "tests/scripts/test_bench_daily.py",
    "tests/dbt/campaigns/test_campaign_rfm_cuts_incremental.py",
    # from here on the demo is built
    "tests/dagster_project/test_webserver.py",
    "tests/dbt/marts/test_incremental_customer_marts.py",
    "tests/transform/test_backfill.py",
    "tests/dbt/test_incremental_facts.py",
    "tests/dbt/test_dbt_unit_tests.py",
    "tests/demo/test_identity_quality.py",
    "tests/dbt/test_orders_incremental.py",
    "tests/dbt/marts/test_marts_as_of.py",
    "tests/dbt/marts/test_as_of_bounds.py",
    "tests/dbt/marts/test_no_future.py",
    "tests/scripts/test_bench_identity.py",
    "tests/dbt/test_orders_ground_truth.py",
    "tests/transform/test_dbt_child.py",
)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    root = Path(__file__).resolve().parent.parent
    moved = [module for module in SLOWEST_FIRST if not (root / module).is_file()]
    if moved:
        raise pytest.UsageError(f"tests/conftest.py SLOWEST_FIRST names modules that do not exist: {moved}")
    rank = {module: position for position, module in enumerate(SLOWEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.nodeid.split("::")[0], len(rank)))  # stable: others keep order


def pytest_unconfigure(config: pytest.Config) -> None:
    for target in _SESSION_DBT_TARGET:
        os.environ.pop("DBT_TARGET_PATH", None)
        shutil.rmtree(target, ignore_errors=True)


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> DataPaths:
    """An empty data directory under tmp_path, set as $REPURCHASE_DATA_DIR (and DAGSTER_HOME inside it)."""
    root = tmp_path / "data"
    root.mkdir()
    monkeypatch.setenv(DATA_DIR_ENV, str(root))
    monkeypatch.setenv("DAGSTER_HOME", str(root / "dagster_home"))
    return data_paths()


@pytest.fixture(scope="session")
def dbt_manifest() -> Path:
    """A manifest of the dbt project as it is now (parsed when missing or older than a project file), so
    the Dagster definitions imported after it see every model. Import ``dagster_project.definitions``
    inside tests using this."""
    from transform.dbt import prepare_dbt_manifest

    return prepare_dbt_manifest()


@pytest.fixture(scope="session")
def refreshed_demo(tmp_path_factory: pytest.TempPathFactory, dbt_manifest: Path):
    """The demo (tests/helpers/refreshed_demo.py) after one ``refresh_all`` run, once per session. Read it;
    copy it (``copy_data_dir``) before changing anything."""
    from tests.helpers.refreshed_demo import refresh_demo, shared_refreshed_demo

    if os.environ.get("PYTEST_XDIST_WORKER"):
        # `make test` runs two workers (pytest-xdist): the first to get here builds the demo in their
        # common temporary folder, the other waits for it and reads the same one.
        return shared_refreshed_demo(tmp_path_factory.getbasetemp().parent / "refreshed_demo")
    return refresh_demo(tmp_path_factory.mktemp("refreshed_demo") / "data")


# Set (to anything but empty) where the Spark proof must run: a missing Java runtime fails the tests.
REQUIRE_SPARK_ENV = "REPURCHASE_REQUIRE_SPARK"


@pytest.fixture(scope="session")
def spark_can_start() -> None:
    """Skip (or, with ``$REPURCHASE_REQUIRE_SPARK``, fail) when no Java runtime can start a Spark session:
    before the demo is built, which takes minutes (session scope, as ``refreshed_demo``'s: pytest sets up
    wider-scoped fixtures first, then those of one scope in the order a test names them)."""
    from transform.spark import java_problem

    problem = java_problem()
    if problem is None:
        return
    if os.environ.get(REQUIRE_SPARK_ENV):
        pytest.fail(f"{REQUIRE_SPARK_ENV} is set but Spark cannot start: {problem}", pytrace=False)
    pytest.skip(f"Spark needs a Java runtime: {problem} (.ci/run installs it)")
