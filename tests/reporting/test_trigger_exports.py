"""The automated touch's exports on the session's refreshed demo: each channel's list holds no customer twice
for one trigger and day, no customer on two channels for one trigger, only sent rows, and the send log holds
exactly what was exported.

The refreshed demo (200 people) fires nothing on its own as_of, so the trigger models are rebuilt on a copy
for a day 30 days after a purchase day (a repurchase reminder must fire), and the export runs there."""

from __future__ import annotations

import csv
import datetime as dt
import stat
from pathlib import Path

import duckdb
import pytest

from reporting.trigger_exports import TRIGGER_CHANNELS, write_trigger_exports
from tests.helpers.refreshed_demo import copy_data_dir
from transform.dbt import run_dbt, vars_arg

pytestmark = pytest.mark.e2e


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


def test_demo_trigger_exports_touch_each_customer_once_per_trigger(refreshed_demo, tmp_path: Path) -> None:
    paths = copy_data_dir(refreshed_demo, tmp_path / "data")
    with duckdb.connect(str(paths.warehouse), read_only=True) as con:
        last_as_of = con.execute("select as_of_date from marts.repurchase_as_of").fetchone()[0]
        purchase_day = con.execute(
            "select max(purchase_date) from marts.repurchase_purchases where purchase_date <= ?",
            [last_as_of - dt.timedelta(days=30)],
        ).fetchone()[0]
    as_of = purchase_day + dt.timedelta(days=30)
    run_dbt(
        ["run", "--select", "repurchase_as_of", "int_activation_triggers_fired", "int_touch_eligibility",
         "activation_triggers",
         *vars_arg({"as_of": as_of.isoformat()})],
        data_dir=paths.root, target_path=tmp_path / "target",
    )  # fmt: skip
    with duckdb.connect(str(paths.warehouse)) as con:
        write_trigger_exports(con, paths.exports)
        fired, sent = con.execute(
            "select count(*), count(*) filter (where is_sent) from marts.activation_triggers"
        ).fetchone()
        reminders = con.execute(
            "select count(*) from marts.activation_triggers where trigger_code = 'repurchase_reminder'"
        ).fetchone()[0]
        log = con.execute(
            "select customer_id, trigger_code, channel from raw._touch_send_log where as_of_date = ?", [as_of]
        ).fetchall()
    assert reminders >= 1 and fired >= sent >= 1

    folder = paths.exports / "restricted" / "triggers" / as_of.isoformat()
    seen: list[tuple[str, str]] = []
    exported: set[tuple[str, str, str]] = set()
    for channel in TRIGGER_CHANNELS:
        path = folder / f"{channel}_triggers.csv"
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        for row in _rows(path):
            seen.append((row["客户ID"], row["触发规则"]))
            exported.add((row["客户ID"], row["触发规则"], channel))
    assert len(seen) == len(set(seen)), "a customer twice for one trigger and day (across or within channels)"
    assert len(seen) == sent
    assert set(log) == exported and len(log) == len(exported)
