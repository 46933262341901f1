"""Setting a landing file aside (``ingestion.set_aside``) on tiny hand-written touches files loaded by the
real loader into a throw-away warehouse: the file moves to ``_set_aside/``, its raw and quarantine rows go,
its manifest row says why, and the next load does not read it again."""

from __future__ import annotations

import datetime as dt

import duckdb
import pytest

from core.paths import DataPaths
from ingestion import set_aside as set_aside_module
from ingestion.loader import load_source
from ingestion.set_aside import (
    FULL_REFRESH_MARKER,
    SetAsideError,
    clear_full_refresh,
    file_remedy,
    pending_full_refresh,
    set_aside,
    set_aside_command,
)

HEADER = "campaign_id,campaign_name,channel,variant,recipient_type,recipient,event_type,event_time\n"
# 2 good rows.
GOOD = HEADER + (
    "C1,双十一,sms,A,phone,13812345678,sent,2026-10-01 10:00:00\n"
    "C1,双十一,sms,A,phone,13812345678,delivered,2026-10-01 10:00:05\n"
)
# 1 good row (row 2), 2 rows with an event type no platform reports (rows 3 and 4): quarantined.
MOSTLY_BAD = HEADER + (
    "C2,周年庆,sms,A,phone,13912345678,sent,2026-10-02 10:00:00\n"
    "C2,周年庆,sms,A,phone,13912345678,beamed,2026-10-02 10:00:01\n"
    "C2,周年庆,sms,A,phone,13912345678,teleported,2026-10-02 10:00:02\n"
)
# No event_time column: rejected whole.
NO_TIME = "campaign_id,channel,recipient_type,recipient,event_type\nC3,sms,phone,13812345678,sent\n"
NOW = dt.datetime(2026, 12, 1, 12, 0)


@pytest.fixture
def paths(tmp_path) -> DataPaths:
    paths = DataPaths(tmp_path / "data")
    paths.landing_for("touches").mkdir(parents=True)
    return paths


def _land(paths: DataPaths, name: str, text: str) -> None:
    (paths.landing_for("touches") / name).write_text(text, encoding="utf-8")


def _load(paths: DataPaths):
    with duckdb.connect(str(paths.warehouse)) as con:
        return load_source(con, paths.landing, "touches")


def _query(paths: DataPaths, sql: str, parameters: list | None = None) -> list[tuple]:
    with duckdb.connect(str(paths.warehouse), read_only=True) as con:
        return con.execute(sql, parameters or []).fetchall()


def test_a_loaded_file_is_moved_and_its_rows_removed(paths: DataPaths) -> None:
    _land(paths, "good.csv", GOOD)
    _land(paths, "mostly_bad.csv", MOSTLY_BAD)
    _load(paths)
    assert _query(paths, "select count(*) from raw.touches") == [(3,)]  # 2 + 1
    assert _query(paths, "select count(*) from raw._quarantine") == [(2,)]

    result = set_aside(paths, "touches/mostly_bad.csv", "event types of a test platform", now=NOW)

    moved = paths.landing_for("touches") / "_set_aside" / "mostly_bad.csv"
    assert result.moved_to == moved and moved.read_text(encoding="utf-8") == MOSTLY_BAD
    assert not (paths.landing_for("touches") / "mostly_bad.csv").exists()
    assert (result.raw_rows_deleted, result.quarantine_rows_deleted, result.manifest_rows_marked) == (1, 2, 1)
    # Only good.csv's 2 rows are left; the quarantine held nothing else.
    assert _query(paths, "select distinct _file_name from raw.touches") == [("touches/good.csv",)]
    assert _query(paths, "select count(*) from raw._quarantine") == [(0,)]
    assert _query(
        paths,
        "select file_name, status, set_aside_reason, set_aside_at from raw._files order by file_name",
    ) == [
        ("touches/good.csv", "loaded", None, None),
        ("touches/mostly_bad.csv", "set_aside", "event types of a test platform", NOW),
    ]
    # Raw rows were deleted: the next run must rebuild the incremental models.
    assert result.full_refresh_marker == paths.root / FULL_REFRESH_MARKER
    assert pending_full_refresh(paths) == (
        "2026-12-01 12:00:00 UTC: touches/mostly_bad.csv set aside, 1 rows deleted from raw.touches "
        "(reason: event types of a test platform)\n"
    )


def test_the_loader_does_not_read_the_set_aside_folder_again(paths: DataPaths) -> None:
    _land(paths, "good.csv", GOOD)
    _land(paths, "mostly_bad.csv", MOSTLY_BAD)
    _load(paths)
    set_aside(paths, "touches/mostly_bad.csv", "broken", now=NOW)
    _land(paths, "more.csv", GOOD.replace("C1", "C9"))  # a new export after the set-aside columns exist
    report = _load(paths)
    assert [(f.file_name, f.status) for f in report.files] == [
        ("touches/_set_aside", "ignored"),
        ("touches/good.csv", "already_loaded"),
        ("touches/more.csv", "loaded"),
    ]
    assert _query(paths, "select count(*) from raw.touches") == [(4,)]  # good.csv 2 + more.csv 2


