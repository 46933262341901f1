"""The automated touch's exports on the session's refreshed demo: each channel's list holds no customer twice
for one trigger and day, no customer on two channels for one trigger, only sent rows, and the send log holds
exactly what was exported."""

from __future__ import annotations

import csv
import stat

import duckdb
import pytest

from reporting.trigger_exports import TRIGGER_CHANNELS

pytestmark = pytest.mark.e2e


def _rows(path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


def test_demo_trigger_exports_touch_each_customer_once_per_trigger(refreshed_demo) -> None:
    paths = refreshed_demo.paths
    with duckdb.connect(str(paths.warehouse), read_only=True) as con:
        as_of = con.execute("select as_of_date from marts.repurchase_as_of").fetchone()[0]
        sent = con.execute("select count(*) from marts.activation_triggers where is_sent").fetchone()[0]
        log = con.execute(
            "select customer_id, trigger_code, channel from raw._touch_send_log where as_of_date = ?", [as_of]
        ).fetchall()
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
