"""Read a merchant export (CSV or XLSX) into a grid of text cells, then find its header and data rows.

- The format is sniffed from the bytes, not trusted from the extension: a zip (``PK``) is an xlsx
  whatever its name (``.xls`` renamed); an OLE2 file is an Excel 97-2003 (BIFF) ``.xls``, read like an
  xlsx (calamine reads both), or a password-protected workbook, rejected with what to do.
  Many shop and ERP systems' "export to Excel" writes an HTML table, an Excel 2003 XML spreadsheet or
  tab-separated text named ``.xls`` (Excel opens all three): the table's cells (every ``<table>``, in
  order), the XML's worksheets (as a workbook's) or the text are read, with a note.
- The encoding is detected, never assumed: UTF-8 BOM → utf-8-sig, valid UTF-8 → utf-8, else GB18030
  (a superset of GBK); bytes that are neither → :class:`FileRejected`.
- Every cell is text, so ids are never mangled by the reader. CSV goes through pandas' C parser over the
  whole file at once; each data row keeps the 1-based line (CSV) or Excel row (xlsx) where it starts.
- The header is the first of the first rows whose cells match enough of the adapter's known header
  keys; title rows above it, blank rows, and total rows (first non-empty cell 合计/总计/汇总/共计/小计)
  are not data rows. Total rows are kept aside (``Table.totals``) for the adapter to reconcile.
- In a workbook, the first sheet whose header row has every required column is read (a summary or 说明
  sheet before the data sheet is skipped, with a note).
- NUL bytes (``\\x00``, padding some exporters leave in cells) are removed with a note saying how many and
  on which lines; a file that is mostly NULs is UTF-16 without a BOM (decoded as such) or binary (rejected).
- A header name that appears twice (by :func:`header_key`) is one column if the copies hold identical
  values (the copies are dropped, with a note). If they differ and the name is one the adapter reads, the
  file is rejected (which column is the real ``实收金额`` is unknowable); other repeated names are kept as
  ``名称``, ``名称#2`` in ``_extra`` with a note.
- Messages name the file, rows and header names; they never echo other cell contents (a stray file's
  first line may be anything, a password file included).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from ingestion.errors import FileRejected
from ingestion.normalise import STR, arrow, header_key, series

HEADER_SCAN_ROWS = 20
TOTAL_ROW = r"^\s*(?:合计|总计|汇总|共计|小计|总合计)"
GRAND_TOTAL_ROW = r"^\s*(?:合计|总计|汇总|共计|总合计)"  # a whole-file total (小计 is a partial one)
ZIP_MAGIC = b"PK\x03\x04"
OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
SUPPORTED_SUFFIXES = (".csv", ".xlsx", ".xls")


@dataclass
class Grid:
    """Every row of a file as text cells ("" when empty), with the row number a person sees."""

    cells: pd.DataFrame  # columns 0..k-1, str dtype, no NA
    row_numbers: np.ndarray  # int64, 1-based line (CSV) or Excel row (xlsx) where each row starts
    kind: str  # "csv" / "xlsx" / "html"
    encoding: str | None = None
    sheet: str | None = None


@dataclass
class Table:
    """The data rows of a file under its header."""

    file_name: str
    headers: list[str]  # one unique name per column (native header text; duplicates get "#2")
    data: pd.DataFrame  # columns = headers, str dtype, "" for empty cells
    row_numbers: np.ndarray  # int64, 1-based, one per data row
    header_row_number: int
    trailer: pd.DataFrame = field(default_factory=pd.DataFrame)  # rows from the stop marker on
    trailer_row_numbers: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=np.int64))
    notes: list[str] = field(default_factory=list)
    kind: str = "csv"
    encoding: str | None = None
    totals: pd.DataFrame = field(default_factory=pd.DataFrame)  # total rows (合计 …), columns = headers
    total_row_numbers: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=np.int64))
    sheet: str | None = None


# ------------------------------------------------------------------------------------------ bytes
def _markup_start(data: bytes) -> bytes:
    """The first bytes of a markup file, lower-cased, after a BOM and leading white space (UTF-8 or GBK:
    the tags are ASCII either way)."""
    head = data[:512]
    if head.startswith(b"\xef\xbb\xbf"):
        head = head[3:]
    return head.lstrip().lower()


def sniff_kind(data: bytes, name: str) -> str:
    """'xlsx' for a zip container, 'xls' for an OLE2 one (an Excel 97-2003 workbook), 'html' for an HTML
    table and 'spreadsheetml' for an Excel 2003 XML spreadsheet named .xls / .xlsx, 'csv' for text (a
    .csv, or a .xls / .xlsx that is delimited text); anything else → FileRejected naming the file."""
    if data.startswith(ZIP_MAGIC):
        return "xlsx"
    if data.startswith(OLE2_MAGIC):
        return "xls"
    start = _markup_start(data)
    excel_name = Path(name).suffix.lower() in (".xlsx", ".xls")
    if excel_name and start.startswith((b"<html", b"<!doctype html", b"<table", b"<meta", b"<head", b"<body")):
        return "html"
    if excel_name and start.startswith(b"<?xml") and SPREADSHEET_ML_NAMESPACE.encode() in data[:4096]:
        return "spreadsheetml"
    if data.startswith(b"%PDF") or start.startswith((b"<html", b"<!doctype", b"<?xml")):
        what = "a PDF document" if data.startswith(b"%PDF") else "an HTML/XML page"
        raise FileRejected(
            f"{name}: unsupported format: {what}, not a CSV or an xlsx workbook; export the data as .csv or .xlsx"
        )
    return "csv"


def excel_name_note(name: str, kind: str) -> str | None:
    """The note for a file whose name says Excel but whose bytes are an HTML table or text."""
    suffix = Path(name).suffix.lower()
    if suffix not in (".xlsx", ".xls") or kind in ("xlsx", "xls"):
        return None
    what = {"html": "an HTML table", "spreadsheetml": "an Excel 2003 XML spreadsheet"}.get(kind, "delimited text")
    return f"named {suffix} but is {what} (an export to Excel writes that): read as such"


class _TableCells(HTMLParser):
    """The rows of every ``<table>`` of an HTML page, in order: each cell's text (``<br>`` as a line
    break, entities decoded); a ``colspan`` cell is followed by empty cells so the columns stay aligned."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.rows: list[list[str]] = []
        self._row: list[str] | None = None
        self._cell: list[str] | None = None
        self._span = 1
        self._skip = 0  # inside <script> / <style>

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style"):
            self._skip += 1
        elif tag == "tr":
            self._end_row()
            self._row = []
        elif tag in ("td", "th"):
            self._end_cell()
            if self._row is None:
                self._row = []
            self._cell = []
            span = dict(attrs).get("colspan") or "1"
            self._span = int(span) if span.strip().isdigit() and 0 < int(span) <= 1000 else 1
        elif tag == "br" and self._cell is not None:
            self._cell.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style"):
            self._skip = max(0, self._skip - 1)
        elif tag in ("td", "th"):
            self._end_cell()
        elif tag in ("tr", "table"):
            self._end_row()

    def handle_data(self, data: str) -> None:
        if self._cell is not None and not self._skip:
            self._cell.append(re.sub(r"[ \t\r\n\xa0]+", " ", data))  # white space as a browser shows it

    def _end_cell(self) -> None:
        if self._cell is not None and self._row is not None:
            text = "\n".join(line.strip() for line in "".join(self._cell).split("\n")).strip()
            self._row.extend([text] + [""] * (self._span - 1))
        self._cell = None
        self._span = 1

    def _end_row(self) -> None:
        self._end_cell()
        if self._row is not None:
            self.rows.append(self._row)
        self._row = None

    def close(self) -> None:
        super().close()
        self._end_row()  # a last row without its closing tags


