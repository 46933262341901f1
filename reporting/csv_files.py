"""CSV files people open in Excel or WPS: UTF-8 with BOM, written atomically, formulas neutralised.

A cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is run as a formula by
spreadsheet programs (``=HYPERLINK(...)``, ``+cmd|...``, ``@SUM(...)``: CSV injection). Text cells that
start so get a leading apostrophe, which the spreadsheet shows as text and hides; numbers are untouched
(a negative amount stays a number). The data itself stays as it is in the warehouse: only the file a
person opens is neutralised.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pandas as pd

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def neutralise_cell(value: object) -> object:
    """``value`` with a leading apostrophe when it is text a spreadsheet would run as a formula."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def neutralise_formulas(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` whose text cells cannot run as spreadsheet formulas."""
    out = frame.copy()
    for column in out.columns:
        if out[column].dtype == object or pd.api.types.is_string_dtype(out[column]):
            out[column] = out[column].map(neutralise_cell)
    return out


def write_csv(frame: pd.DataFrame, path: Path, mode: int | None = None) -> Path:
    """Write ``frame`` to ``path`` (BOM, no index) through a temporary file renamed into place, so an
    import tool never reads half a file; ``mode`` sets the permissions (e.g. 0o600 for personal data)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8-sig", newline="") as handle:
            neutralise_formulas(frame).to_csv(handle, index=False)
        if mode is not None:
            os.chmod(tmp_name, mode)
        os.replace(tmp_name, path)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise
    return path
