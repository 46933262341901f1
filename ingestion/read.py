"""Read a merchant export (CSV or XLSX) into a grid of text cells, then find its header and data rows.

- The format is sniffed from the bytes, not trusted from the extension: a zip (``PK``) is an xlsx
  whatever its name (``.xls`` renamed), a legacy BIFF/OLE2 ``.xls`` is rejected with a clear message.
- The encoding is detected, never assumed: UTF-8 BOM → utf-8-sig, valid UTF-8 → utf-8, else GB18030
  (a superset of GBK); bytes that are neither → :class:`FileRejected`.
- Every cell is text, so ids are never mangled by the reader. CSV goes through pandas' C parser over the
  whole file at once; each data row keeps the 1-based line (CSV) or Excel row (xlsx) where it starts.
- The header is the first of the first rows whose cells match enough of the adapter's known header
  keys; title rows above it, blank rows, and total rows (first non-empty cell 合计/总计/汇总/共计/小计)
  are not data rows.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.compute as pc

from ingestion.errors import FileRejected
from ingestion.normalise import STR, arrow, header_key, series

HEADER_SCAN_ROWS = 20
TOTAL_ROW = r"^\s*(?:合计|总计|汇总|共计|小计|总合计)"
ZIP_MAGIC = b"PK\x03\x04"
OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
SUPPORTED_SUFFIXES = (".csv", ".xlsx", ".xls", ".txt")


@dataclass
class Grid:
    """Every row of a file as text cells ("" when empty), with the row number a person sees."""

    cells: pd.DataFrame  # columns 0..k-1, str dtype, no NA
    row_numbers: np.ndarray  # int64, 1-based line (CSV) or Excel row (xlsx) where each row starts
    kind: str  # "csv" / "xlsx"
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


# ------------------------------------------------------------------------------------------ bytes
def sniff_kind(data: bytes, name: str) -> str:
    """'xlsx' for a zip container, 'csv' for text; anything else → FileRejected naming the file."""
    if data.startswith(ZIP_MAGIC):
        return "xlsx"
    if data.startswith(OLE2_MAGIC):
        raise FileRejected(
            f"{name}: unsupported format: a legacy Excel 97-2003 (BIFF) workbook or an encrypted xlsx; "
            "open it in Excel and save it as .xlsx or .csv"
        )
    if data.startswith(b"%PDF") or data[:8].lower().startswith((b"<html", b"<!doctyp", b"<?xml")):
        raise FileRejected(f"{name}: unsupported format: not a CSV or an xlsx workbook (starts with {data[:8]!r})")
    if Path(name).suffix.lower() in (".xlsx", ".xls"):
        raise FileRejected(f"{name}: unsupported format: named {Path(name).suffix} but not an Excel workbook")
    return "csv"


def detect_encoding(data: bytes, name: str) -> str:
    """utf-8-sig (BOM), utf-8 (valid), else gb18030; undecodable bytes → FileRejected."""
    if data.startswith(b"\xef\xbb\xbf"):
        try:
            data[3:].decode("utf-8")
        except UnicodeDecodeError as exc:
            raise FileRejected(
                f"{name}: cannot decode: starts with a UTF-8 BOM but byte {exc.start + 3} is not UTF-8"
            ) from None
        return "utf-8-sig"
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "utf-16"
    try:
        data.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        data.decode("gb18030")
        return "gb18030"
    except UnicodeDecodeError as exc:
        raise FileRejected(
            f"{name}: cannot decode: the bytes are neither UTF-8 nor GBK/GB18030 "
            f"(bad byte at offset {exc.start}); re-export the file as UTF-8 or GBK CSV"
        ) from None


def _utf8_text(data: bytes, name: str) -> tuple[bytes, str]:
    """The file's text as UTF-8 bytes with \\n line ends, and the detected encoding."""
    encoding = detect_encoding(data, name)
    if encoding == "utf-8-sig":
        data = data[3:]
    elif encoding != "utf-8":
        data = data.decode(encoding).encode("utf-8")
    if b"\r" in data:
        data = data.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
    return data, encoding


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
    text, encoding = _utf8_text(data, name)
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
        return value
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


def read_xlsx_grid(path: Path, name: str) -> Grid:
    try:
        from python_calamine import load_workbook

        workbook = load_workbook(str(path))
        sheets = [m.name for m in workbook.sheets_metadata if str(m.typ).endswith("WorkSheet")]
        sheets = sheets or list(workbook.sheet_names)
        rows: list[list[object]] = []
        sheet_name = None
        for sheet_name in sheets:
            rows = workbook.get_sheet_by_name(sheet_name).to_python(skip_empty_area=False)
            if any(any(c not in ("", None) for c in row) for row in rows):
                break
    except Exception as calamine_error:  # noqa: BLE001 - any reader failure means a damaged workbook
        try:
            rows, sheet_name = _openpyxl_rows(path)
        except Exception:  # noqa: BLE001
            raise FileRejected(
                f"{name}: truncated or corrupt xlsx workbook, cannot be read ({calamine_error}); "
                "download or export it again"
            ) from None
    if not rows or not any(any(c not in ("", None) for c in row) for row in rows):
        raise FileRejected(f"{name}: empty file (the workbook has no cells)")
    frame = pd.DataFrame(rows, dtype=object)
    cells = pd.DataFrame(
        {i: frame[c].map(_cell_text, na_action="ignore").fillna("") for i, c in enumerate(frame.columns)}
    ).astype(STR)
    return Grid(
        cells=_trim_empty_columns(cells),
        row_numbers=np.arange(1, len(cells) + 1, dtype=np.int64),
        kind="xlsx",
        sheet=sheet_name,
    )