SPREADSHEET_ML_NAMESPACE = "urn:schemas-microsoft-com:office:spreadsheet"


def iter_spreadsheetml_grids(data: bytes, name: str) -> Iterator[Grid]:
    """Every non-empty worksheet of an Excel 2003 XML spreadsheet (``<Workbook>`` of ``<Worksheet>``,
    ``<Row>``, ``<Cell>``, ``<Data>``), in order. A cell's ``ss:Index`` skips to its column and
    ``ss:MergeAcross`` is followed by empty cells, as in a sheet; a row's ``ss:Index`` skips rows. The
    XML is parsed with the standard library (expat limits entity expansion). Unreadable XML →
    FileRejected."""
    import xml.etree.ElementTree as ET

    ns = "{" + SPREADSHEET_ML_NAMESPACE + "}"
    try:
        root = ET.fromstring(data)
    except ET.ParseError as exc:
        raise FileRejected(f"{name}: an Excel 2003 XML spreadsheet that cannot be read ({exc}); "
                           "export it again or save it as .xlsx") from None
    found = False
    for sheet in root.iter(f"{ns}Worksheet"):
        rows: list[list[object]] = []
        for row in sheet.iter(f"{ns}Row"):
            index = row.get(f"{ns}Index")
            if index and index.isdigit():
                rows.extend([] for _ in range(int(index) - 1 - len(rows)))
            cells: list[object] = []
            for cell in row.iter(f"{ns}Cell"):
                at = cell.get(f"{ns}Index")
                if at and at.isdigit():
                    cells.extend([""] * (int(at) - 1 - len(cells)))
                datum = cell.find(f"{ns}Data")
                text = "".join(datum.itertext()) if datum is not None else ""
                if datum is not None and datum.get(f"{ns}Type") == "DateTime" and text:
                    text = text.replace("T", " ").removesuffix(".000")
                cells.append(text)
                merge = cell.get(f"{ns}MergeAcross")
                if merge and merge.isdigit():
                    cells.extend([""] * int(merge))
            rows.append(cells)
        if _has_cells(rows):
            found = True
            yield _rows_to_grid(rows, sheet.get(f"{ns}Name"), kind="spreadsheetml")
    if not found:
        raise FileRejected(f"{name}: empty file (the XML spreadsheet has no cells)")


