"""What every adapter shares: header aliases → canonical columns, typed normalisation, quarantine.

An adapter is a table of :class:`Column` specs (canonical name, native header aliases, kind, whether the
header is required and whether a row without a usable value is quarantined). :meth:`Adapter.parse`
reads the file (:mod:`ingestion.read`), maps headers case-/space-/width-insensitively, normalises every
column over the whole file at once (:mod:`ingestion.normalise`), and returns the canonical frame, the
rejected rows with reasons, and notes. Native columns nobody maps, and issues on optional fields, go to
``_extra`` as JSON so nothing is silently lost.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from ingestion import normalise as nz
from ingestion.errors import FileRejected
from ingestion.read import Table, read_table
from ingestion.schemas import CANONICAL, LINEAGE

_NULL = nz._NULL
KINDS = ("id", "text", "money", "time", "phone", "number", "int", "bool", "masked", "email", "tags")


@dataclass(frozen=True)
class Column:
    """One canonical column and how to find and read it in a native export."""

    name: str
    aliases: tuple[str, ...]
    kind: str = "text"
    required: bool = False  # the header must be in the file, else the whole file is rejected
    row_required: bool = False  # a row whose value is empty / unusable goes to quarantine
    known_values: tuple[str, ...] = ()  # values outside this set are kept but noted in _extra._issues
    # a value that is present but unreadable sends the row to quarantine (always so for money: a garbled
    # amount must not become a silent null in revenue); an empty cell stays null
    strict: bool = False

    @property
    def quarantines_unreadable(self) -> bool:
        return self.row_required or self.strict or self.kind == "money"

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown column kind {self.kind!r}")

    @property
    def keys(self) -> set[str]:
        return {nz.header_key(a) for a in (self.name, *self.aliases)}


@dataclass
class ParseResult:
    frame: pd.DataFrame  # canonical columns then lineage columns (without _loaded_at)
    rejects: pd.DataFrame  # row_number, raw_row (JSON text), reason
    rows_in: int  # data rows found = len(frame) + len(rejects)
    notes: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        if self.rows_in != len(self.frame) + len(self.rejects):
            raise AssertionError(
                f"rows_in {self.rows_in} != loaded {len(self.frame)} + quarantined {len(self.rejects)}"
            )


@dataclass
class Work:
    """The state of one parse, handed to an adapter's :meth:`Adapter.finish` hook."""

    table: Table
    mapping: dict[str, str]  # canonical → native header
    values: dict[str, pd.Series]  # canonical column → normalised values
    reasons: list[pd.Series] = field(default_factory=list)  # quarantine reasons (str, NA = fine)
    issues: list[pd.Series] = field(default_factory=list)  # optional-field issues for _extra._issues
    notes: list[str] = field(default_factory=list)

    @property
    def n(self) -> int:
        return len(self.table.data)

    def native(self, canonical: str) -> pd.Series | None:
        header = self.mapping.get(canonical)
        return None if header is None else self.table.data[header]

    def label(self, canonical: str) -> str:
        return self.mapping.get(canonical, canonical)


# --------------------------------------------------------------------------------------------- JSON
def _json_escape(arr: pa.ChunkedArray) -> pa.ChunkedArray:
    for raw, esc in (("\\", "\\\\"), ('"', '\\"'), ("\n", "\\n"), ("\r", "\\r"), ("\t", "\\t")):
        if pc.any(pc.match_substring(arr, raw)).as_py():
            arr = pc.replace_substring(arr, raw, esc)
    if pc.any(pc.match_substring_regex(arr, r"[\x00-\x08\x0b\x0c\x0e-\x1f]")).as_py():
        arr = pc.replace_substring_regex(arr, r"[\x00-\x08\x0b\x0c\x0e-\x1f]", " ")
    return arr


def _json_key(key: str) -> str:
    import json

    return json.dumps(key, ensure_ascii=False)


