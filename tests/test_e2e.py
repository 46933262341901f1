"""End to end: generate a small demo, materialize every asset in-process, check raw against ground truth.

The run is the session's ``refreshed_demo`` (tests/helpers/refreshed_demo.py: 200 people through
``refresh_all`` the way the CLI runs it), which the gating tests also start from.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from core.paths import DATA_DIR_ENV, SOURCES, DataPaths
from tests.helpers.refreshed_demo import RefreshedDemo, copy_data_dir, ephemeral_instance

pytestmark = pytest.mark.e2e


def _raw_counts(paths: DataPaths) -> dict[str, int]:
    con = duckdb.connect(str(paths.warehouse), read_only=True)
    try:
        return {s: con.execute(f'select count(*) from raw."{s}"').fetchone()[0] for s in SOURCES}
    finally:
        con.close()


def _quarantine_reasons(paths: DataPaths) -> list[tuple[str, str]]:
    con = duckdb.connect(str(paths.warehouse), read_only=True)
    try:
        return con.execute("select source, reason from raw._quarantine order by source, reason").fetchall()
    finally:
        con.close()


def test_demo_end_to_end(refreshed_demo: RefreshedDemo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from dagster_project.assets.ingestion import raw_asset_key
    from dagster_project.definitions import defs

    demo, outcome, truth = refreshed_demo, refreshed_demo.outcome, refreshed_demo.truth
    assert outcome.success, "\n".join(f"{step}: {msg}" for step, msg in outcome.failed_steps.items())

    # Every asset of the graph was materialized in this one run.
    assert demo.materialized == set(defs.resolve_asset_graph().materializable_asset_keys)
    assert not outcome.checks_failed

    # Ground truth: every row the generator wrote is either loaded or quarantined, no file rejected.
    counts = _raw_counts(demo.paths)
    for source in SOURCES:
        load = outcome.loads[source]
        assert load.new_files == len(truth.files[source]), source
        assert load.files_rejected == 0, (source, load.rejected)
        assert load.rows_loaded + load.rows_quarantined == truth.rows[source], source
        assert counts[source] == truth.rows[source] - load.rows_quarantined, source
    # The only rows the generator breaks on purpose are Tmall ids destroyed by Excel (1.23457E+18).
    assert outcome.loads["tmall"].rows_quarantined == truth.destroyed_ids
    other = sum(outcome.loads[s].rows_quarantined for s in SOURCES if s != "tmall")
    assert other == 0, _quarantine_reasons(demo.paths)

    # The activation lists were written: one WeCom and one SMS file per audience, SMS owner-only.
    from reporting.summary import AUDIENCES

    wecom = sorted((demo.paths.exports / "audiences").glob("*/wecom_*.csv"))
    sms = sorted((demo.paths.exports / "restricted" / "audiences").glob("*/sms_*.csv"))
    assert len(wecom) == len(sms) == len(AUDIENCES)
    assert all(path.stat().st_mode & 0o077 == 0 for path in sms)
    assert any(line.startswith("[dbt_models] done") for line in demo.lines)

    # Loading again (a copy of the data directory, so the shared one stays as the run left it) adds nothing.
    copy = copy_data_dir(demo, tmp_path / "data")
    monkeypatch.setenv(DATA_DIR_ENV, str(copy.root))
    job = defs.resolve_job_def("refresh_all")
    with ephemeral_instance() as instance:
        again = job.execute_in_process(
            instance=instance, asset_selection=[raw_asset_key(s) for s in SOURCES], raise_on_error=True
        )
    for source in SOURCES:
        [event] = again.asset_materializations_for_node(f"raw__{source}")
        assert event.metadata["rows loaded"].value == 0
        assert event.metadata["files already loaded"].value == len(truth.files[source])
    assert _raw_counts(copy) == counts