def read_html_grid(data: bytes, name: str) -> Grid:
    """The cells of the tables of an HTML page (an "Excel" export that is HTML) as a grid; row numbers
    count the table rows from 1. No table → FileRejected."""
    text, encoding = _utf8_text(data, name)
    parser = _TableCells()
    parser.feed(text.decode("utf-8", errors="replace"))
    parser.close()
    rows = [row for row in parser.rows if row]
    if not _has_cells(rows):
        raise FileRejected(f"{name}: an HTML page without a table of data; export the data as .csv or .xlsx")
    return _rows_to_grid(rows, None, kind="html", encoding=encoding)


def detect_encoding(data: bytes, name: str) -> str:
    """utf-8-sig (BOM), utf-8 (valid), else gb18030; undecodable bytes → FileRejected."""
    return _decode(data, name)[1]


def _decode(data: bytes, name: str) -> tuple[str | None, str]:
    """(text or None when the bytes are already valid UTF-8 without BOM, encoding)."""
    if data.startswith(b"\xef\xbb\xbf"):
        try:
            data[3:].decode("utf-8")
        except UnicodeDecodeError as exc:
            raise FileRejected(
                f"{name}: cannot decode: starts with a UTF-8 BOM but byte {exc.start + 3} is not UTF-8"
            ) from None
        return None, "utf-8-sig"
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16"), "utf-16"
        except UnicodeDecodeError as exc:
            raise FileRejected(f"{name}: cannot decode: UTF-16 BOM but bad bytes at {exc.start}") from None
    head = data[:4096]
    if head.count(0) * 4 > len(head):  # a quarter NUL bytes: UTF-16 without a BOM, or not text at all
        encoding = "utf-16-le" if head[1::2].count(0) >= head[0::2].count(0) else "utf-16-be"
        try:
            return data.decode(encoding), encoding
        except UnicodeDecodeError:
            raise FileRejected(
                f"{name}: cannot decode: binary data ({data.count(0)} NUL bytes), not a text export; "
                "export the data again as .csv or .xlsx"
            ) from None
    try:
        data.decode("utf-8")
        return None, "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("gb18030"), "gb18030"
    except UnicodeDecodeError as exc:
        raise FileRejected(
            f"{name}: cannot decode: the bytes are neither UTF-8 nor GBK/GB18030 "
            f"(bad byte at offset {exc.start}); re-export the file as UTF-8 or GBK CSV"
        ) from None


def _utf8_text(data: bytes, name: str) -> tuple[bytes, str]:
    """The file's text as UTF-8 bytes with \\n line ends, and the detected encoding."""
    text, encoding = _decode(data, name)
    if encoding == "utf-8-sig":
        data = data[3:]
    elif text is not None:
        data = text.encode("utf-8")
    if b"\r" in data:
        data = data.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
    return data, encoding


def _strip_nul(text: bytes) -> tuple[bytes, str | None]:
    """The text without NUL bytes, and a note saying how many were removed on which lines (None if none)."""
    if b"\x00" not in text:
        return text, None
    buf = np.frombuffer(text, dtype=np.uint8)
    nuls = np.flatnonzero(buf == 0)
    lines = np.unique(np.searchsorted(np.flatnonzero(buf == 10), nuls) + 1)
    shown = ", ".join(map(str, lines[:5])) + (f" and {len(lines) - 5} more" if len(lines) > 5 else "")
    note = (f"removed {len(nuls)} NUL byte(s) (invisible \\x00 padding) on line(s) {shown}; "
            "the cells are read without them")
    return text.replace(b"\x00", b""), note


def _delimiter(text: bytes) -> str:
    head = text[:65536].split(b"\n")[:HEADER_SCAN_ROWS + 5]
    tabs = sum(line.count(b"\t") for line in head)
    commas = sum(line.count(b",") for line in head)
    return "\t" if tabs > commas else ","


def _max_fields(text: bytes, delimiter: str) -> int:
    """An upper bound of the fields on any line (delimiters inside quotes over-count, never under)."""
    buf = np.frombuffer(text, dtype=np.uint8)
    newlines = np.flatnonzero(buf == 10)
    delims = np.flatnonzero(buf == ord(delimiter))
    if len(delims) == 0:
        return 1
    per_line = np.bincount(np.searchsorted(newlines, delims), minlength=1)
    return int(per_line.max()) + 1


# -------------------------------------------------------------------------------------------- CSV
def read_csv_grid(data: bytes, name: str) -> Grid:
    """Every row of a CSV (any encoding we detect) with pandas' C parser: robust to ragged rows."""
    text, encoding = _utf8_text(data, name)
    text, _ = _strip_nul(text)
    return _csv_grid(text, name, encoding)


