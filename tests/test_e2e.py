"""End to end: generate a small demo, materialize every asset in-process, check raw against ground truth."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
from dagster import DagsterInstance

from core.paths import SOURCES, DataPaths
from demo.generator import generate

pytestmark = pytest.mark.e2e

PEOPLE = 200
SEED = 42


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


def test_demo_end_to_end(data_dir: DataPaths, tmp_path: Path) -> None:
    from transform.dbt import prepare_dbt_manifest

    # Parse with this test's data directory in the profile, so dbt's partial parsing holds in the run.
    prepare_dbt_manifest(force=True)
    from dagster_project.assets.ingestion import raw_asset_key
    from dagster_project.definitions import defs
    from dagster_project.runner import run_refresh_all

    truth = generate(data_dir.root, people=PEOPLE, seed=SEED)
    lines: list[str] = []

    home = tmp_path / "dagster_home"
    home.mkdir()
    with DagsterInstance.local_temp(str(home)) as instance:
        outcome = run_refresh_all(instance, out=lines.append)
        assert outcome.success, "\n".join(f"{step}: {msg}" for step, msg in outcome.failed_steps.items())

        # Every asset of the graph was materialized in this one run.
        materialized = {
            record.asset_key
            for record in instance.get_records_for_run(outcome.run_id).records
            if record.event_log_entry.is_dagster_event
            and record.event_log_entry.dagster_event.is_step_materialization
        }
        assert materialized == set(defs.resolve_asset_graph().materializable_asset_keys)
        assert not outcome.checks_failed

        # Ground truth: every row the generator wrote is either loaded or quarantined, no file rejected.
        counts = _raw_counts(data_dir)
        for source in SOURCES:
            load = outcome.loads[source]
            assert load.new_files == len(truth.files[source]), source
            assert load.files_rejected == 0, (source, load.rejected)
            assert load.rows_loaded + load.rows_quarantined == truth.rows[source], source
            assert counts[source] == truth.rows[source] - load.rows_quarantined, source
        # The only rows the generator breaks on purpose are Tmall ids destroyed by Excel (1.23457E+18).
        assert outcome.loads["tmall"].rows_quarantined == truth.destroyed_ids
        other = sum(outcome.loads[s].rows_quarantined for s in SOURCES if s != "tmall")
        assert other == 0, _quarantine_reasons(data_dir)

        # The activation lists were written: one WeCom and one SMS file per audience, SMS owner-only.
        from reporting.summary import AUDIENCES

        wecom = sorted((data_dir.exports / "audiences").glob("*/wecom_*.csv"))
        sms = sorted((data_dir.exports / "restricted" / "audiences").glob("*/sms_*.csv"))
        assert len(wecom) == len(sms) == len(AUDIENCES)
        assert all(path.stat().st_mode & 0o077 == 0 for path in sms)

        # Loading again adds nothing.
        job = defs.resolve_job_def("refresh_all")
        again = job.execute_in_process(
            instance=instance, asset_selection=[raw_asset_key(s) for s in SOURCES], raise_on_error=True
        )
        for source in SOURCES:
            [event] = again.asset_materializations_for_node(f"raw__{source}")
            assert event.metadata["rows loaded"].value == 0
            assert event.metadata["files already loaded"].value == len(truth.files[source])
        assert _raw_counts(data_dir) == counts

    assert any(line.startswith("[dbt_models] done") for line in lines)