def test_a_rejected_file_needs_no_full_refresh(paths: DataPaths) -> None:
    _land(paths, "no_time.csv", NO_TIME)
    _load(paths)
    result = set_aside(paths, "touches/no_time.csv", "no event time column", now=NOW)
    assert (result.raw_rows_deleted, result.quarantine_rows_deleted, result.manifest_rows_marked) == (0, 0, 1)
    assert result.full_refresh_marker is None and pending_full_refresh(paths) is None
    assert _query(paths, "select status from raw._files") == [("set_aside",)]


def test_a_file_never_loaded_is_only_moved(paths: DataPaths) -> None:
    _land(paths, "good.csv", GOOD)
    result = set_aside(paths, "touches/good.csv", "wrong shop", now=NOW)
    assert result.manifest_rows_marked == 0 and result.full_refresh_marker is None
    assert result.moved_to.is_file() and not paths.warehouse.exists()


def test_a_name_taken_in_the_set_aside_folder_is_not_overwritten(paths: DataPaths) -> None:
    _land(paths, "good.csv", GOOD)
    set_aside(paths, "touches/good.csv", "first", now=NOW)
    _land(paths, "good.csv", GOOD.replace("C1", "C2"))
    result = set_aside(paths, "touches/good.csv", "second", now=NOW)
    assert result.moved_to.name == "good.set-aside-20261201T120000.csv"
    assert (paths.landing_for("touches") / "_set_aside" / "good.csv").read_text(encoding="utf-8") == GOOD


@pytest.mark.parametrize(
    ("target", "reason", "message"),
    [
        ("fax/x.csv", "r", "name the file as <source>/<file name>"),
        ("good.csv", "r", "name the file as <source>/<file name>"),
        ("touches/../pos/x.csv", "r", "without '..'"),
        ("touches/_set_aside/old.csv", "r", "already set aside"),
        (
            "touches/missing.csv",
            "r",
            (
                "no file landing/touches/missing.csv: nothing was changed. Files of "
                "landing/touches/: touches/good.csv"
            ),
        ),
        ("touches/good.csv", "  ", "say why the file is set aside"),
        ("touches/good.csv", "<why>", "say why the file is set aside"),
    ],
)
def test_unusable_targets_change_nothing(paths: DataPaths, target: str, reason: str, message: str) -> None:
    _land(paths, "good.csv", GOOD)
    with pytest.raises(SetAsideError, match=message.replace("(", r"\(").replace(".", r"\.")):
        set_aside(paths, target, reason)
    assert (paths.landing_for("touches") / "good.csv").is_file()
    assert not (paths.landing_for("touches") / "_set_aside").exists()


def test_landing_prefix_and_absolute_paths_are_accepted(paths: DataPaths) -> None:
    _land(paths, "a.csv", GOOD)
    _land(paths, "b.csv", GOOD.replace("C1", "C2"))
    assert set_aside(paths, "landing/touches/a.csv", "r").file_name == "touches/a.csv"
    assert set_aside(paths, str(paths.landing_for("touches") / "b.csv"), "r").file_name == "touches/b.csv"


def test_the_file_goes_back_when_the_warehouse_cannot_be_changed(paths: DataPaths, monkeypatch) -> None:
    _land(paths, "good.csv", GOOD)
    _load(paths)

    def fail(*args, **kwargs):
        raise duckdb.IOException("Could not set lock on file")

    monkeypatch.setattr(set_aside_module, "_forget_file", fail)
    with pytest.raises(duckdb.IOException):
        set_aside(paths, "touches/good.csv", "r")
    assert (paths.landing_for("touches") / "good.csv").read_text(encoding="utf-8") == GOOD
    assert not (paths.landing_for("touches") / "_set_aside" / "good.csv").exists()
    assert _query(paths, "select status from raw._files") == [("loaded",)]


def test_the_marker_is_cleared_only_when_unchanged(paths: DataPaths) -> None:
    marker = paths.root / FULL_REFRESH_MARKER
    assert pending_full_refresh(paths) is None
    marker.write_text("one\n", encoding="utf-8")
    seen = pending_full_refresh(paths)
    marker.write_text("one\ntwo\n", encoding="utf-8")  # another file set aside during the run
    assert clear_full_refresh(paths, seen) is False and marker.is_file()
    assert clear_full_refresh(paths, "one\ntwo\n") is True and not marker.exists()


def test_remedy_lines_end_with_the_exact_commands() -> None:
    assert set_aside_command("tmall/tmall_2026-10.csv") == (
        'repurchase set-aside tmall/tmall_2026-10.csv --reason "<why>"'
    )
    assert (
        set_aside_command("pos/销售 明细.csv", "bad export")
        == "repurchase set-aside 'pos/销售 明细.csv' --reason 'bad export'"
    )
    assert file_remedy("tmall/tmall_2026-10.csv") == (
        "Remedy: replace landing/tmall/tmall_2026-10.csv with a corrected export (drop it into "
        "landing/tmall/ "
        "and remove the broken one), or set the file aside: `repurchase set-aside tmall/tmall_2026-10.csv "
        '--reason "<why>"`; then `repurchase run`'
    )