def _openpyxl_rows(path: Path) -> tuple[list[list[object]], str]:
    import openpyxl

    workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
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
    if not data.strip(b" \t\r\n\xef\xbb\xbf"):
        raise FileRejected(f"{name}: empty file")
    kind = sniff_kind(data, name)
    if kind == "xlsx":
        return read_xlsx_grid(path, name)
    return read_csv_grid(data, name)


# ------------------------------------------------------------------------------------ header, rows
def _nonempty(cells: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame({c: pc.utf8_length(pc.utf8_trim_whitespace(arrow(cells[c]))).to_numpy(
        zero_copy_only=False) > 0 for c in cells.columns}, index=cells.index)


def first_cell(cells: pd.DataFrame) -> pd.Series:
    """The first non-empty (stripped) cell of each row, "" when the row is blank."""
    out = None
    for col in reversed(list(cells.columns)):
        arr = pc.utf8_trim_whitespace(arrow(cells[col]))
        out = arr if out is None else pc.if_else(pc.greater(pc.utf8_length(arr), 0), arr, out)
    return pd.Series(pd.arrays.ArrowStringArray(out, dtype=STR), index=cells.index)


def find_header(grid: Grid, known_keys: Collection[str], name: str, min_matches: int = 2) -> int:
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
        found = [str(c) for c in head.iloc[0] if str(c).strip()] if len(head) else []
        raise FileRejected(
            f"{name}: no header row found in the first {HEADER_SCAN_ROWS} rows; "
            f"first row has: {', '.join(found[:30]) or '(nothing)'}"
        )
    return best


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


def read_table(
    path: Path,
    *,
    name: str,
    known_keys: Collection[str],
    stop_keys: Collection[str] = (),
    min_matches: int = 2,
    cell_prefix_strip: str | None = None,
) -> Table:
    """The data rows of ``path`` under its header.

    ``known_keys`` are the adapter's header keys (:func:`header_key` of every alias). Rows from the first
    row whose first non-empty cell's key is in ``stop_keys`` (e.g. the wechat_pay summary header) on are
    returned as ``trailer``. ``cell_prefix_strip`` is a character stripped from the start of every cell
    (wechat_pay's backtick).
    """
    grid = read_grid(path, name)
    cells = grid.cells
    if cell_prefix_strip:
        stripped = {
            c: series(pc.utf8_ltrim(pc.utf8_trim_whitespace(arrow(cells[c])), characters=cell_prefix_strip),
                      cells.index)
            for c in cells.columns
        }
        cells = pd.DataFrame(stripped)
        grid = Grid(cells=cells, row_numbers=grid.row_numbers, kind=grid.kind, encoding=grid.encoding)
    header_pos = find_header(grid, known_keys, name, min_matches=min_matches)
    header_cells = list(cells.iloc[header_pos])
    notes: list[str] = []
    if header_pos:
        notes.append(f"skipped {header_pos} row(s) above the header (title / export info)")
    body = cells.iloc[header_pos + 1:]
    numbers = grid.row_numbers[header_pos + 1:]
    first = first_cell(body)
    trailer = pd.DataFrame()
    trailer_numbers = np.empty(0, dtype=np.int64)
    if stop_keys:
        stop_mask = first.str.replace(r"\s", "", regex=True).str.lower().isin(list(stop_keys)).to_numpy()
        if stop_mask.any():
            cut = int(np.flatnonzero(stop_mask)[0])
            trailer, trailer_numbers = body.iloc[cut:], numbers[cut:]
            body, numbers, first = body.iloc[:cut], numbers[:cut], first.iloc[:cut]
    blank = first.eq("").to_numpy()
    total = first.str.contains(TOTAL_ROW, regex=True).fillna(False).to_numpy(dtype=bool) & ~blank
    if total.any():
        notes.append(f"skipped {int(total.sum())} total row(s) (line {', '.join(map(str, numbers[total][:5]))})")
    if blank.any():
        notes.append(f"skipped {int(blank.sum())} blank row(s)")
    keep = ~blank & ~total
    body = body[keep]
    numbers = numbers[keep]
    width = len(cells.columns)
    header_cells = header_cells + [""] * (width - len(header_cells))
    headers = _unique_headers(header_cells)
    data = body.copy()
    data.columns = headers
    data = data.reset_index(drop=True)
    # Columns with neither a header nor any value (ragged padding) carry nothing: drop them.
    empty_unnamed = [h for h, c in zip(headers, header_cells, strict=True)
                     if not str(c).strip() and not data[h].str.len().fillna(0).astype(bool).any()]
    if empty_unnamed:
        data = data.drop(columns=empty_unnamed)
        headers = [h for h in headers if h not in empty_unnamed]
    return Table(
        file_name=name,
        headers=headers,
        data=data,
        row_numbers=numbers.astype(np.int64),
        header_row_number=int(grid.row_numbers[header_pos]),
        trailer=trailer.reset_index(drop=True),
        trailer_row_numbers=trailer_numbers,
        notes=notes,
        kind=grid.kind,
        encoding=grid.encoding,
    )
