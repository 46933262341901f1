"""The GX suites on hand-written raw rows: what passes, what fails, and how a failure is reported.

Rows go into a real ``raw.pos`` / ``raw.touches`` (created by ``ingestion.schemas``) in an in-memory
DuckDB and are read back with the gate's own reader, so the dtypes are those the pipeline validates.
"""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import duckdb
import pytest

from core.paths import SOURCES, DataPaths
from ingestion.schemas import create_raw_tables
from quality.context import (
    EXPECTATIONS_DIR,
    ensure_gates,
    open_context,
    run_gate,
    suite_drift,
)
from quality.raw_frames import (
    freshness_reference,
    manifest_rows_loaded,
    read_raw_frame,
    rejected_files_in_landing,
)
from quality.report import failed_expectations, failures_markdown
from quality.suites import FRESH_SINCE_PARAMETER, MANIFEST_ROWS_PARAMETER

POS_ROWS = [
    # receipt_no, receipt_type, sold_at, phone, quantity, unit_price, paid_amount, payment_method, row
    ("R1", "销售", "2026-10-30 10:00:00", "13812345678", 1.0, 99.00, 99.00, "微信", 2),
    ("R1", "销售", "2026-10-30 10:00:00", "13812345678", 2.0, 50.00, 100.00, "微信", 3),
    ("R2", "退货", "2026-10-31 18:30:00", None, -1.0, 99.00, -99.00, "现金", 4),
]
FILE_NAME = "pos/pos_2026-10.csv"


@pytest.fixture(scope="module")
def gx(tmp_path_factory: pytest.TempPathFactory):
    """The committed context with run artefacts in a temporary data directory."""
    paths = DataPaths(tmp_path_factory.mktemp("gx_data"))
    context = open_context(paths)
    ensure_gates(context)
    return context


@pytest.fixture
def con() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    create_raw_tables(con)
    con.executemany(
        "insert into raw.pos (receipt_no, receipt_type, store_code, sold_at, phone, phone_masked, sku_code, "
        "quantity, unit_price, discount_amount, paid_amount, payment_method, _file_sha256, _file_name, "
        "_row_number, _loaded_at) values (?, ?, 'S01', ?, ?, false, 'SKU1', ?, ?, 0, ?, ?, 'abc', ?, ?, "
        "'2026-11-01 00:00:00')",
        [(*row[:8], FILE_NAME, row[8]) for row in POS_ROWS],
    )
    con.execute(
        "insert into raw._files (source, file_name, sha256, rows_in, rows_loaded, rows_quarantined, status) "
        "values ('pos', ?, 'abc', 3, 3, 0, 'loaded'), ('pos', 'pos/broken.csv', 'def', 0, 0, 0, 'rejected')",
        [FILE_NAME],
    )
    yield con
    con.close()


def _validate(gx, con, source: str = "pos", *, rows: int = 3, since: str = "2026-10-25 00:00:00"):
    frame = read_raw_frame(con, source).frame
    parameters = {MANIFEST_ROWS_PARAMETER: rows, FRESH_SINCE_PARAMETER: dt.datetime.fromisoformat(since)}
    return run_gate(gx, source, frame, parameters)


def test_committed_suites_are_what_the_code_defines(gx) -> None:
    assert [problem for source in SOURCES for problem in suite_drift(gx, source)] == []


def test_bootstrap_on_a_fresh_copy_writes_nothing(tmp_path: Path) -> None:
    project = tmp_path / "expectations"
    shutil.copytree(EXPECTATIONS_DIR, project, ignore=shutil.ignore_patterns("uncommitted"))
    before = {p.relative_to(project): p.read_bytes() for p in project.rglob("*") if p.is_file()}
    context = open_context(DataPaths(tmp_path / "data"), project_dir=project)
    gates = ensure_gates(context)
    after = {p.relative_to(project): p.read_bytes() for p in project.rglob("*") if p.is_file()}
    assert after == before
    assert sorted(gates) == sorted(SOURCES)
    assert {c.name for c in context.checkpoints.all()} == {f"raw__{s}" for s in SOURCES}


def test_clean_rows_pass(gx, con) -> None:
    result = _validate(gx, con)
    assert failed_expectations(result) == []
    assert result.success


def test_manifest_count_is_the_loaded_rows_of_the_source(con) -> None:
    assert manifest_rows_loaded(con, "pos") == 3  # the rejected file adds nothing
    assert manifest_rows_loaded(con, "jd") == 0


def test_null_key_fails_naming_file_and_row(gx, con) -> None:
    con.execute("update raw.pos set receipt_no = null where _row_number = 3")
    [failure] = failed_expectations(_validate(gx, con))
    assert (failure.expectation, failure.column, failure.severity) == (
        "expect_column_values_to_not_be_null",
        "receipt_no",
        "critical",
    )
    assert failure.problem.startswith("1 of 3 rows fail")
    assert failure.samples == (f"{FILE_NAME} row 3: null",)
    table = failures_markdown([failure])
    assert "| critical | expect_column_values_to_not_be_null | receipt_no |" in table


