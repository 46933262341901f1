"""A GX checkpoint result in words a person can act on: which expectation failed, on which column, how
often, and the first failing rows by file and row number. No Dagster here."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from .context import INDEX_COLUMNS

SAMPLE_ROWS_SHOWN = 5


@dataclass(frozen=True)
class FailedExpectation:
    expectation: str  # GX type, e.g. expect_column_values_to_not_be_null
    severity: str  # critical / warning / info
    column: str | None
    problem: str  # what was expected against what was observed
    samples: tuple[str, ...]  # "pos/pos_2026-10.csv row 12: 'abc'"

    @property
    def blocking(self) -> bool:
        return self.severity == "critical"


def _value(value: Any) -> str:
    try:
        missing = bool(pd.isna(value))
    except (TypeError, ValueError):  # a list or other non-scalar
        missing = False
    if missing:
        return "null"
    return repr(value.item() if hasattr(value, "item") else value)  # numpy scalars as plain Python


def _expected(kwargs: dict[str, Any]) -> str:
    shown = {
        key: value
        for key, value in kwargs.items()
        if key not in ("batch_id", "column", "row_condition", "condition_parser")
        and not (key == "column_list" and len(value) > 3)
    }
    if "value_set" in shown:
        shown["value_set"] = "{" + ", ".join(str(v) for v in shown["value_set"]) + "}"
    if kwargs.get("row_condition"):
        shown["where"] = kwargs["row_condition"]
    return ", ".join(f"{key}={value}" for key, value in shown.items())


def _samples(result: dict[str, Any], columns: list[str]) -> tuple[str, ...]:
    """The first failing rows as "file row N: value" (values of ``columns``, the expectation's columns)."""
    rows = result.get("partial_unexpected_index_list") or []
    found = []
    for row in rows[:SAMPLE_ROWS_SHOWN]:
        where = f"{row.get(INDEX_COLUMNS[0])} row {row.get(INDEX_COLUMNS[1])}"
        values = ", ".join(_value(row.get(column)) for column in columns)
        found.append(f"{where}: {values}" if values else where)
    if not found:
        values = result.get("partial_unexpected_list") or []
        found = [_value(value) for value in values[:SAMPLE_ROWS_SHOWN]]
    return tuple(found)


def _exception_message(info: dict[str, Any]) -> str | None:
    """GX reports an exception flat ({raised_exception, exception_message}) or per metric ({metric id: {...}})."""
    candidates = [info, *(value for value in info.values() if isinstance(value, dict))]
    for candidate in candidates:
        if candidate.get("raised_exception") or candidate.get("exception_traceback"):
            message = candidate.get("exception_message") or "error"
            return str(message).strip().splitlines()[-1]
    return None


def _problem(kind: str, kwargs: dict[str, Any], result: dict[str, Any], exception: dict[str, Any]) -> str:
    message = _exception_message(exception)
    if message is not None:
        return f"could not be evaluated ({message})"
    expected = _expected(kwargs)
    if "unexpected_count" in result:
        count, total = result.get("unexpected_count"), result.get("element_count")
        return f"{count} of {total} rows fail ({expected})"
    if kind == "expect_table_columns_to_match_ordered_list":
        observed = result.get("observed_value") or []
        wanted = kwargs.get("column_list") or []
        missing = [c for c in wanted if c not in observed]
        extra = [c for c in observed if c not in wanted]
        return f"columns differ: missing {missing}, unexpected {extra} (order counts too)"
    return f"observed {_value(result.get('observed_value'))}, expected {expected}"


def failed_expectations(checkpoint_result: Any) -> list[FailedExpectation]:
    """The failed expectations of every validation in a checkpoint result, blocking ones first."""
    failed = []
    for validation in checkpoint_result.run_results.values():
        for outcome in validation.results:
            if outcome.success:
                continue
            config = outcome.expectation_config
            kwargs = dict(config.kwargs)
            result = dict(outcome.result or {})
            column = kwargs.get("column")
            if column is not None:
                shown = [column]
            else:  # compound keys: the key columns a person recognises (not the file hash)
                shown = [c for c in kwargs.get("column_list") or [] if not c.startswith("_")]
                shown = shown if config.type.startswith("expect_compound") else []
            failed.append(
                FailedExpectation(
                    expectation=config.type,
                    severity=str(getattr(config.severity, "value", config.severity) or "critical"),
                    column=column,
                    problem=_problem(config.type, kwargs, result, dict(outcome.exception_info or {})),
                    samples=_samples(result, shown),
                )
            )
    return sorted(failed, key=lambda f: not f.blocking)


def expectation_count(checkpoint_result: Any) -> int:
    return sum(len(v.results) for v in checkpoint_result.run_results.values())


def _cell(text: object) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ").strip()


def failures_markdown(failures: Sequence[FailedExpectation]) -> str:
    """One markdown table row per failed expectation with its first failing rows."""
    if not failures:
        return "every expectation passed"
    lines = [
        "| severity | expectation | column | problem | first failing rows |",
        "|---|---|---|---|---|",
    ]
    for f in failures:
        samples = "<br>".join(_cell(s) for s in f.samples) or "(no row-level detail)"
        lines.append(
            f"| {f.severity} | {_cell(f.expectation)} | {_cell(f.column or '(table)')} | {_cell(f.problem)} "
            f"| {samples} |"
        )
    return "\n".join(lines)