def json_objects(
    fields: Iterable[tuple[str, pd.Series]],
    n: int,
    *,
    keep_empty: bool,
    issues: Iterable[pd.Series] = (),
) -> pd.Series:
    """One JSON object per row: ``{key: text, …}`` (and ``"_issues": [...]``), NA when nothing to say.

    Built with vectorised string kernels: values are JSON-escaped and joined column by column, only
    over the rows that have something to say.
    """
    fields = [(k, nz.arrow(v)) for k, v in fields]
    issue_arrays = [nz.arrow(i) for i in issues]
    issue_arrays = [a for a in issue_arrays if a.null_count < len(a)]
    if keep_empty:
        rows = np.arange(n) if fields else np.empty(0, dtype=np.int64)
    else:
        has = np.zeros(n, dtype=bool)
        for _, arr in fields:
            has |= _np(pc.greater(pc.utf8_length(pc.utf8_trim_whitespace(arr)), 0))
        for arr in issue_arrays:
            has |= _np(pc.is_valid(arr))
        rows = np.flatnonzero(has)
    if not len(rows):
        return nz.na_text(n)
    take = None if len(rows) == n else pa.array(rows)

    def sub(arr: pa.ChunkedArray) -> pa.ChunkedArray:
        return arr if take is None else arr.take(take)

    pieces: list[pa.ChunkedArray] = []
    for key, arr in fields:
        text = pc.fill_null(sub(arr), "")
        piece = nz.join(_json_key(key) + ':"', _json_escape(text), '",', "")
        if not keep_empty:
            piece = pc.if_else(pc.greater(pc.utf8_length(pc.utf8_trim_whitespace(text)), 0), piece, "")
        pieces.append(piece)
    issue_pieces = []
    for arr in issue_arrays:
        arr = sub(arr)
        piece = nz.join('"', _json_escape(pc.fill_null(arr, "")), '",', "")
        issue_pieces.append(pc.if_else(pc.is_valid(arr), piece, ""))
    if issue_pieces:
        joined = pc.utf8_rtrim(nz.join(*issue_pieces, ""), characters=",")
        wrapped = nz.join('"_issues":[', joined, "],", "")
        pieces.append(pc.if_else(pc.greater(pc.utf8_length(joined), 0), wrapped, ""))
    body = pc.utf8_rtrim(nz.join(*pieces, ""), characters=",")
    obj = nz.join("{", body, "}", "")
    obj = pc.if_else(pc.equal(body, ""), _NULL, obj)
    if take is not None:  # scatter back: rows without content get null
        positions = np.full(n, -1, dtype=np.int64)
        positions[rows] = np.arange(len(rows))
        idx = pa.array(positions, mask=positions < 0)
        obj = pa.chunked_array([obj.combine_chunks() if isinstance(obj, pa.ChunkedArray) else obj]).take(idx)
    return nz.series(obj, pd.RangeIndex(n))


def _np(arr: pa.ChunkedArray) -> np.ndarray:
    return np.asarray(pc.fill_null(arr, False).to_numpy(zero_copy_only=False), dtype=bool)


def join_reasons(reasons: list[pd.Series], n: int) -> pd.Series:
    """All reasons of a row joined with "; " (NA when the row is fine)."""
    out: pa.ChunkedArray | None = None
    for reason in reasons:
        arr = nz.arrow(reason)
        if out is None:
            out = arr
        else:
            both = pc.and_(pc.is_valid(out), pc.is_valid(arr))
            out = pc.if_else(both, nz.join(out, arr, "; "), pc.coalesce(out, arr))
    if out is None:
        return nz.na_text(n)
    return nz.series(out, pd.RangeIndex(n))


def labelled(issue: pd.Series, label: str) -> pd.Series:
    """``label: issue`` where there is an issue."""
    arr = nz.arrow(issue)
    if arr.null_count == len(arr):
        return nz.na_text(len(arr), issue.index)
    return nz.series(nz.join(label + ": ", arr, ""), issue.index)


def where_text(mask: np.ndarray, text: str, n: int) -> pd.Series:
    if not mask.any():
        return nz.na_text(n)
    return nz.series(pc.if_else(pa.array(mask), pa.scalar(text), _NULL), pd.RangeIndex(n))