def test_unknown_status_bad_phone_and_money_out_of_bounds_fail(gx, con) -> None:
    con.execute("update raw.pos set receipt_type = '赠品', phone = '12812345678' where _row_number = 2")
    con.execute("update raw.pos set paid_amount = 250000 where _row_number = 4")
    failures = {(f.expectation, f.column): f for f in failed_expectations(_validate(gx, con))}
    assert set(failures) == {
        ("expect_column_values_to_be_in_set", "receipt_type"),
        ("expect_column_values_to_match_regex", "phone"),
        ("expect_column_values_to_be_between", "paid_amount"),
    }
    assert failures[("expect_column_values_to_be_in_set", "receipt_type")].samples == (
        f"{FILE_NAME} row 2: '赠品'",
    )
    assert failures[("expect_column_values_to_be_between", "paid_amount")].samples == (
        f"{FILE_NAME} row 4: 250000.0",
    )
    assert all(f.blocking for f in failures.values())


def test_new_payment_method_is_a_warning_only(gx, con) -> None:
    con.execute("update raw.pos set payment_method = '云闪付' where _row_number = 4")
    [failure] = failed_expectations(_validate(gx, con))
    assert (failure.column, failure.severity, failure.blocking) == ("payment_method", "warning", False)


def test_money_column_of_text_fails_the_type(gx, con) -> None:
    # Schema drift: the table's money column became text.
    con.execute("alter table raw.pos alter paid_amount type varchar")
    failures = {f.expectation: f for f in failed_expectations(_validate(gx, con))}
    assert set(failures) == {"expect_column_values_to_be_of_type", "expect_column_values_to_be_between"}
    assert failures["expect_column_values_to_be_of_type"].column == "paid_amount"
    assert failures["expect_column_values_to_be_of_type"].problem == "observed 'str', expected type_=float64"
    # Text cannot be compared with the money bounds: reported as not evaluable, still a failure.
    assert failures["expect_column_values_to_be_between"].problem.startswith("could not be evaluated (")


def test_row_count_must_equal_the_manifest(gx, con) -> None:
    [failure] = failed_expectations(_validate(gx, con, rows=4))
    assert failure.expectation == "expect_table_row_count_to_equal"
    assert failure.problem.startswith("observed 3")


def test_stale_feed_fails_freshness(gx, con) -> None:
    # Newest sale 2026-10-31 18:30; the reference says it must be newer than 2026-11-01.
    [failure] = failed_expectations(_validate(gx, con, since="2026-11-01 00:00:00"))
    assert (failure.expectation, failure.column) == ("expect_column_max_to_be_between", "sold_at")


def test_touch_recipients_of_type_phone_match_the_pattern(gx) -> None:
    con = duckdb.connect()
    create_raw_tables(con)
    con.executemany(
        "insert into raw.touches (campaign_id, channel, recipient_type, recipient, event_type, event_time, "
        "_file_sha256, _file_name, _row_number, _loaded_at) values ('C1', 'sms', ?, ?, 'sent', "
        "'2026-10-30 09:00:00', 'x', 'touches/t.csv', ?, '2026-11-01 00:00:00')",
        [("phone", "13812345678", 2), ("member_card", "M0001", 3), ("phone", "10086", 4)],
    )
    [failure] = failed_expectations(_validate(gx, con, "touches"))
    assert (failure.column, failure.samples) == ("recipient", ("touches/t.csv row 4: '10086'",))


def test_freshness_reference_is_as_of_else_the_newest_data() -> None:
    newest = {"pos": dt.datetime(2026, 10, 29, 19, 0), "tmall": dt.datetime(2026, 10, 31, 8, 0), "jd": None}
    assert freshness_reference(newest, None) == dt.datetime(2026, 10, 31, 8, 0)
    assert freshness_reference(newest, dt.date(2026, 6, 30)) == dt.datetime(2026, 6, 30, 23, 59, 59)
    assert freshness_reference({"pos": None}, None) is None


def test_rejected_file_counts_only_while_its_bytes_are_in_landing(tmp_path: Path) -> None:
    from ingestion.adapters.base import file_sha256

    landing = tmp_path / "landing"
    (landing / "tmall").mkdir(parents=True)
    broken = landing / "tmall" / "broken.csv"
    broken.write_bytes(b"not,an,export\n")
    con = duckdb.connect()
    create_raw_tables(con)
    con.execute(
        "insert into raw._files (source, file_name, sha256, status, message) values "
        "('tmall', 'tmall/broken.csv', ?, 'rejected', 'tmall/broken.csv: missing required column 订单编号'),"
        "('tmall', 'tmall/gone.csv', 'ffff', 'rejected', 'gone')",
        [file_sha256(broken)],
    )
    [found] = rejected_files_in_landing(con, landing, "tmall")
    assert (found.file_name, found.message) == (
        "tmall/broken.csv",
        "tmall/broken.csv: missing required column 订单编号",
    )
    broken.write_bytes(b"a corrected export\n")  # replaced by the merchant: other bytes
    assert rejected_files_in_landing(con, landing, "tmall") == []


def test_sparse_feed_may_be_quiet_longer() -> None:
    from quality.raw_frames import EventSpan, allowed_gap_days

    # 4 orders over 30 days: one every 10 days; a live feed leaves a gap of ln(1000) x 10 = 69.08 days
    # with probability 0.1%.
    sparse = EventSpan(dt.datetime(2026, 1, 1), dt.datetime(2026, 1, 31), 4)
    assert sparse.mean_gap_days == 10.0
    assert round(allowed_gap_days(14, sparse), 2) == 69.08
    # 31 orders over the same 30 days: one a day; the configured 14 days hold.
    assert allowed_gap_days(14, EventSpan(dt.datetime(2026, 1, 1), dt.datetime(2026, 1, 31), 31)) == 14.0
    assert allowed_gap_days(14, EventSpan(None, None, 0)) == 14.0
