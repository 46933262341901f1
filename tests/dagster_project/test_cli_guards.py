"""The CLI refuses, in one clear line and before anything runs, what would publish empty or absurd marts
or silently create a data directory in the wrong place; disk errors end in one line, not a traceback."""

from __future__ import annotations

import errno

import duckdb
import pytest

from core.paths import DataPaths
from dagster_project import cli


def _warehouse_with_purchases(paths: DataPaths) -> None:
    """marts.fct_orders with purchases on 2025-03-01 and 2025-06-30 and a non-purchase later."""
    paths.root.mkdir(parents=True, exist_ok=True)
    with duckdb.connect(str(paths.warehouse)) as con:
        con.execute("create schema marts")
        con.execute("create table marts.fct_orders (ordered_at timestamp, is_purchase boolean)")
        con.execute(
            "insert into marts.fct_orders values ('2025-03-01 10:00', true), ('2025-06-30 23:59', true), "
            "('2025-12-31 09:00', false)"
        )


def test_a_run_from_the_wrong_folder_creates_nothing(tmp_path, monkeypatch, capsys) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("REPURCHASE_DATA_DIR", raising=False)
    assert cli.main(["run"]) == 2
    out = capsys.readouterr().out
    assert f"no data directory at {tmp_path / 'data'}" in out and "REPURCHASE_DATA_DIR" in out
    assert not (tmp_path / "data").exists()


def test_a_data_dir_without_exports_says_where_to_put_them(data_dir, capsys) -> None:
    assert cli.main(["run"]) == 2
    out = capsys.readouterr().out
    assert f"no exports in {data_dir.landing}" in out and "repurchase demo" in out
    assert not data_dir.warehouse.exists()


@pytest.mark.parametrize(
    ("as_of", "expected"),
    [
        ("2025-02-28", "before the first purchase in the data (2025-03-01)"),
        # 2025-06-30 + 180 days = 2025-12-27: the last day allowed
        ("2025-12-28", "more than 180 days after the newest purchase (2025-06-30)"),
    ],
)
def test_an_as_of_outside_the_data_is_refused(data_dir, capsys, as_of, expected) -> None:
    _warehouse_with_purchases(data_dir)
    assert cli.main(["run", "--as-of", as_of]) == 2
    out = capsys.readouterr().out
    assert expected in out and out.count("\n") == 1
    assert not (data_dir.root / "dagster_home").exists()  # nothing ran


@pytest.mark.parametrize("as_of", ["2025-03-01", "2025-12-27"])
def test_the_bounds_themselves_are_allowed(data_dir, as_of) -> None:
    _warehouse_with_purchases(data_dir)
    assert cli.check_as_of(data_dir, as_of) is None


def test_a_full_disk_is_one_line(data_dir, capsys, monkeypatch) -> None:
    def full(args) -> int:
        raise OSError(errno.ENOSPC, "No space left on device", str(data_dir.warehouse))

    monkeypatch.setattr(cli, "cmd_run", full)
    assert cli.main(["run"]) == 1
    out = capsys.readouterr().out
    assert out.startswith("ERROR: No space left on device: ") and out.count("\n") == 1


# dbt-core 1.11's failure text when an incremental table has a column the model no longer writes, as a run
# on a warehouse built before issue 17's identity round printed it (copied from that run's output).
SCHEMA_CHANGE_FAILURE = """Compilation Error in model int_identifier_candidates (models/intermediate/identity/int_identifier_candidates.sql)
                The source and target schemas on this incremental model are out of sync!
                They can be reconciled in several ways:
                  - set the `on_schema_change` config to either append_new_columns or sync_all_columns, depending on your situation.
                  - Re-run the incremental model with `full_refresh: True` to update the target schema.
                Additional troubleshooting context:
                   Target columns not in source: [DuckDBColumn(column='identifier_key', dtype='VARCHAR')]"""


def test_a_warehouse_from_an_earlier_version_is_told_to_run_a_full_refresh() -> None:
    hint = cli.upgrade_hint(["dbt build failed", SCHEMA_CHANGE_FAILURE], full_refresh=False)
    assert hint is not None and "repurchase run --full-refresh" in hint and "keeps every customer id" in hint
    # nothing to add to other failures, or when the run already was a full refresh
    assert cli.upgrade_hint(["Failure in test unique_fct_orders_order_key"], full_refresh=False) is None
    assert cli.upgrade_hint([SCHEMA_CHANGE_FAILURE], full_refresh=True) is None