def known_value_issue(values: pd.Series, known: Iterable[str], label: str) -> pd.Series:
    """``label: unknown value (x)`` for values outside ``known`` (compared width/space-insensitively)."""
    def key(arr: pa.ChunkedArray | pa.Array) -> pa.ChunkedArray:
        arr = pc.utf8_normalize(pc.fill_null(arr, ""), "NFKC")
        return pc.utf8_lower(pc.replace_substring_regex(arr, r"\s+", ""))

    known = list(known)
    arr = nz.arrow(values)
    # Exact matches are the common case; only the other values get the tolerant comparison.
    suspect = _np(pc.and_(pc.is_valid(arr), pc.invert(pc.is_in(arr, value_set=pa.array(known)))))
    if not suspect.any():
        return nz.na_text(len(values), values.index)
    idx = pa.array(np.flatnonzero(suspect))
    sub = arr.take(idx)
    unknown = _np(pc.invert(pc.is_in(key(sub), value_set=key(pa.array(known)))))
    mask = np.zeros(len(values), dtype=bool)
    mask[np.flatnonzero(suspect)[unknown]] = True
    text = nz.join(label + ": unknown value (", pc.fill_null(arr, ""), ")", "")
    return nz.series(pc.if_else(pa.array(mask), text, _NULL), values.index)


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


