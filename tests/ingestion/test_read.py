"""Reader: encodings, formats, header detection, title/total/blank rows and row numbers."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import openpyxl
import pytest

from ingestion.errors import FileRejected
from ingestion.normalise import header_key
from ingestion.read import detect_encoding, read_table

KNOWN = {header_key(h) for h in ("单据号", "销售时间", "实收金额", "会员手机号")}


def table(path: Path, **kw):
    return read_table(path, name=f"pos/{path.name}", known_keys=KNOWN, **kw)


def test_encodings_detected() -> None:
    text = "单据号,实收金额\n1,2\n"
    assert detect_encoding(text.encode("utf-8"), "x") == "utf-8"
    assert detect_encoding(b"\xef\xbb\xbf" + text.encode("utf-8"), "x") == "utf-8-sig"
    assert detect_encoding(text.encode("gbk"), "x") == "gb18030"
    with pytest.raises(FileRejected, match=r"x: cannot decode"):
        detect_encoding(b"\x81\x20\xff\xff\x80", "x")


@pytest.mark.parametrize("encoding", ["gbk", "utf-8", "utf-8-sig"])
def test_title_total_and_blank_rows_with_line_numbers(tmp_path: Path, encoding: str) -> None:
    text = (
        "销售明细报表\n"  # line 1: title
        "导出时间：2025-03-02 10:00\n"  # line 2
        "单据号,销售时间,实收金额,会员手机号\n"  # line 3: header
        "A1,2025-03-01 10:00:00,10.00,13812345678\n"  # line 4
        "\n"  # line 5: blank
        "A2,2025-03-01 11:00:00,20.00,\n"  # line 6
        "合计,,30.00,\n"  # line 7: total
        "\n\n"  # lines 8-9
    )
    path = tmp_path / "pos.csv"
    path.write_bytes(text.encode(encoding))
    t = table(path)
    assert t.headers == ["单据号", "销售时间", "实收金额", "会员手机号"]
    assert t.header_row_number == 3
    assert t.data["单据号"].tolist() == ["A1", "A2"]
    assert t.row_numbers.tolist() == [4, 6]
    assert t.data["实收金额"].tolist() == ["10.00", "20.00"]


def test_quoted_newlines_commas_and_ragged_rows(tmp_path: Path) -> None:
    text = (
        "单据号,销售时间,实收金额,备注\n"  # line 1
        'A1,2025-03-01,"1,299.00","第一行\n第二行"\n'  # lines 2-3
        "A2,2025-03-01,5\n"  # line 4: one field short
        "A3,2025-03-01,6,x,surplus\n"  # line 5: one field more
        "总计,,1310.00\n"  # line 6
    )
    path = tmp_path / "pos.csv"
    path.write_bytes(text.encode("utf-8"))
    t = table(path)
    assert t.row_numbers.tolist() == [2, 4, 5]
    assert t.data["实收金额"].tolist() == ["1,299.00", "5", "6"]
    assert t.data["备注"].tolist() == ["第一行\n第二行", "", "x"]
    assert t.data["_col5"].tolist() == ["", "", "surplus"]


def test_excel_formula_ids_are_kept_as_text(tmp_path: Path) -> None:
    path = tmp_path / "pos.csv"
    path.write_bytes('单据号,销售时间,实收金额\n="123456789012345678",2025-03-01,1\n'.encode("gbk"))
    assert table(path).data["单据号"].tolist() == ['="123456789012345678"']


def test_xlsx_and_renamed_xls_with_date_cells(tmp_path: Path) -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["门店销售明细"])
    ws.append([])
    ws.append(["单据号", "销售时间", "实收金额", "会员手机号"])
    ws.append(["A1", dt.datetime(2025, 3, 1, 12, 30), 1299.5, 13812345678])
    ws.append(["A2", 45717.5, 10, None])
    ws.append(["合计", None, 1309.5, None])
    for name in ("pos.xlsx", "pos.xls"):
        path = tmp_path / name
        wb.save(path)
        t = table(path)
        assert t.kind == "xlsx"
        assert t.header_row_number == 3
        assert t.row_numbers.tolist() == [4, 5]
        assert t.data["销售时间"].tolist() == ["2025-03-01 12:30:00", "45717.5"]
        assert t.data["实收金额"].tolist() == ["1299.5", "10"]
        assert t.data["会员手机号"].tolist() == ["13812345678", ""]


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("locked.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 64, "password-protected or damaged"),
        ("broken.xlsx", b"PK\x03\x04\x14\x00\x00\x00truncated", "truncated or corrupt xlsx"),
        ("empty.csv", b"", "empty file"),
        ("blank.csv", b"\n\n  \n", "empty file"),
        ("page.xls", "<html><body><p>导出失败，请重试</p></body></html>".encode(), "HTML page without a table"),
        ("report.pdf.xlsx", b"%PDF-1.7\n%binary", "a PDF document"),
        ("cut.xls", b'<?xml version="1.0"?><Workbook xmlns="urn:schemas-microsoft-com:office:spreadsheet"><Wor',
         "Excel 2003 XML spreadsheet that cannot be read"),
    ],
)
def test_whole_file_problems_are_rejected_with_file_name(
    tmp_path: Path, name: str, content: bytes, message: str
) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(FileRejected) as err:
        table(path)
    assert err.value.message.startswith(f"pos/{name}: ")
    assert message in err.value.message


def test_text_and_html_named_excel_are_read(tmp_path: Path) -> None:
    """An "export to Excel" that wrote tab-separated text or an HTML table under a .xls / .xlsx name (Excel
    opens both) is read as what it is, with a note; the HTML table's title row, colspan, <br>, entities and
    the white space of pretty-printed cells are handled as a browser shows them."""
    text = tmp_path / "pos.xlsx"
    text.write_bytes("单据号\t实收金额\n1\t2\n".encode("gbk"))
    t = table(text)
    assert t.headers == ["单据号", "实收金额"] and t.data.values.tolist() == [["1", "2"]]
    assert t.notes == ["named .xlsx but is delimited text (an export to Excel writes that): read as such"]

    html = tmp_path / "pos.xls"
    html.write_bytes(
        (
            '<html><head><meta charset="utf-8"><style>td {mso-number-format:"\\@";}</style></head><body>\n'
            '<table><tr><td colspan="3">销售明细报表</td></tr>\n'
            "<tr><th>单据号</th><th>实收金额</th><th>备注</th></tr>\n"
            "<tr>\n  <td>\n    ０１２３\n  </td><td>1,299.00</td><td>A &amp; B<br>第二行</td></tr>\n"
            "<tr><td>0124</td><td>&yen;5</td><td>&nbsp;</td></tr>\n"
            "</table></body></html>"
        ).encode()
    )
    t = table(html)
    assert t.headers == ["单据号", "实收金额", "备注"]
    assert t.data.values.tolist() == [["０１２３", "1,299.00", "A & B\n第二行"], ["0124", "¥5", ""]]
    assert t.row_numbers.tolist() == [3, 4]  # table rows, the title row first
    assert "named .xls but is an HTML table (an export to Excel writes that): read as such" in t.notes


def test_no_header_found(tmp_path: Path) -> None:
    path = tmp_path / "pos.csv"
    path.write_bytes(b"foo,bar\n1,2\n")
    with pytest.raises(FileRejected, match=r"pos/pos.csv: no header row found .* foo, bar"):
        table(path)


def test_fast_and_robust_csv_paths_agree(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The pyarrow fast path and the pandas fallback give the same rows and line numbers."""
    from ingestion import read

    text = (
        "销售明细报表\n"  # 1
        "单据号,销售时间,实收金额,会员手机号\n"  # 2
        '="A1",2025-03-01,"1,299.00",+86 138 1234 5678\n'  # 3
        "\n"  # 4
        "A2,2025/3/1 12:00,-5,\n"  # 5
        ",,,\n"  # 6: cells but no values
        "A3,2025年3月1日,(1.00),138****5678\n"  # 7
        "共计,,1293.00,\n"  # 8
        "\n\n"  # 9-10
    ).encode("gbk")
    path = tmp_path / "pos.csv"
    path.write_bytes(text)
    utf8 = text.decode("gbk").encode("utf-8")
    assert read._fast_csv_body(utf8, "pos/pos.csv", "gb18030", KNOWN, 2, None) is not None  # fast path taken
    fast = table(path)
    assert fast.row_numbers.tolist() == [3, 5, 7]
    monkeypatch.setattr(read, "_fast_csv_body", lambda *a, **k: None)
    robust = table(path)
    assert robust.row_numbers.tolist() == fast.row_numbers.tolist()
    assert robust.headers == fast.headers
    for h in fast.headers:
        assert robust.data[h].tolist() == fast.data[h].tolist(), h
    assert fast.data["单据号"].tolist() == ['="A1"', "A2", "A3"]


def test_tab_separated_export(tmp_path: Path) -> None:
    path = tmp_path / "pos.csv"
    path.write_bytes("单据号\t销售时间\t实收金额\nA1\t2025-03-01\t1,299.00\n".encode("utf-16"))
    t = table(path)
    assert t.data["实收金额"].tolist() == ["1,299.00"]
    assert t.row_numbers.tolist() == [2]


def test_xlsx_notes_sheet_before_data_sheet(tmp_path: Path) -> None:
    wb = openpyxl.Workbook()
    notes = wb.active
    notes.title = "说明"
    notes.append(["本报表由系统导出，请勿修改"])
    data = wb.create_sheet("明细")
    data.append(["单据号", "销售时间", "实收金额"])
    data.append(["A1", "2025-03-01 10:00:00", 8])
    path = tmp_path / "pos.xlsx"
    wb.save(path)
    t = table(path)
    assert t.data["单据号"].tolist() == ["A1"]
    assert t.row_numbers.tolist() == [2]
