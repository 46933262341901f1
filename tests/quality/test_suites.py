"""The GX suites: built from the source registry, written into the data directory's GX context, and run on
hand-written raw rows: what passes, what fails, and how a failure is reported.

Rows go into a real ``raw.<source>`` (created by ``ingestion.schemas``) in an in-memory DuckDB and are read
back with the gate's own reader, so the dtypes are those the pipeline validates.
"""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest

from core.paths import REPO_ROOT, SOURCES, DataPaths
from core.sources import DUCKDB_TYPES, PHONE_PATTERN, REGISTRY
from ingestion.schemas import LINEAGE, create_raw_tables, raw_table_columns
from quality.context import ensure_gates, open_context, run_gate, runtime_dir
from quality.raw_frames import manifest_rows_loaded, read_raw_frame, rejected_files_in_landing
from quality.report import failed_expectations, failures_markdown
from quality.suites import (
    MANIFEST_ROWS_PARAMETER,
    PANDAS_DTYPES,
    README,
    build_suite,
    readme_rules_section,
    rules_markdown,
)

POS_ROWS = [
    # receipt_no, receipt_type, sold_at, phone, quantity, unit_price, paid_amount, payment_method, row
    ("R1", "销售", "2026-10-30 10:00:00", "13812345678", 1.0, 99.00, 99.00, "微信", 2),
    ("R1", "销售", "2026-10-30 10:00:00", "13812345678", 2.0, 50.00, 100.00, "微信", 3),
    ("R2", "退货", "2026-10-31 18:30:00", None, -1.0, 99.00, -99.00, "现金", 4),
]
FILE_NAME = "pos/pos_2026-10.csv"


@pytest.fixture(scope="module")
def gx(tmp_path_factory: pytest.TempPathFactory):
    """The gates written from code into the GX context of a temporary data directory."""
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


def _validate(gx, con, source: str = "pos", *, rows: int = 3):
    frame = read_raw_frame(con, source).frame
    return run_gate(gx, source, frame, {MANIFEST_ROWS_PARAMETER: rows})


def _config(expectation) -> dict:
    """An expectation's configuration without its id (ids are assigned when a suite is stored)."""
    config = expectation if isinstance(expectation, dict) else expectation.configuration.to_json_dict()
    return {key: value for key, value in config.items() if key != "id"}


def _key(expectation) -> tuple:
    config = _config(expectation)
    kwargs = config["kwargs"]
    detail = {k: v for k, v in kwargs.items() if k not in ("column", "column_list", "value_set", "type_")}
    column = kwargs.get("column") or ",".join(kwargs.get("column_list") or [])
    values = tuple(kwargs.get("value_set") or ()) or kwargs.get("type_")
    return (config["type"], column, values, json.dumps(detail, sort_keys=True, default=str), config["severity"])


def _registry_rules(source) -> set[tuple]:
    """What the suite of ``source`` must hold, written out from the registry entry (not by suites.py)."""
    no_detail = json.dumps({})
    rules = {
        ("expect_table_columns_to_match_ordered_list", ",".join(raw_table_columns(source.name)), None, no_detail,
         "critical"),
        ("expect_table_row_count_to_equal", "", None,
         json.dumps({"value": {"$PARAMETER": MANIFEST_ROWS_PARAMETER}}), "critical"),
    }
    for column, duckdb_type in raw_table_columns(source.name).items():
        rules.add(("expect_column_values_to_be_of_type", column, PANDAS_DTYPES[duckdb_type], no_detail, "critical"))
    for column in (*source.not_null, "_file_sha256", "_file_name", "_row_number", "_loaded_at"):
        rules.add(("expect_column_values_to_not_be_null", column, None, no_detail, "critical"))
    if source.unique_per_file:
        rules.add(("expect_compound_columns_to_be_unique", ",".join(["_file_sha256", *source.unique_per_file]),
                   None, no_detail, "critical"))
    for sets, severity in ((source.status_sets, "critical"), (source.soft_value_sets, "warning")):
        for column, values in sets.items():
            rules.add(("expect_column_values_to_be_in_set", column, tuple(values), no_detail, severity))
    for column, (low, high) in source.money_bounds.items():
        rules.add(("expect_column_values_to_be_between", column, None,
                   json.dumps({"max_value": float(high), "min_value": float(low)}, sort_keys=True), "critical"))
    for phone in source.phone_columns:
        detail = {"regex": PHONE_PATTERN}
        if phone.when:
            detail["row_condition"] = {"column": {"name": phone.when[0]}, "operator": "==",
                                       "parameter": phone.when[1], "type": "comparison"}
        rules.add(("expect_column_values_to_match_regex", phone.column, None, json.dumps(detail, sort_keys=True),
                   "critical"))
    return rules


