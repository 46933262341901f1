"""Deterministic writers for CSV (GBK / UTF-8 / UTF-8 with BOM) and small XLSX exports."""

from __future__ import annotations

import datetime as dt
import io
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from openpyxl import Workbook

from .cells import concat, txt

XLSX_FIXED_TIME = (2026, 1, 1, 0, 0, 0)


def csv_escape(col) -> np.ndarray:
    """Quote cells holding a comma, a quote or a line break (RFC 4180)."""
    col = txt(col)
    needs = np.zeros(col.shape, dtype=bool)
    for ch in (",", '"', "\n", "\r"):
        needs |= np.strings.find(col, ch) >= 0
    if not needs.any():
        return col
    out = col.copy()
    out[needs] = concat('"', np.strings.replace(col[needs], '"', '""'), '"')
    return out


@dataclass
class Table:
    """One export: native header and one text column per header."""

    header: list[str]
    columns: list  # array-likes of cell text, all the same length
    raw: set[int] = field(default_factory=set)  # columns written verbatim (e.g. ="123" ids)
    title_lines: list[str] = field(default_factory=list)
    total_row: list[str] | None = None
    blank_trailing: int = 2

    @property
    def nrows(self) -> int:
        return len(self.columns[0]) if self.columns else 0


def csv_line(cells: list[str]) -> str:
    return ",".join(csv_escape(np.array(cells, dtype=object)).tolist())


def join_rows(columns: list, sep: str = ",") -> np.ndarray:
    out = txt(columns[0])
    for c in columns[1:]:
        out = concat(out, sep, c)
    return out


def write_csv(path: Path, table: Table, encoding: str, newline: str = "\r\n") -> int:
    """Write table as CSV text in encoding ('gbk', 'utf-8', 'utf-8-sig'); returns data rows written."""
    width = len(table.header)
    cols = [txt(c) if i in table.raw else csv_escape(c) for i, c in enumerate(table.columns)]
    parts: list[str] = [title + newline for title in table.title_lines]
    parts.append(csv_line(table.header) + newline)
    if table.nrows:
        parts.append(newline.join(join_rows(cols).tolist()) + newline)
    if table.total_row is not None:
        parts.append(csv_line(table.total_row) + newline)
    for i in range(table.blank_trailing):
        parts.append(("," * (width - 1) if i == 0 else "") + newline)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes("".join(parts).encode(encoding))
    return table.nrows


def write_xlsx(path: Path, header: list[str], rows: pd.DataFrame, title_lines: list[str],
               total_row: list | None, sheet: str, date_format: str = "yyyy-mm-dd hh:mm:ss") -> int:
    """Write a small XLSX: real date cells (Excel serials), numbers as numbers, ids as text.

    The zip entries and document properties get fixed timestamps so the bytes depend only on content.
    """
    wb = Workbook()
    ws = wb.active
    ws.title = sheet
    for title in title_lines:
        ws.append([title])
    ws.append(header)
    first_data = ws.max_row + 1
    date_cols = [i for i, c in enumerate(rows.columns) if pd.api.types.is_datetime64_any_dtype(rows[c])]
    values = rows.astype(object).where(rows.notna(), None).to_numpy()
    for rec in values:
        ws.append([_xl_value(v) for v in rec])
    for ci in date_cols:
        for (cell,) in ws.iter_rows(min_row=first_data, min_col=ci + 1, max_col=ci + 1):
            cell.number_format = date_format
    if total_row is not None:
        ws.append(total_row)
    fixed = dt.datetime(*XLSX_FIXED_TIME)
    wb.properties.created = fixed
    wb.properties.modified = fixed
    wb.properties.creator = "export"
    wb.properties.lastModifiedBy = "export"
    buf = io.BytesIO()
    wb.save(buf)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(_normalise_zip(buf.getvalue()))
    return len(rows)


def _xl_value(v):
    if isinstance(v, pd.Timestamp):
        return v.to_pydatetime()
    if isinstance(v, np.generic):
        return v.item()
    return v


_CORE_TIME = re.compile(rb"(<dcterms:(created|modified)[^>]*>)[^<]*(</dcterms:\2>)")


def _normalise_zip(data: bytes) -> bytes:
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            content = src.read(info.filename)
            if info.filename == "docProps/core.xml":
                content = _CORE_TIME.sub(rb"\g<1>2026-01-01T00:00:00Z\g<3>", content)
            zi = zipfile.ZipInfo(info.filename, date_time=XLSX_FIXED_TIME)
            zi.compress_type = zipfile.ZIP_DEFLATED
            zi.external_attr = 0o600 << 16
            dst.writestr(zi, content)
    return out.getvalue()
