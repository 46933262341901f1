"""Loader: idempotency by hash, rows_in identity, per-file atomicity, bad inputs beside good ones."""

from __future__ import annotations

import hashlib
from pathlib import Path

import duckdb
import openpyxl
import pytest

from ingestion import loader
from ingestion.loader import load_landing, load_source, pending_files

GOOD_POS = (
    "销售明细报表\n"
    "单据号,销售时间,实收金额,会员手机号\n"
    "A1,2025-03-01 10:00:00,10.00,13812345678\n"
    "A2,2025-03-01 11:00:00,20.00,\n"
    "1.23457E+18,2025-03-01 12:00:00,5.00,\n"
    "合计,,35.00,\n"
).encode("gbk")


@pytest.fixture
def con() -> duckdb.DuckDBPyConnection:
    c = duckdb.connect()
    yield c
    c.close()


def write(landing: Path, rel: str, content: bytes) -> Path:
    path = landing / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    return path


def counts(con: duckdb.DuckDBPyConnection, file_name: str) -> tuple[int, int, int]:
    rows = con.execute("select count(*) from raw.pos where _file_name = ?", [file_name]).fetchone()[0]
    quarantined = con.execute("select count(*) from raw._quarantine where file_name = ?", [file_name]).fetchone()[0]
    files = con.execute("select count(*) from raw._files where file_name = ?", [file_name]).fetchone()[0]
    return rows, quarantined, files


def test_load_then_reload_adds_nothing(tmp_path: Path, con: duckdb.DuckDBPyConnection) -> None:
    landing = tmp_path / "landing"
    write(landing, "pos/2025-03.csv", GOOD_POS)
    messages: list[str] = []
    first = load_source(con, landing, "pos", progress=messages.append)
    assert messages == ["pos: loading pos/2025-03.csv (1/1)"]
    [f] = first.files
    assert (f.status, f.rows_in, f.rows_loaded, f.rows_quarantined) == ("loaded", 3, 2, 1)
    assert f.sha256 == hashlib.sha256(GOOD_POS).hexdigest()
    assert counts(con, "pos/2025-03.csv") == (2, 1, 1)
    manifest = con.execute(
        "select status, rows_in, rows_loaded, rows_quarantined, size_bytes from raw._files").fetchall()
    assert manifest == [("loaded", 3, 2, 1, len(GOOD_POS))]
    q = con.execute("select source, row_number, reason, raw_row->>'单据号' from raw._quarantine").fetchall()
    assert q == [("pos", 5, "单据号: id destroyed by Excel (1.23457E+18), cannot be repaired", "1.23457E+18")]
    rows = con.execute("select receipt_no, paid_amount, phone, _row_number, _loaded_at is not null "
                       "from raw.pos order by _row_number").fetchall()
    assert [(r[0], float(r[1]), r[2], r[3], r[4]) for r in rows] == [
        ("A1", 10.0, "13812345678", 3, True), ("A2", 20.0, None, 4, True)]

    second = load_source(con, landing, "pos")
    assert [x.status for x in second.files] == ["already_loaded"]
    assert second.new_files == 0 and second.files_already_loaded == 1 and second.rows_loaded == 0
    assert counts(con, "pos/2025-03.csv") == (2, 1, 1)

    # the same bytes under another name are the same file
    write(landing, "pos/copy_of_2025-03.csv", GOOD_POS)
    third = load_source(con, landing, "pos")
    assert sorted(x.status for x in third.files) == ["already_loaded", "already_loaded"]
    assert con.execute("select count(*) from raw.pos").fetchone()[0] == 2
    assert pending_files(con, landing, "pos") == []


def test_bad_inputs_rejected_while_good_file_loads(tmp_path: Path, con: duckdb.DuckDBPyConnection) -> None:
    landing = tmp_path / "landing"
    write(landing, "pos/good.csv", GOOD_POS)
    write(landing, "pos/notes.txt", b"remember to export March")
    write(landing, "pos/manual.pdf", b"%PDF-1.4 ...")
    write(landing, "pos/empty.csv", b"")
    write(landing, "pos/binary.csv", b"\x81\x20\xff\xfe\x80\x81\x20" * 10)
    write(landing, "pos/no_money.csv", "单据号,销售时间\nA9,2025-03-01\n".encode("gbk"))
    write(landing, "pos/truncated.xlsx", b"PK\x03\x04\x14\x00\x00\x00\x08\x00broken")
    write(landing, "pos/.hidden.csv", GOOD_POS)
    write(landing, "pos/~$good.xlsx", b"lock")
    report = load_source(con, landing, "pos")
    by_name = {f.file_name: f for f in report.files}
    assert set(by_name) == {"pos/good.csv", "pos/notes.txt", "pos/manual.pdf", "pos/empty.csv",
                            "pos/binary.csv", "pos/no_money.csv", "pos/truncated.xlsx", "pos/.hidden.csv",
                            "pos/~$good.xlsx"}
    assert by_name["pos/good.csv"].status == "loaded"
    # not exports: listed as ignored (never read, never in raw._files, never blocking)
    ignored = {
        "pos/notes.txt": "pos/notes.txt: ignored: not an export (.txt)",
        "pos/manual.pdf": "pos/manual.pdf: ignored: not an export (.pdf)",
        "pos/.hidden.csv": "pos/.hidden.csv: ignored: hidden file",
        "pos/~$good.xlsx": "pos/~$good.xlsx: ignored: an Office lock file",
    }
    for name, start in ignored.items():
        assert by_name[name].status == "ignored", name
        assert by_name[name].message.startswith(start), by_name[name].message
    expected = {
        "pos/empty.csv": "pos/empty.csv: empty file",
        "pos/binary.csv": "pos/binary.csv: cannot decode",
        "pos/no_money.csv": "pos/no_money.csv: missing required column(s) 实收金额 (paid_amount)",
        "pos/truncated.xlsx": "pos/truncated.xlsx: truncated or corrupt xlsx",
    }
    for name, start in expected.items():
        assert by_name[name].status == "rejected", name
        assert by_name[name].message.startswith(start), by_name[name].message
    assert report.files_rejected == 4 and report.files_ignored == 4
    assert report.rows_loaded == 2 and report.rows_quarantined == 1
    manifest = dict(con.execute("select file_name, status from raw._files").fetchall())
    assert manifest == {name: "rejected" for name in expected} | {"pos/good.csv": "loaded"}
    assert con.execute("select count(*) from raw.pos").fetchone()[0] == 2
    # a rejected file is not retried while its bytes are the same ...
    again = load_source(con, landing, "pos")
    assert {f.file_name for f in again.files if f.status == "rejected"} == set(expected)
    assert con.execute("select count(*) from raw._files").fetchone()[0] == 5
    # ... and is retried once it changes
    write(landing, "pos/no_money.csv", "单据号,销售时间,实收金额\nA9,2025-03-01,9\n".encode("gbk"))
    assert pending_files(con, landing, "pos") == [landing / "pos/no_money.csv"]
    retried = {f.file_name: f for f in load_source(con, landing, "pos").files}["pos/no_money.csv"]
    assert (retried.status, retried.rows_loaded) == ("loaded", 1)