@pytest.mark.parametrize("source", REGISTRY, ids=lambda s: s.name)
def test_each_registry_rule_is_in_the_built_suite_and_nothing_else(source) -> None:
    built = [_key(e) for e in build_suite(source.name).expectations]
    assert len(built) == len(set(built))
    assert set(built) == _registry_rules(source)


def test_every_duckdb_type_has_a_pandas_type() -> None:
    assert set(PANDAS_DTYPES) == set(DUCKDB_TYPES)
    assert set(LINEAGE.values()) <= set(PANDAS_DTYPES)


def _files(folder: Path) -> set[Path]:
    return {p for p in folder.rglob("*") if p.is_file()}


def test_gates_are_written_into_the_data_directory_from_code(tmp_path: Path) -> None:
    repository = _files(REPO_ROOT / "quality")
    paths = DataPaths(tmp_path / "data")
    context = open_context(paths)
    gates = ensure_gates(context)
    assert sorted(gates) == sorted(SOURCES)
    root = runtime_dir(paths)
    assert {p.name for p in (root / "expectations").glob("raw__*.json")} == {f"raw__{s}.json" for s in SOURCES}
    assert {c.name for c in context.checkpoints.all()} == {f"raw__{s}" for s in SOURCES}
    stored = json.loads((root / "expectations" / "raw__pos.json").read_text("utf-8"))["expectations"]
    assert [_config(e) for e in stored] == [_config(e) for e in build_suite("pos").expectations]
    # Nothing of the context is in the repository, nor written there.
    assert not [p for p in repository if p.suffix in (".json", ".yml")]
    assert _files(REPO_ROOT / "quality") == repository


def test_a_stored_suite_is_rewritten_to_the_code_when_the_gate_opens(tmp_path: Path) -> None:
    paths = DataPaths(tmp_path / "data")
    ensure_gates(open_context(paths), ("pos",))
    stored = runtime_dir(paths) / "expectations" / "raw__pos.json"
    edited = json.loads(stored.read_text("utf-8"))
    edited["expectations"] = edited["expectations"][:2]  # a hand edit, or a suite from an older version
    stored.write_text(json.dumps(edited), encoding="utf-8")
    context = open_context(paths)
    ensure_gates(context, ("pos",))
    assert [_config(e) for e in context.suites.get("raw__pos").expectations] == [
        _config(e) for e in build_suite("pos").expectations
    ]


def test_readme_rules_are_generated_from_the_registry() -> None:
    section = readme_rules_section(README.read_text("utf-8"))
    assert section == rules_markdown(), "run `python -m quality.suites --write` and commit quality/README.md"
    row = next(line for line in rules_markdown().splitlines() if line.startswith("| `raw__pos`"))
    assert row == (
        "| `raw__pos` | sold_at | warn 3, error 35 | receipt_no, receipt_type, store_code, sold_at, sku_code, quantity, "
        "paid_amount | – | receipt_type {销售, 退货} | payment_method {微信, 支付宝, 现金, 银行卡, 储值卡} | "
        "unit_price 0…100,000; discount_amount -100,000…100,000; paid_amount -100,000…100,000 | phone |"
    )


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


# --------------------------------------------------------------- every rule kind of every source, live
VALUES_BY_TYPE = {
    "VARCHAR": None,  # per row: "<column>-<row>"
    "TIMESTAMP": "2026-10-30 10:00:00",
    "DECIMAL(18,2)": 1.0,
    "DOUBLE": 1.0,
    "INTEGER": 1,
    "BOOLEAN": False,
}