def _csv_grid(text: bytes, name: str, encoding: str) -> Grid:
    if not text.strip():
        raise FileRejected(f"{name}: empty file (no text)")
    delimiter = _delimiter(text)
    width = _max_fields(text, delimiter)
    try:
        cells = pd.read_csv(
            io.BytesIO(text),
            sep=delimiter,
            header=None,
            names=list(range(width)),
            dtype=str,
            na_filter=False,
            skip_blank_lines=False,
            engine="c",
            encoding="utf-8",
            quotechar='"',
            doublequote=True,
            index_col=False,
            low_memory=False,
        )
    except (pd.errors.ParserError, ValueError) as exc:
        raise FileRejected(f"{name}: malformed CSV: {str(exc).strip()}") from None
    cells = _trim_empty_columns(cells)
    lines = text.count(b"\n") + (0 if text.endswith(b"\n") else 1)
    n = len(cells)
    if n == lines:
        row_numbers = np.arange(1, n + 1, dtype=np.int64)
    else:  # quoted fields with embedded newlines: a record spans 1 + (newlines inside it) lines
        inner = np.zeros(n, dtype=np.int64)
        for col in cells.columns:
            arr = arrow(cells[col])
            if pc.any(pc.match_substring(arr, "\n")).as_py():
                inner += pc.count_substring(arr, "\n").to_numpy(zero_copy_only=False).astype(np.int64)
        row_numbers = 1 + np.concatenate(([0], np.cumsum(1 + inner)[:-1]))
    return Grid(cells=cells, row_numbers=row_numbers, kind="csv", encoding=encoding)


def _trim_empty_columns(cells: pd.DataFrame) -> pd.DataFrame:
    keep = len(cells.columns)
    while keep > 1 and not cells[cells.columns[keep - 1]].str.len().fillna(0).astype(bool).any():
        keep -= 1
    cells = cells.iloc[:, :keep]
    cells.columns = list(range(keep))
    return cells.astype(STR).fillna("")


# ------------------------------------------------------------------------------------------- XLSX
def _cell_text(value: object) -> str:
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        return value.replace("\x00", "") if "\x00" in value else value
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        return repr(value).upper() if "e" in repr(value) else repr(value)
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ", timespec="microseconds" if value.microsecond else "seconds")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dt.time):
        return value.isoformat()
    return str(value)


def _has_cells(rows: list[list[object]]) -> bool:
    return any(any(c not in ("", None) for c in row) for row in rows)


def _rows_to_grid(rows: list[list[object]], sheet_name: str | None, kind: str = "xlsx",
                  encoding: str | None = None) -> Grid:
    """A grid of rows of cell values (a sheet's, or an HTML table's: ragged rows are padded)."""
    width = max((len(row) for row in rows), default=0)
    if any(len(row) != width for row in rows):
        rows = [list(row) + [""] * (width - len(row)) for row in rows]
    frame = pd.DataFrame(rows, dtype=object)
    cells = pd.DataFrame(
        {i: frame[c].map(_cell_text, na_action="ignore").fillna("") for i, c in enumerate(frame.columns)}
    ).astype(STR)
    return Grid(
        cells=_trim_empty_columns(cells),
        row_numbers=np.arange(1, len(cells) + 1, dtype=np.int64),  # Excel (or table) row numbers, from 1
        kind=kind,
        encoding=encoding,
        sheet=sheet_name,
    )


def iter_xlsx_grids(path: Path, name: str) -> Iterator[Grid]:
    """Every non-empty worksheet of a workbook, in order; a damaged workbook → FileRejected."""
    data = path.read_bytes()
    try:
        from python_calamine import load_workbook

        workbook = load_workbook(io.BytesIO(data))  # sniffed from the bytes, not the name
        sheets = [m.name for m in workbook.sheets_metadata if str(m.typ).endswith("WorkSheet")]
        sheets = sheets or list(workbook.sheet_names)
        sheet_rows = [(s, workbook.get_sheet_by_name(s).to_python(skip_empty_area=False)) for s in sheets[:1]]
    except Exception as calamine_error:  # noqa: BLE001 - any reader failure means a damaged workbook
        if data.startswith(OLE2_MAGIC):  # openpyxl reads no OLE2 file: nothing else to try
            raise FileRejected(
                f"{name}: an Excel 97-2003 (.xls) file that cannot be read ({calamine_error}): a password-"
                "protected or damaged workbook; open it in Excel, remove the password and save it as .xlsx "
                "or .csv"
            ) from None
        try:
            rows, sheet_name = _openpyxl_rows(path)
        except Exception:  # noqa: BLE001
            raise FileRejected(
                f"{name}: truncated or corrupt xlsx workbook, cannot be read ({calamine_error}); "
                "download or export it again"
            ) from None
        if not _has_cells(rows):
            raise FileRejected(f"{name}: empty file (the workbook has no cells)") from None
        yield _rows_to_grid(rows, sheet_name)
        return
    found = False
    for i, sheet_name in enumerate(sheets):
        try:
            rows = sheet_rows[0][1] if i == 0 else workbook.get_sheet_by_name(sheet_name).to_python(
                skip_empty_area=False)
        except Exception as exc:  # noqa: BLE001
            raise FileRejected(f"{name}: sheet {sheet_name!r} cannot be read ({exc}); export it again") from None
        if _has_cells(rows):
            found = True
            yield _rows_to_grid(rows, sheet_name)
    if not found:
        raise FileRejected(f"{name}: empty file (the workbook has no cells)")


