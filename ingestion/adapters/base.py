"""What every adapter shares: header aliases → canonical columns, typed normalisation, quarantine.

An adapter is a table of :class:`Column` specs (canonical name, native header aliases, kind, whether the
header is required and whether a row without a usable value is quarantined). :meth:`Adapter.parse`
reads the file (:mod:`ingestion.read`), maps headers case-/space-/width-insensitively, normalises every
column over the whole file at once (:mod:`ingestion.normalise`), and returns the canonical frame, the
rejected rows with reasons, and notes. Native columns nobody maps, and issues on optional fields, go to
``_extra`` as JSON so nothing is silently lost.

Row rules every adapter applies (a value that breaks one is unusable: the row is quarantined when the column
quarantines unreadable values, else the value becomes null with the issue in ``_extra._issues``):

- times later than the file's load time + :data:`FUTURE_GRACE` (a cashier's clock set to 2099) or before
  2000-01-01 are implausible;
- money beyond what DECIMAL(18,2) stores is out of range (it would abort the file's insert), and so is money
  outside the registry's ``money_bounds`` for that column (the raw gate's bounds become a safety net);
- a column with ``max_abs`` (quantities) rejects values beyond it;
- columns the registry requires (``not_null``) quarantine a present but unusable value, like
  ``row_required`` / ``strict`` / money columns (a null would only fail the raw gate).

Whole-file rules, applied after every row was normalised (so they hold for big files cut into chunks):

- ``total_columns``: the file's grand total row (合计/总计…) is reconciled against the sum of all its data
  lines, quarantined ones included (the export's own total counts them); a mismatch rejects the file
  (lines missing or edited). The reconciled totals are returned for the loader's truncation rule.
- the registry's ``unique_per_file``: the export promises one row per key. Identical repeated rows are collapsed into one
  (counted in ``ParseResult.rows_collapsed`` and named in a note); repeated keys with different values are
  all quarantined (no way to tell which is right), each reason naming every row of that key.
  ``rows_in = loaded + quarantined + collapsed``.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
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

from core.sources import Source, get_source
from ingestion import normalise as nz
from ingestion.errors import FileRejected
from ingestion.read import GRAND_TOTAL_ROW, Table, read_table
from ingestion.read import first_cell as read_first_cells
from ingestion.schemas import CANONICAL, LINEAGE

_NULL = nz._NULL
KINDS = ("id", "text", "money", "time", "phone", "number", "int", "bool", "masked", "email", "tags")
FUTURE_GRACE = dt.timedelta(days=2)  # event times after the load time + this are a device's wrong clock
BEIJING = dt.timedelta(hours=8)  # raw times are naive Beijing time; load times are naive UTC
# DECIMAL(18,2) holds up to 9,999,999,999,999,999.99: anything above can only be a garbled cell
MONEY_STORABLE = 9_999_999_999_999_998.0
EXACT_SUM_LIMIT = 1e12  # yuan: totals are added up in cents as float64, exact well below this
QUANTITY_LIMIT = 10_000  # units on one receipt / order line; beyond is a typo or a barcode in the wrong cell


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
    max_abs: float | None = None  # number/int: |value| above this is out of range (money: registry bounds)

    @property
    def quarantines_unreadable(self) -> bool:
        return self.row_required or self.strict or self.kind == "money"

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown column kind {self.kind!r}")

    @property
    def keys(self) -> set[str]:
        return {nz.header_key(a) for a in (self.name, *self.aliases)}


@dataclass(frozen=True)
class TotalCheck:
    """A grand total row's value reconciled against the file's lines."""

    column: str  # canonical column
    label: str  # native header
    total: float
    lines: int
    row_number: int  # the total row's line / Excel row


@dataclass
class ParseResult:
    frame: pd.DataFrame  # canonical columns then lineage columns (without _loaded_at)
    rejects: pd.DataFrame  # row_number, raw_row (JSON text), reason
    rows_in: int  # data rows found = len(frame) + len(rejects) + rows_collapsed
    notes: list[str] = field(default_factory=list)
    rows_collapsed: int = 0  # identical repeats of a unique key, loaded once
    has_total_row: bool = False  # the file ends with a grand total row (合计/总计…)
    totals: list[TotalCheck] = field(default_factory=list)  # total values reconciled against the lines

    def __post_init__(self) -> None:
        if self.rows_in != len(self.frame) + len(self.rejects) + self.rows_collapsed:
            raise AssertionError(
                f"rows_in {self.rows_in} != loaded {len(self.frame)} + quarantined {len(self.rejects)}"
                f" + collapsed {self.rows_collapsed}"
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
    latest_time: np.datetime64 = field(default_factory=lambda: _latest_time(None))  # later times: implausible

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


def _latest_time(loaded_at: dt.datetime | None) -> np.datetime64:
    """The latest plausible event time (Beijing) for a file loaded at ``loaded_at`` (naive UTC; now if None)."""
    loaded_at = loaded_at or dt.datetime.now(dt.UTC).replace(tzinfo=None)
    return np.datetime64(loaded_at + BEIJING + FUTURE_GRACE, "us")


def raw_rows(table: Table, idx: np.ndarray) -> pd.Series:
    """The native cells of ``table``'s data rows at positions ``idx`` as JSON objects (for quarantine)."""
    sub = table.data.iloc[idx].reset_index(drop=True)
    return json_objects([(h, sub[h]) for h in table.headers], len(idx), keep_empty=True)


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
    total_columns: tuple[str, ...] = ()  # canonical columns reconciled against the file's total row
    record_key: str | None = None  # the record id the loader checks re-exports by (POS: receipt_no)

    @property
    def registry(self) -> Source:
        """This source's registry entry (``core/sources.py``): unique keys, money bounds, required columns."""
        return get_source(self.source)

    def quarantines_unreadable(self, col: Column) -> bool:
        """Whether a present but unusable value sends the row to quarantine (else: null + ``_extra`` issue).
        Also so for every column the registry requires (``not_null``): a null there would only fail the
        raw gate and block every mart, while the row is a row problem."""
        return col.quarantines_unreadable or col.name in self.registry.not_null

    # ---------------------------------------------------------------- public
    def parse(self, path: Path, *, relative_name: str, sha256: str | None = None,
              loaded_at: dt.datetime | None = None) -> ParseResult:
        """Parse one export. ``loaded_at`` (naive UTC, default now) bounds plausible event times."""
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
            required=[(c.aliases[0], c.keys) for c in self.columns if c.required],
        )
        mapping = self.map_headers(table)
        latest = _latest_time(loaded_at)
        result = self._parse_all(table, mapping, sha, latest)
        result = self.reconcile_totals(table, mapping, result)
        return self.collapse_duplicates(table, mapping, result)

    def _parse_all(self, table: Table, mapping: dict[str, str], sha: str, latest: np.datetime64) -> ParseResult:
        n = len(table.data)
        if not self.rows_independent or n <= self.chunk_rows:
            return self._parse_rows(table, mapping, sha, latest)
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
            parts = list(pool.map(lambda chunk: self._parse_rows(chunk, mapping, sha, latest), chunks))
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

    def _parse_rows(self, table: Table, mapping: dict[str, str], sha: str, latest: np.datetime64) -> ParseResult:
        work = Work(table=table, mapping=mapping, values={}, notes=list(table.notes), latest_time=latest)
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
            checks = [res.issue, nz.out_of_range(res.values, raw, -MONEY_STORABLE, MONEY_STORABLE,
                                                 "more than an amount column holds (DECIMAL(18,2))")]
            bounds = self.registry.money_bounds.get(col.name)
            if bounds is not None:
                low, high = bounds
                checks.append(nz.out_of_range(res.values, raw, low, high,
                                              f"outside {low:g} to {high:g} yuan, the sane bounds of {col.name}"))
            v[col.name], issue = _drop_issues(res.values, nz.combine_issues(*checks))
        elif col.kind in ("number", "int"):
            res = nz.parse_number(raw) if col.kind == "number" else nz.parse_int(raw)
            v[col.name], issue = res.values, res.issue
            if col.max_abs is not None:
                v[col.name], issue = _drop_issues(res.values, nz.combine_issues(res.issue, nz.out_of_range(
                    res.values, raw, -col.max_abs, col.max_abs, f"more than {col.max_abs:g} on one line")))
        elif col.kind == "time":
            res = nz.parse_time(raw)
            implausible = nz.implausible_times(res.values, raw, work.latest_time,
                                               latest_label="the load time + 2 days")
            v[col.name], issue = _drop_issues(res.values, nz.combine_issues(res.issue, implausible))
        elif col.kind == "bool":
            res = nz.parse_bool(raw)
            v[col.name], issue = res.values, res.issue
        elif col.kind == "phone":
            ph = nz.normalise_phone(raw)
            v[col.name], v[f"{col.name}_masked"], v[f"{col.name}_issue"] = ph.phone, ph.masked, ph.issue
            lost = ph.issue.isin(["invalid", "placeholder", "foreign"]).to_numpy()
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
            if self.quarantines_unreadable(col):
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
            raw_row = raw_rows(table, idx)
            rejects = pd.DataFrame({
                "row_number": table.row_numbers[idx].astype(np.int32),
                "raw_row": raw_row.to_numpy(),
                "reason": reasons.to_numpy()[idx],
            })
            frame = _filter_rows(frame, ~bad)
        notes = list(work.notes)
        return ParseResult(frame=frame, rejects=rejects, rows_in=n, notes=notes)


    # ---------------------------------------------------------------- whole-file rules
    def reconcile_totals(self, table: Table, mapping: dict[str, str], result: ParseResult) -> ParseResult:
        """Check the file's grand total row against its lines (see the module docstring)."""
        if table.totals.empty:
            return result
        first = read_first_cells(table.totals)
        grand = first.str.contains(GRAND_TOTAL_ROW, regex=True).fillna(False).to_numpy(dtype=bool)
        # The file's total follows its last line. With 合计 rows between lines too (one per store or day),
        # the last one may be the last group's subtotal: it counts only if it adds up to every line.
        last_line = int(table.row_numbers.max()) if len(table.row_numbers) else 0
        after = table.total_row_numbers > last_line
        end, grouped = grand & after, bool((grand & ~after).any())
        if not end.any():
            return result
        result.has_total_row = not grouped
        if not self.total_columns:
            return result
        pos = int(np.flatnonzero(end)[-1])
        row_number = int(table.total_row_numbers[pos])
        name = table.file_name
        problems: list[str] = []
        for column in self.total_columns:
            header = mapping.get(column)
            if header is None or header not in table.totals.columns:
                continue
            cell = table.totals[header].iloc[[pos]].reset_index(drop=True)
            total = nz.parse_money(cell)
            if nz.blank_to_na(cell).isna().iloc[0]:
                result.notes.append(f"total row (line {row_number}) has no {header} value: not reconciled")
                continue
            if total.issue.notna().iloc[0]:
                result.notes.append(f"total row (line {row_number}): {header} is not a number: not reconciled")
                continue
            lines = nz.parse_money(table.data[header])
            unreadable = int(lines.issue.notna().sum())
            if unreadable:
                result.notes.append(f"total row (line {row_number}): {header} not reconciled, {unreadable} "
                                    "line(s) have an unreadable amount")
                continue
            amounts = lines.values.to_numpy(dtype=np.float64)
            total_value = float(total.values.iloc[0])
            if np.nanmax(np.abs(amounts), initial=0.0) >= EXACT_SUM_LIMIT or abs(total_value) >= EXACT_SUM_LIMIT:
                result.notes.append(f"total row (line {row_number}): {header} not reconciled, an amount is too "
                                    "large to add up exactly")
                continue
            got = int(np.nansum(np.round(amounts * 100)))
            want = round(total_value * 100)
            if got != want and grouped:
                result.notes.append(f"total rows between the lines (group subtotals): the last one (line "
                                    f"{row_number}) is not a total of all lines, not reconciled")
                continue
            if got != want:
                problems.append(f"{header} on the total row (line {row_number}) is {want / 100:.2f} but its "
                                f"{len(lines.values)} lines sum to {got / 100:.2f}")
                continue
            result.totals.append(TotalCheck(column, header, want / 100, len(lines.values), row_number))
            result.has_total_row = True
        if problems:
            raise FileRejected(
                f"{name}: the total row does not match the lines: {'; '.join(problems)}. Lines are missing or "
                "were edited (a truncated or partial export?); export the file again, complete"
            )
        if result.totals:
            checked = ", ".join(f"{t.label} {t.total:.2f}" for t in result.totals)
            result.notes.append(f"total row (line {row_number}) reconciled with the {len(table.data)} lines: {checked}")
        return result

    def collapse_duplicates(self, table: Table, mapping: dict[str, str], result: ParseResult) -> ParseResult:
        """One row per ``unique_key``: identical repeats collapsed, conflicting repeats quarantined."""
        key = list(self.registry.unique_per_file)
        if not key or result.frame.empty:
            return result
        frame = result.frame
        has_key = frame[key].notna().all(axis=1).to_numpy()
        repeated = frame.duplicated(subset=key, keep=False).to_numpy() & has_key
        if not repeated.any():
            return result
        content = [c for c in frame.columns if c not in ("_row_number", "_file_sha256", "_file_name")]
        group = frame.loc[repeated, content]  # content includes the key
        variants = group.drop_duplicates().groupby(key, dropna=False).size()
        conflicting = set(variants[variants > 1].index)
        key_values = frame[key].apply(tuple, axis=1) if len(key) > 1 else frame[key[0]]
        in_conflict = repeated & key_values.isin(conflicting).to_numpy()
        collapse = repeated & ~in_conflict & frame.duplicated(subset=content, keep="first").to_numpy()
        labels = "+".join(mapping.get(k, k) for k in key)
        rows = frame["_row_number"].to_numpy()
        notes = list(result.notes)
        rejects = result.rejects
        if collapse.any():
            shown = ", ".join(map(str, rows[repeated & ~in_conflict][:8]))
            notes.append(f"collapsed {int(collapse.sum())} identical repeated row(s) of the same {labels} "
                         f"(rows {shown}): each loaded once")
        if in_conflict.any():
            idx = np.flatnonzero(in_conflict)
            by_key = pd.Series(rows[idx]).groupby([str(k) for k in key_values.to_numpy()[idx]], sort=False)
            row_list = by_key.transform(lambda r: ", ".join(map(str, r))).to_numpy()
            reasons = [f"{labels}: repeated with different values (rows {r}); the export has one row per "
                       f"{labels}, so which row is right cannot be told" for r in row_list]
            positions = np.searchsorted(table.row_numbers, rows[idx])
            new = pd.DataFrame({
                "row_number": rows[idx].astype(np.int32),
                "raw_row": raw_rows(table, positions).to_numpy(),
                "reason": reasons,
            })
            rejects = new if rejects.empty else pd.concat([rejects, new], ignore_index=True)
            rejects = rejects.sort_values("row_number", kind="stable").reset_index(drop=True)
        keep = ~(in_conflict | collapse)
        return dataclasses.replace(
            result, frame=_filter_rows(frame, keep), rejects=rejects, notes=notes,
            rows_collapsed=result.rows_collapsed + int(collapse.sum()),
        )


def _drop_issues(values: pd.Series, issue: pd.Series) -> tuple[pd.Series, pd.Series]:
    """``values`` with the rows that have an issue set to null (a value judged unusable is never kept)."""
    arr = nz.arrow(issue)
    if arr.null_count == len(arr):
        return values, issue
    bad = issue.notna().to_numpy()
    values = values.copy()
    values[bad] = None
    return values, issue


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