def _good_row(source, row_number: int) -> dict:
    """A row of ``raw.<source>`` every rule of its suite accepts: texts unique per row, status and soft
    columns the first value of their set, phones a valid mobile, money 1.00 (inside every bound)."""
    phones = {p.column for p in source.phone_columns}
    row = {}
    for column, duckdb_type in source.column_types.items():
        value = VALUES_BY_TYPE[duckdb_type]
        if duckdb_type == "VARCHAR":
            value = f"{column}-{row_number}"
        if column in source.status_sets:
            value = source.status_sets[column][0]
        if column in source.soft_value_sets:
            value = source.soft_value_sets[column][0]
        if column in phones:
            value = "13812345678"
        row[column] = value
    for phone in source.phone_columns:
        if phone.when:
            row[phone.when[0]] = phone.when[1]
    row.update(_file_sha256="abc", _file_name=f"{source.name}/export.csv", _row_number=row_number,
               _loaded_at="2026-11-01 00:00:00")
    return row


def _cases() -> list:
    """One (source, broken column, value, expected expectation, severity) per rule kind and source: the
    first column of each kind."""
    cases = []
    for source in REGISTRY:
        found = [("not_null", source.not_null[0], None, "expect_column_values_to_not_be_null", "critical")]
        if source.unique_per_file:
            found.append(("unique", None, None, "expect_compound_columns_to_be_unique", "critical"))
        for column in list(source.status_sets)[:1]:
            found.append(("status", column, "??", "expect_column_values_to_be_in_set", "critical"))
        for column in list(source.soft_value_sets)[:1]:
            found.append(("soft", column, "??", "expect_column_values_to_be_in_set", "warning"))
        for column, (_, high) in list(source.money_bounds.items())[:1]:
            found.append(("money", column, high + 1, "expect_column_values_to_be_between", "critical"))
        for phone in source.phone_columns:
            found.append(("phone", phone.column, "12812345678", "expect_column_values_to_match_regex", "critical"))
        cases += [pytest.param(source, *case, id=f"{source.name}-{case[0]}") for case in found]
    return cases


@pytest.mark.parametrize(("source", "kind", "column", "value", "expectation", "severity"), _cases())
def test_a_broken_row_fails_the_rule_of_the_registry(gx, source, kind, column, value, expectation, severity) -> None:
    rows = [_good_row(source, 2), _good_row(source, 3)]
    if kind == "unique":
        for key in source.unique_per_file:
            rows[1][key] = rows[0][key]
    else:
        rows[1][column] = value
    con = duckdb.connect()
    create_raw_tables(con)
    names = list(rows[0])
    con.executemany(
        f'insert into raw."{source.name}" ({", ".join(names)}) values ({", ".join("?" for _ in names)})',
        [[row[name] for name in names] for row in rows],
    )
    clean = _validate(gx, con, source.name, rows=2)
    [failure] = failed_expectations(clean)
    assert (failure.expectation, failure.severity) == (expectation, severity)
    if kind != "unique":
        assert failure.column == column
    assert any(sample.startswith(f"{source.name}/export.csv row 3") for sample in failure.samples)


def test_a_rejected_file_replaced_by_a_symlink_is_never_read(tmp_path: Path) -> None:
    """The gate looks for rejected files still in landing by hashing them: a symlink there (or a folder
    linked out of landing) is never opened, wherever it points."""
    from quality.raw_frames import landed_file

    landing = tmp_path / "landing"
    (landing / "pos").mkdir(parents=True)
    outside = tmp_path / "secrets.env"
    outside.write_text("DB_PASSWORD=x\n", encoding="utf-8")
    (landing / "pos" / "real.csv").write_text("a\n", encoding="utf-8")
    (landing / "pos" / "link.csv").symlink_to(outside)
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "elsewhere" / "far.csv").write_text("b\n", encoding="utf-8")
    (landing / "jd").symlink_to(tmp_path / "elsewhere", target_is_directory=True)
    assert landed_file(landing, "pos/real.csv") == landing / "pos" / "real.csv"
    assert landed_file(landing, "pos/link.csv") is None
    assert landed_file(landing, "jd/far.csv") is None
    assert landed_file(landing, "pos/missing.csv") is None