def read_xlsx_grid(path: Path, name: str) -> Grid:
    """The first non-empty worksheet of a workbook."""
    return next(iter_xlsx_grids(path, name))


def _openpyxl_rows(path: Path) -> tuple[list[list[object]], str]:
    import openpyxl

    workbook = openpyxl.load_workbook(io.BytesIO(path.read_bytes()), read_only=True, data_only=True)
    try:
        sheet = workbook.worksheets[0]
        rows = [list(r) for r in sheet.iter_rows(values_only=True)]
        return rows, sheet.title
    finally:
        workbook.close()


def read_grid(path: Path, name: str | None = None) -> Grid:
    """Every row of the file at ``path`` as text cells; whole-file problems raise FileRejected."""
    name = name or path.name
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise FileRejected(f"{name}: cannot read the file ({exc.strerror})") from None
    if _is_blank(data):
        raise FileRejected(f"{name}: empty file")
    kind = sniff_kind(data, name)
    if kind in ("xlsx", "xls"):
        return read_xlsx_grid(path, name)
    if kind == "html":
        return read_html_grid(data, name)
    if kind == "spreadsheetml":
        return next(iter_spreadsheetml_grids(data, name))
    return read_csv_grid(data, name)


# ------------------------------------------------------------------------------------ header, rows
def first_cell(cells: pd.DataFrame) -> pd.Series:
    """The first non-empty (stripped) cell of each row, "" when the row is blank."""
    if cells.shape[1] == 0:
        return pd.Series([""] * len(cells), index=cells.index, dtype=STR)
    cols = list(cells.columns)
    out = pc.fill_null(pc.utf8_trim_whitespace(arrow(cells[cols[0]])), "")
    empty = np.flatnonzero(_mask_np(pc.equal(out, "")))
    if len(empty) and len(cols) > 1:  # only rows whose first cell is empty need the other cells
        take = pa.array(empty)
        sub = None
        for col in reversed(cols[1:]):
            arr = pc.fill_null(pc.utf8_trim_whitespace(arrow(cells[col]).take(take)), "")
            sub = arr if sub is None else pc.if_else(pc.greater(pc.utf8_length(arr), 0), arr, sub)
        values = np.asarray(out.to_numpy(zero_copy_only=False), dtype=object)
        values[empty] = np.asarray(sub.to_numpy(zero_copy_only=False), dtype=object)
        return pd.Series(values, index=cells.index, dtype=STR)
    return series(out, cells.index)


def _mask_np(arr: pa.ChunkedArray | pa.Array) -> np.ndarray:
    return np.asarray(pc.fill_null(arr, False).to_numpy(zero_copy_only=False), dtype=bool)


def find_header(grid: Grid, known_keys: Collection[str], name: str, min_matches: int = 2,
                expected: Sequence[str] = ()) -> int:
    """Position (0-based, in ``grid.cells``) of the header row among the first rows.

    The header is the first row whose non-empty cells match at least ``min_matches`` known header keys
    and at least half of its non-empty cells are known; failing that, the best-scoring row. No row with
    any known header → FileRejected naming what was found.
    """
    head = grid.cells.head(HEADER_SCAN_ROWS)
    best, best_score = -1, 0
    for pos, row in enumerate(head.itertuples(index=False)):  # at most 20 rows
        keys = [header_key(c) for c in row if str(c).strip()]
        if not keys:
            continue
        score = sum(1 for k in keys if k in known_keys)
        if score >= min(min_matches, len(known_keys)) and score * 2 >= len(keys):
            return pos
        if score > best_score:
            best, best_score = pos, score
    if best < 0:
        found = [str(c).strip() for c in head.iloc[0] if str(c).strip()] if len(head) else []
        names = [c for c in found if _looks_like_a_name(c)]
        hidden = len(found) - len(names)
        shown = ", ".join(names[:30]) or "(no cell that looks like a column name)"
        if hidden:
            shown += f"; {hidden} other cell(s) not shown"
        wanted = f"; expected a header row with {', '.join(expected)}" if expected else ""
        raise FileRejected(
            f"{name}: no header row found in the first {HEADER_SCAN_ROWS} rows; first row has: {shown}{wanted}. "
            "Is this an export of this source, with its header row?"
        )
    return best


def _looks_like_a_name(cell: str) -> bool:
    """A cell shown in a message: short text without digits or path/mail characters, like a column name.
    Anything else (a data row, a password line) is never echoed."""
    return len(cell) <= 24 and not any(ch.isdigit() or ch in "@/\\:=$" for ch in cell)