def test_bad_wechat_pay_bill_rejected(tmp_path: Path, con: duckdb.DuckDBPyConnection) -> None:
    landing = tmp_path / "landing"
    header = ("交易时间,公众账号ID,商户号,微信订单号,商户订单号,用户标识,交易类型,交易状态,应结订单金额,退款金额,手续费\n")
    line = "`2025-03-01 12:00:00,`wx1,`190001,`4200001,`M1,`oU1,`JSAPI,`SUCCESS,`10.00,`0.00,`0.06\n"
    summary = "总交易单数,应结订单总金额,退款总金额,手续费总金额\n`2,`20.00,`0.00,`0.12\n"
    write(landing, "wechat_pay/bill.csv", (header + line + summary).encode())
    [f] = load_source(con, landing, "wechat_pay").files
    assert f.status == "rejected"
    assert "总交易单数 2 in the summary but 1 detail lines" in f.message
    assert "应结订单总金额 20.00 in the summary but the details sum to 10.00" in f.message
    assert con.execute("select count(*) from raw.wechat_pay").fetchone()[0] == 0


def test_failure_mid_file_leaves_nothing(tmp_path: Path, con: duckdb.DuckDBPyConnection,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    landing = tmp_path / "landing"
    write(landing, "pos/2025-03.csv", GOOD_POS)

    def boom(*args: object, **kwargs: object) -> None:
        raise RuntimeError("disk full while writing quarantine")

    monkeypatch.setattr(loader, "_insert_quarantine", boom)  # runs after the rows were inserted
    [failed] = load_source(con, landing, "pos").files  # recorded as rejected with the real error, no raise
    assert failed.status == "rejected"
    assert failed.message.startswith("pos/2025-03.csv: not loaded: unexpected error (RuntimeError: disk full")
    assert counts(con, "pos/2025-03.csv") == (0, 0, 1)  # no rows, no quarantine rows, the manifest row
    assert con.execute("select count(*) from raw.pos").fetchone()[0] == 0
    monkeypatch.undo()
    [f] = load_source(con, landing, "pos").files  # an unexpected error is retried on the next run
    assert (f.status, f.rows_loaded, f.rows_quarantined) == ("loaded", 2, 1)
    # the failed attempt is superseded: one manifest row, loaded
    assert con.execute("select status from raw._files").fetchall() == [("loaded",)]


def test_xlsx_loads_and_rows_in_identity(tmp_path: Path, con: duckdb.DuckDBPyConnection) -> None:
    landing = tmp_path / "landing"
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["订单编号", "买家会员名", "订单状态", "订单创建时间", "买家实际支付金额"])
    ws.append(["3321000011112222333", "t**1", "交易成功", 45717.5, 99.5])
    ws.append([1.23457e18, "buyer", "交易成功", 45718, 10])
    path = landing / "tmall" / "orders.xlsx"
    path.parent.mkdir(parents=True)
    wb.save(path)
    [f] = load_source(con, landing, "tmall").files
    assert (f.status, f.rows_in, f.rows_loaded, f.rows_quarantined) == ("loaded", 2, 1, 1)
    assert f.rows_in == f.rows_loaded + f.rows_quarantined
    row = con.execute("select order_id, buyer_nick, buyer_nick_masked, created_at, paid_amount from raw.tmall"
                      ).fetchone()
    assert row[:3] == ("3321000011112222333", None, True)
    assert str(row[3]) == "2025-03-01 12:00:00" and float(row[4]) == 99.5
    reason = con.execute("select reason from raw._quarantine").fetchone()[0]
    assert reason == "订单编号: id destroyed by Excel (1.23457E+18), cannot be repaired"


def test_load_landing_reports_unknown_folders(tmp_path: Path, con: duckdb.DuckDBPyConnection) -> None:
    landing = tmp_path / "landing"
    write(landing, "pos/2025-03.csv", GOOD_POS)
    write(landing, "misc/readme.csv", b"a,b\n")
    reports = load_landing(con, landing)
    by_source = {r.source: r for r in reports}
    assert by_source["pos"].rows_loaded == 2
    assert by_source["tmall"].files == []
    assert by_source["misc"].files == []
    assert by_source["misc"].notes[0].startswith("unknown landing folder 'misc' not loaded")
    assert con.execute("select count(*) from raw._files").fetchone()[0] == 1