# ------------------------------------------------------------------------------------------ adapter
class Adapter:
    """Generic spec-driven adapter; subclasses set ``source`` and ``columns`` and may override hooks."""

    source: str = ""
    columns: tuple[Column, ...] = ()
    stop_keys: tuple[str, ...] = ()  # first cell of a row that ends the details (summary header)
    cell_prefix_strip: str | None = None
    min_header_matches: int = 2
    # every row is normalised on its own (no cross-row rule in finish()): a big file is cut into row
    # chunks normalised in parallel threads (pyarrow's kernels release the GIL), then put back in order
    rows_independent: bool = True
    chunk_rows: int = 250_000

    # ---------------------------------------------------------------- public
    def parse(self, path: Path, *, relative_name: str, sha256: str | None = None) -> ParseResult:
        name = relative_name
        sha = sha256 or file_sha256(path)
        known = set().union(*(c.keys for c in self.columns))
        table = read_table(
            path,
            name=name,
            known_keys=known,
            stop_keys=tuple(nz.header_key(k) for k in self.stop_keys),
            min_matches=self.min_header_matches,
            cell_prefix_strip=self.cell_prefix_strip,
        )
        mapping = self.map_headers(table)
        n = len(table.data)
        if not self.rows_independent or n <= self.chunk_rows:
            return self._parse_rows(table, mapping, sha)
        chunks = [
            dataclasses.replace(
                table,
                data=table.data.iloc[start:start + self.chunk_rows].reset_index(drop=True),
                row_numbers=table.row_numbers[start:start + self.chunk_rows],
                notes=[],
            )
            for start in range(0, n, self.chunk_rows)
        ]
        with ThreadPoolExecutor(max_workers=min(len(chunks), os.cpu_count() or 1)) as pool:
            parts = list(pool.map(lambda chunk: self._parse_rows(chunk, mapping, sha), chunks))
        notes = list(table.notes)
        for part in parts:
            notes += [note for note in part.notes if note not in notes]
        return ParseResult(
            frame=pd.concat([p.frame for p in parts], ignore_index=True),
            rejects=pd.concat([p.rejects for p in parts if len(p.rejects)] or [parts[0].rejects],
                              ignore_index=True),
            rows_in=n,
            notes=notes,
        )

    def _parse_rows(self, table: Table, mapping: dict[str, str], sha: str) -> ParseResult:
        work = Work(table=table, mapping=mapping, values={}, notes=list(table.notes))
        self.normalise(work)
        self.finish(work)
        return self.assemble(work, sha)

    # ---------------------------------------------------------------- steps
    def map_headers(self, table: Table) -> dict[str, str]:
        """canonical → native header; a missing required header rejects the file."""
        keys = {h: nz.header_key(h.split("#")[0]) for h in table.headers}
        mapping: dict[str, str] = {}
        used: set[str] = set()
        for col in self.columns:
            ordered = [nz.header_key(a) for a in (*col.aliases, col.name)]
            for wanted in ordered:
                hit = next((h for h in table.headers if keys[h] == wanted and h not in used), None)
                if hit is not None:
                    mapping[col.name] = hit
                    used.add(hit)
                    break
        missing = [c for c in self.columns if c.required and c.name not in mapping]
        if missing:
            wanted = ", ".join(f"{c.aliases[0]} ({c.name})" for c in missing)
            found = ", ".join(h for h in table.headers if not h.startswith("_col")) or "(none)"
            raise FileRejected(
                f"{table.file_name}: missing required column(s) {wanted}; headers found "
                f"(row {table.header_row_number}): {found}"
            )
        return mapping

    def normalise(self, work: Work) -> None:
        n = work.n
        for col in self.columns:
            raw = work.native(col.name)
            if raw is None:
                self._absent(work, col, n)
                continue
            label = work.label(col.name)
            self.normalise_column(work, col, raw, label)

    def normalise_column(self, work: Work, col: Column, raw: pd.Series, label: str) -> None:
        n = work.n
        v = work.values
        issue: pd.Series | None = None
        if col.kind == "id":
            res = nz.clean_id(raw)
            v[col.name], issue = res.values, res.issue
            if col.row_required:
                missing = res.values.isna().to_numpy() & res.issue.isna().to_numpy()
                work.reasons.append(labelled(res.issue, label))
                work.reasons.append(where_text(missing, f"{label}: empty", n))
                issue = None
        elif col.kind == "text":
            v[col.name] = nz.clean_text(raw)
            if col.row_required:
                work.reasons.append(where_text(v[col.name].isna().to_numpy(), f"{label}: empty", n))
        elif col.kind == "money":
            res = nz.parse_money(raw)
            v[col.name], issue = res.values, res.issue
        elif col.kind == "number":
            res = nz.parse_number(raw)
            v[col.name], issue = res.values, res.issue
        elif col.kind == "int":
            res = nz.parse_int(raw)
            v[col.name], issue = res.values, res.issue
        elif col.kind == "time":
            res = nz.parse_time(raw)
            v[col.name], issue = res.values, res.issue
        elif col.kind == "bool":
            res = nz.parse_bool(raw)
            v[col.name], issue = res.values, res.issue
        elif col.kind == "phone":
            ph = nz.normalise_phone(raw)
            v[col.name], v[f"{col.name}_masked"], v[f"{col.name}_issue"] = ph.phone, ph.masked, ph.issue
            lost = ph.issue.isin(["invalid", "placeholder"]).to_numpy()
            if lost.any():
                detail = nz.series(nz.join(
                    nz.arrow(ph.issue), " (", pc.fill_null(nz.arrow(raw), ""), ")", ""), raw.index)
                work.issues.append(labelled(detail.where(lost), label))
        elif col.kind == "masked":
            res = nz.masked_text(raw)
            v[col.name], v[f"{col.name}_masked"] = res.values, res.masked
        elif col.kind == "email":
            res = nz.normalise_email(raw)
            v[col.name] = res.values
            issue = nz.series(nz.join(
                nz.arrow(res.issue), " (", pc.fill_null(nz.arrow(raw), ""), ")", ""), raw.index)
        elif col.kind == "tags":
            v[col.name] = nz.normalise_tags(raw)
        if issue is not None:
            if col.quarantines_unreadable:
                work.reasons.append(labelled(issue, label))
            else:
                work.issues.append(labelled(issue, label))
        if col.row_required and col.kind in ("money", "number", "int", "time", "bool"):
            empty = nz.blank_to_na(raw).isna().to_numpy()
            work.reasons.append(where_text(empty, f"{label}: empty", n))
        if col.known_values and col.kind == "text":
            work.issues.append(known_value_issue(v[col.name], col.known_values, label))

    def _absent(self, work: Work, col: Column, n: int) -> None:
        """A column the file does not have: all null (flags False)."""
        dtype = CANONICAL[self.source][col.name]
        work.values[col.name] = _null_column(dtype, n)
        if col.kind == "phone":
            work.values[f"{col.name}_masked"] = pd.Series(np.zeros(n, dtype=bool))
            work.values[f"{col.name}_issue"] = _null_column("VARCHAR", n)
        if col.kind == "masked":
            work.values[f"{col.name}_masked"] = pd.Series(np.zeros(n, dtype=bool))
        if col.row_required:
            work.reasons.append(where_text(np.ones(n, dtype=bool), f"{col.aliases[0]}: column missing", n))

    def finish(self, work: Work) -> None:
        """Source-specific checks (summary reconciliation, …); may add reasons/issues or raise."""

    def assemble(self, work: Work, sha: str) -> ParseResult:
        table, n = work.table, work.n
        canonical = CANONICAL[self.source]
        reasons = join_reasons(work.reasons, n)
        bad = reasons.notna().to_numpy()
        mapped = set(work.mapping.values())
        unmapped = [(h, table.data[h]) for h in table.headers if h not in mapped]
        extra = json_objects(unmapped, n, keep_empty=False, issues=work.issues)
        frame = pd.DataFrame(
            {name: _as_column(work.values.get(name), dtype, n) for name, dtype in canonical.items()}
        )
        frame["_file_sha256"] = sha
        frame["_file_name"] = table.file_name
        frame["_row_number"] = table.row_numbers.astype(np.int32)
        frame["_extra"] = extra
        expected = [*canonical, *[c for c in LINEAGE if c != "_loaded_at"]]
        frame = frame[expected]
        rejects = pd.DataFrame(columns=["row_number", "raw_row", "reason"])
        if bad.any():
            idx = np.flatnonzero(bad)
            sub = table.data.iloc[idx].reset_index(drop=True)
            raw_row = json_objects([(h, sub[h]) for h in table.headers], len(idx), keep_empty=True)
            rejects = pd.DataFrame({
                "row_number": table.row_numbers[idx].astype(np.int32),
                "raw_row": raw_row.to_numpy(),
                "reason": reasons.to_numpy()[idx],
            })
            frame = _filter_rows(frame, ~bad)
        notes = list(work.notes)
        return ParseResult(frame=frame, rejects=rejects, rows_in=n, notes=notes)