def _unique_headers(cells: Sequence[str]) -> list[str]:
    headers: list[str] = []
    seen: dict[str, int] = {}
    for i, cell in enumerate(cells):
        h = str(cell).replace("\ufeff", "").strip() or f"_col{i + 1}"
        if h in seen:
            seen[h] += 1
            h = f"{h}#{seen[h]}"
        else:
            seen[h] = 1
        headers.append(h)
    return headers


@dataclass
class _Body:
    header_cells: list[str]
    header_pos: int  # rows above the header
    header_row_number: int
    cells: pd.DataFrame  # the rows under the header, columns 0..k-1
    row_numbers: np.ndarray
    kind: str
    encoding: str | None
    notes: list[str] = field(default_factory=list)
    sheet: str | None = None


def _strip_prefix(cells: pd.DataFrame, prefix: str | None) -> pd.DataFrame:
    if not prefix:
        return cells
    return pd.DataFrame({
        c: series(pc.utf8_ltrim(pc.utf8_trim_whitespace(arrow(cells[c])), characters=prefix), cells.index)
        for c in cells.columns
    })


def _is_blank(data: bytes) -> bool:
    """No text at all (cheap for big files: only a file whose head is blank is scanned in full)."""
    blank = b" \t\r\n\xef\xbb\xbf"
    return not data[:65536].strip(blank) and not data.strip(blank)