def _filter_rows(frame: pd.DataFrame, keep: np.ndarray) -> pd.DataFrame:
    """The rows where ``keep``: arrow columns filtered by arrow kernels, others by numpy."""
    mask = pa.array(keep)
    out = {}
    for name in frame.columns:
        col = frame[name]
        if isinstance(col.dtype, pd.StringDtype) and hasattr(col.array, "_pa_array"):
            out[name] = nz.series(pc.filter(col.array._pa_array, mask), pd.RangeIndex(int(keep.sum())))
        else:
            out[name] = pd.Series(col.array[keep], index=pd.RangeIndex(int(keep.sum())))
    return pd.DataFrame(out)


def _null_column(dtype: str, n: int) -> pd.Series:
    """An all-null column of the canonical type (built without a per-row Python list)."""
    if dtype.startswith("DECIMAL") or dtype == "DOUBLE":
        return pd.Series(np.full(n, np.nan))
    if dtype == "TIMESTAMP":
        return pd.Series(np.full(n, np.datetime64("NaT"), dtype="datetime64[us]"))
    if dtype == "INTEGER":
        return pd.Series(pd.arrays.IntegerArray(np.zeros(n, dtype=np.int32), np.ones(n, dtype=bool)))
    if dtype == "BOOLEAN":
        return pd.Series(pd.arrays.BooleanArray(np.zeros(n, dtype=bool), np.ones(n, dtype=bool)))
    return nz.na_text(n)


def _as_column(values: pd.Series | None, dtype: str, n: int) -> pd.Series:
    if values is None:
        return _null_column(dtype, n)
    return values.reset_index(drop=True)