def _fast_csv_body(
    text: bytes, name: str, encoding: str, known_keys: Collection[str], min_matches: int, prefix: str | None,
    expected: Sequence[str] = (),
) -> _Body | None:
    """Header + body with pyarrow's multithreaded CSV reader, or None when the file needs the robust path.

    Taken only when every line under the header is one whole record of the header's width: the reader
    reports ragged rows (→ None), and the record count must equal the count of non-empty lines, which
    a quoted newline would break (→ None). Each record's line number follows from the line count.
    """
    delimiter = _delimiter(text)
    # The head (title rows + header): the first lines, parsed with the csv module.
    head_end, pos = 0, 0
    for _ in range(HEADER_SCAN_ROWS):
        nxt = text.find(b"\n", pos)
        if nxt < 0:
            head_end = len(text)
            break
        head_end, pos = nxt, nxt + 1
    head_lines = text[:head_end].decode("utf-8").split("\n")
    if any(line.count('"') % 2 for line in head_lines):
        return None  # a quoted newline near the top: let the robust parser handle it
    head_rows = list(csv.reader(head_lines, delimiter=delimiter))
    width = max((len(r) for r in head_rows), default=1)
    head = pd.DataFrame([r + [""] * (width - len(r)) for r in head_rows], dtype=STR)
    head = _strip_prefix(head, prefix)
    head_grid = Grid(cells=head, row_numbers=np.arange(1, len(head) + 1), kind="csv", encoding=encoding)
    header_pos = find_header(head_grid, known_keys, name, min_matches=min_matches, expected=expected)
    header_cells = [str(c) for c in head_rows[header_pos]]
    k = len(header_cells)
    body_start = 0
    for _ in range(header_pos + 1):
        body_start = text.find(b"\n", body_start) + 1
        if body_start == 0:
            body_start = len(text)
            break
    end = len(text)
    while end > body_start and text[end - 1] == 10:  # trailing blank lines
        end -= 1
    first_body_line = header_pos + 2  # 1-based line number of the first line under the header
    if end <= body_start:
        cells = pd.DataFrame({i: pd.Series([], dtype=STR) for i in range(k)})
        numbers = np.empty(0, dtype=np.int64)
        return _Body(header_cells, header_pos, header_pos + 1, cells, numbers, "csv", encoding)
    if text.find(b"\n\n", body_start, end) < 0:
        numbers = first_body_line + np.arange(text.count(b"\n", body_start, end) + 1, dtype=np.int64)
    else:  # blank lines inside the body: number the non-empty lines
        buf = np.frombuffer(text, dtype=np.uint8, count=end - body_start, offset=body_start)
        newlines = np.flatnonzero(buf == 10)
        starts = np.concatenate(([0], newlines + 1))
        ends = np.concatenate((newlines, [len(buf)]))
        numbers = first_body_line + np.flatnonzero(ends > starts).astype(np.int64)
    names = [f"c{i}" for i in range(k)]
    invalid: list[int] = []

    def on_invalid(row: object) -> str:
        invalid.append(1)
        return "skip"

    try:
        table = pacsv.read_csv(
            pa.BufferReader(pa.py_buffer(text).slice(body_start, end - body_start)),
            read_options=pacsv.ReadOptions(column_names=names, use_threads=True),
            parse_options=pacsv.ParseOptions(
                delimiter=delimiter, quote_char='"', double_quote=True, escape_char=False,
                newlines_in_values=False, ignore_empty_lines=True, invalid_row_handler=on_invalid,
            ),
            convert_options=pacsv.ConvertOptions(
                column_types={c: pa.large_string() for c in names}, strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        return None
    if invalid or table.num_rows != len(numbers):
        return None
    cells = pd.DataFrame({i: series(table.column(i), pd.RangeIndex(table.num_rows)) for i in range(k)})
    return _Body(
        header_cells=header_cells,
        header_pos=header_pos,
        header_row_number=header_pos + 1,
        cells=_strip_prefix(cells, prefix),
        row_numbers=numbers,
        kind="csv",
        encoding=encoding,
    )


def _grid_body(grid: Grid, name: str, known_keys: Collection[str], min_matches: int, prefix: str | None,
               expected: Sequence[str] = ()) -> _Body:
    cells = _strip_prefix(grid.cells, prefix)
    grid = Grid(cells=cells, row_numbers=grid.row_numbers, kind=grid.kind, encoding=grid.encoding)
    header_pos = find_header(grid, known_keys, name, min_matches=min_matches, expected=expected)
    return _Body(
        header_cells=[str(c) for c in cells.iloc[header_pos]],
        header_pos=header_pos,
        header_row_number=int(grid.row_numbers[header_pos]),
        cells=cells.iloc[header_pos + 1:].reset_index(drop=True),
        row_numbers=grid.row_numbers[header_pos + 1:],
        kind=grid.kind,
        encoding=grid.encoding,
    )


Required = Sequence[tuple[str, Collection[str]]]  # (header shown in messages, header keys that match it)


def _missing(header_cells: Sequence[str], required: Required) -> list[str]:
    keys = {header_key(c) for c in header_cells}
    return [label for label, wanted in required if not keys & set(wanted)]


def _xlsx_body(grids: Iterator[Grid], name: str, known_keys: Collection[str], min_matches: int,
               prefix: str | None, required: Required) -> _Body:
    """The first sheet whose header row has every required column (summary / 说明 sheets before it are
    skipped, with a note); failing that, the first sheet with a header (the adapter then names what is
    missing); no header anywhere → the first sheet's error."""
    expected = [label for label, _ in required]
    first_error: FileRejected | None = None
    fallback: _Body | None = None
    skipped: list[str] = []
    for number, grid in enumerate(grids, start=1):
        try:
            body = _grid_body(grid, name, known_keys, min_matches, prefix, expected)
        except FileRejected as exc:
            first_error = first_error or exc
            skipped.append(f"{grid.sheet!r} (no header row)")
            continue
        body.sheet = grid.sheet
        missing = _missing(body.header_cells, required)
        if not missing:
            if skipped:
                body.notes.append(f"read sheet {grid.sheet!r} (sheet {number}); skipped sheet(s) {', '.join(skipped)}")
            return body
        fallback = fallback or body
        skipped.append(f"{grid.sheet!r} (no {', '.join(missing)} column)")
    if fallback is not None:
        return fallback
    assert first_error is not None
    raise first_error


def read_body(path: Path, name: str, known_keys: Collection[str], min_matches: int = 2,
              prefix: str | None = None, required: Required = ()) -> _Body:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise FileRejected(f"{name}: cannot read the file ({exc.strerror})") from None
    if _is_blank(data):
        raise FileRejected(f"{name}: empty file")
    kind = sniff_kind(data, name)
    if kind in ("xlsx", "xls"):
        return _xlsx_body(iter_xlsx_grids(path, name), name, known_keys, min_matches, prefix, required)
    expected = [label for label, _ in required]
    nul_note = None
    if kind == "spreadsheetml":
        body = _xlsx_body(iter_spreadsheetml_grids(data, name), name, known_keys, min_matches, prefix, required)
    elif kind == "html":
        body = _grid_body(read_html_grid(data, name), name, known_keys, min_matches, prefix, expected)
    else:
        text, encoding = _utf8_text(data, name)
        del data
        text, nul_note = _strip_nul(text)
        if not text.strip():
            raise FileRejected(f"{name}: empty file (no text)")
        body = _fast_csv_body(text, name, encoding, known_keys, min_matches, prefix, expected)
        if body is None:
            body = _grid_body(_csv_grid(text, name, encoding), name, known_keys, min_matches, prefix, expected)
    body.notes.extend(note for note in (excel_name_note(name, kind), nul_note) if note)
    return body


def _column_ref(position: int) -> str:
    """Column ``position`` (0-based) as a person finds it: ``5 (E)``."""
    letters, n = "", position + 1
    while n:
        n, r = divmod(n - 1, 26)
        letters = chr(65 + r) + letters
    return f"{position + 1} ({letters})"


def _repeated_headers(
    name: str, header_cells: list[str], headers: list[str], data: pd.DataFrame, numbers: np.ndarray,
    header_row_number: int, known_keys: Collection[str], notes: list[str],
) -> list[str]:
    """Headers to drop because they repeat an identical column; a conflicting repeat of a header the adapter
    reads → FileRejected naming the header, the columns and the first line where they differ."""
    groups: dict[str, list[int]] = {}
    for i, cell in enumerate(header_cells):
        if str(cell).strip():
            groups.setdefault(header_key(cell), []).append(i)
    drop: list[str] = []
    for key, positions in groups.items():
        if len(positions) < 2:
            continue
        label = str(header_cells[positions[0]]).replace("\ufeff", "").strip()
        where = ", ".join(_column_ref(i) for i in positions)
        first = arrow(data[headers[positions[0]]])
        differs = np.zeros(len(data), dtype=bool)
        for i in positions[1:]:
            differs |= ~_mask_np(pc.equal(first, arrow(data[headers[i]])))
        if not differs.any():
            drop += [headers[i] for i in positions[1:]]
            notes.append(f"header {label} appears {len(positions)} times (columns {where}) with identical "
                         "values: read once")
        elif key in known_keys:
            line = int(numbers[np.flatnonzero(differs)[0]])
            raise FileRejected(
                f"{name}: header {label} appears {len(positions)} times in the header row (row "
                f"{header_row_number}, columns {where}) and the columns hold different values (first on line "
                f"{line}): which one is {label} cannot be told. Delete or rename the extra {label} column(s) "
                "in the export and load it again"
            )
        else:
            kept = ", ".join(headers[i] for i in positions)
            notes.append(f"header {label} appears {len(positions)} times (columns {where}); all kept in _extra "
                         f"as {kept}")
    return drop


def read_table(
    path: Path,
    *,
    name: str,
    known_keys: Collection[str],
    stop_keys: Collection[str] = (),
    min_matches: int = 2,
    cell_prefix_strip: str | None = None,
    required: Required = (),
) -> Table:
    """The data rows of ``path`` under its header.

    ``known_keys`` are the adapter's header keys (:func:`header_key` of every alias). Rows from the first
    row whose first non-empty cell's key is in ``stop_keys`` (e.g. the wechat_pay summary header) on are
    returned as ``trailer``. ``cell_prefix_strip`` is a character stripped from the start of every cell
    (wechat_pay's backtick). ``required`` lists the columns a workbook's data sheet must have (header shown
    in messages, its keys): it picks the sheet and names what a header-less file should have had.
    """
    b = read_body(path, name, known_keys, min_matches, cell_prefix_strip, required)
    notes: list[str] = list(b.notes)
    if b.header_pos:
        notes.insert(0, f"skipped {b.header_pos} row(s) above the header (title / export info)")
    body, numbers = b.cells, b.row_numbers
    first = first_cell(body)
    trailer = pd.DataFrame()
    trailer_numbers = np.empty(0, dtype=np.int64)
    if stop_keys:
        stop_mask = _mask_np(pc.is_in(
            pc.utf8_lower(pc.replace_substring_regex(arrow(first), r"\s", "")),
            value_set=pa.array(list(stop_keys), type=pa.string())))
        if stop_mask.any():
            cut = int(np.flatnonzero(stop_mask)[0])
            trailer, trailer_numbers = body.iloc[cut:].reset_index(drop=True), numbers[cut:]
            body, numbers, first = body.iloc[:cut], numbers[:cut], first.iloc[:cut]
    blank = _mask_np(pc.equal(arrow(first), ""))
    total = _mask_np(pc.match_substring_regex(arrow(first), TOTAL_ROW)) & ~blank
    totals = pd.DataFrame()
    total_numbers = np.empty(0, dtype=np.int64)
    if total.any():
        lines = ", ".join(map(str, numbers[total][:5]))
        notes.append(f"skipped {int(total.sum())} total row(s) (line {lines})")
        totals, total_numbers = body[total].reset_index(drop=True), numbers[total]
    if blank.any():
        notes.append(f"skipped {int(blank.sum())} blank row(s)")
    keep = ~blank & ~total
    kept = int(keep.sum())
    if kept == len(keep):
        pass
    elif keep[:kept].all():  # dropped rows are all at the end (totals, trailing blanks): a cheap slice
        body, numbers = body.iloc[:kept], numbers[:kept]
    else:
        body, numbers = body[keep], numbers[keep]
    width = body.shape[1]
    header_cells = list(b.header_cells)[:width] + [""] * max(0, width - len(b.header_cells))
    headers = _unique_headers(header_cells)
    data = body.reset_index(drop=True)
    data.columns = headers
    if not totals.empty:
        totals.columns = headers
    # Columns with neither a header nor any value (ragged padding) carry nothing: drop them.
    drop = [h for h, c in zip(headers, header_cells, strict=True)
            if not str(c).strip() and not data[h].str.len().fillna(0).astype(bool).any()]
    drop += _repeated_headers(name, header_cells, headers, data, numbers, b.header_row_number, known_keys, notes)
    if drop:
        data = data.drop(columns=drop)
        if not totals.empty:
            totals = totals.drop(columns=drop)
        headers = [h for h in headers if h not in drop]
    return Table(
        file_name=name,
        headers=headers,
        data=data,
        row_numbers=np.asarray(numbers, dtype=np.int64),
        header_row_number=b.header_row_number,
        trailer=trailer,
        trailer_row_numbers=np.asarray(trailer_numbers, dtype=np.int64),
        notes=notes,
        kind=b.kind,
        encoding=b.encoding,
        totals=totals,
        total_row_numbers=np.asarray(total_numbers, dtype=np.int64),
        sheet=b.sheet,
    )
