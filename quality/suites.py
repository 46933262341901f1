"""The Great Expectations suite of every raw table, ``raw__<source>``, built from the source registry.

Code is the single source of truth: nothing of a suite is committed. When a gate runs,
``quality.context.ensure_gates`` writes the suite (with its validation definition and checkpoint) into the
run-time GX context under the data directory. Rules per table, from ``core/sources.py``:

- columns and their order (canonical then lineage columns) and each column's type as the DuckDB table
  reads into pandas (:data:`PANDAS_DTYPES`);
- the registry's not-null columns and the lineage columns not null;
- one row per key within a file where the export promises it (``unique_per_file``);
- native status values within the set the adapters know (``status_sets``);
- free-text categories a merchant may extend (``soft_value_sets``: payment methods, gender, currency)
  as ``warning`` expectations: shown, never blocking;
- money within sane bounds (``money_bounds``);
- normalised phones match :data:`~core.sources.PHONE_PATTERN` when not null (``phone_columns``);
- row count equal to the manifest's loaded rows (parameter ``manifest_rows_loaded``).

Freshness is not an expectation: it is judged on when the source's files arrived, not on the newest
business event (``quality.raw_frames.judge_freshness``, in the raw gate); the rules table shows the
registry's thresholds.

Everything but the soft value sets is ``critical``: a failure blocks the marts. :func:`rules_markdown`
renders the same rules for ``quality/README.md`` (``python -m quality.suites --write``; a test keeps
the README equal to it).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from core.paths import REPO_ROOT
from core.sources import PHONE_PATTERN, REGISTRY, Source, get_source
from ingestion.schemas import LINEAGE_NOT_NULL, raw_table_columns

if TYPE_CHECKING:  # GX takes ~4 s to import: only when a suite is built, not when definitions load
    import great_expectations.expectations as gxe
    from great_expectations.core import ExpectationSuite

MANIFEST_ROWS_PARAMETER = "manifest_rows_loaded"

# How a DuckDB column type reads into pandas (``con.execute(...).df()``), named as GX's pandas type check
# compares them: by the dtype's scalar type (``Int32`` and ``int32`` are both ``int32``, ``boolean`` is
# ``bool``; pandas 3 text is ``str``).
PANDAS_DTYPES: dict[str, str] = {
    "VARCHAR": "str",
    "JSON": "str",
    "TIMESTAMP": "datetime64[us]",
    "DECIMAL(18,2)": "float64",
    "DOUBLE": "float64",
    "INTEGER": "int32",
    "BIGINT": "int64",
    "BOOLEAN": "bool",
}


def suite_name(source: str) -> str:
    return f"raw__{source}"


def _soft(expectation: gxe.Expectation) -> gxe.Expectation:
    from great_expectations.expectations.metadata_types import FailureSeverity

    expectation.severity = FailureSeverity.WARNING
    return expectation


def expectations_for(source: str) -> list[gxe.Expectation]:
    """The expectations of ``raw__<source>``, in a fixed order."""
    import great_expectations.expectations as gxe
    from great_expectations.expectations.row_conditions import Column

    spec = get_source(source)
    columns = raw_table_columns(source)
    found: list[gxe.Expectation] = [
        gxe.ExpectTableColumnsToMatchOrderedList(column_list=list(columns)),
        gxe.ExpectTableRowCountToEqual(value={"$PARAMETER": MANIFEST_ROWS_PARAMETER}),
    ]
    for column, duckdb_type in columns.items():
        found.append(gxe.ExpectColumnValuesToBeOfType(column=column, type_=PANDAS_DTYPES[duckdb_type]))
    for column in (*spec.not_null, *LINEAGE_NOT_NULL):
        found.append(gxe.ExpectColumnValuesToNotBeNull(column=column))
    if spec.unique_per_file:
        found.append(gxe.ExpectCompoundColumnsToBeUnique(column_list=["_file_sha256", *spec.unique_per_file]))
    for column, values in spec.status_sets.items():
        found.append(gxe.ExpectColumnValuesToBeInSet(column=column, value_set=list(values)))
    for column, values in spec.soft_value_sets.items():
        found.append(_soft(gxe.ExpectColumnValuesToBeInSet(column=column, value_set=list(values))))
    for column, (low, high) in spec.money_bounds.items():
        found.append(gxe.ExpectColumnValuesToBeBetween(column=column, min_value=low, max_value=high))
    for phone in spec.phone_columns:
        condition = {}
        if phone.when is not None:
            condition = {"row_condition": Column(phone.when[0]) == phone.when[1]}
        found.append(gxe.ExpectColumnValuesToMatchRegex(column=phone.column, regex=PHONE_PATTERN, **condition))
    return found


def build_suite(source: str) -> ExpectationSuite:
    from great_expectations.core import ExpectationSuite

    return ExpectationSuite(name=suite_name(source), expectations=expectations_for(source))


# ------------------------------------------------------------------------------------ the rules as a doc
README = REPO_ROOT / "quality" / "README.md"
RULES_BEGIN = "<!-- gx-rules: generated by `python -m quality.suites --write` from core/sources.py -->"
RULES_END = "<!-- /gx-rules -->"


def _number(value: float) -> str:
    return f"{int(value):,}" if float(value).is_integer() else f"{value:,}"


def _values(values: Sequence[str]) -> str:
    return "{" + ", ".join(values) + "}"


def _freshness(spec: Source) -> str:
    policy = spec.freshness
    warn = "never warns" if policy.warn_after_days is None else f"warn {policy.warn_after_days}"
    error = "never blocks" if policy.error_after_days is None else f"error {policy.error_after_days}"
    return f"{warn}, {error}"


def _phones(spec: Source) -> str:
    shown = []
    for phone in spec.phone_columns:
        where = f" where {phone.when[0]} = '{phone.when[1]}'" if phone.when else ""
        shown.append(f"{phone.column}{where}")
    return "; ".join(shown) or "–"


def rules_markdown() -> str:
    """What every suite expects, as markdown: the rules shared by all suites, then one table row per
    source from the registry."""
    lines = [
        "Every suite `raw__<source>` expects:",
        "",
        "- the canonical columns then the lineage columns, in order, each of its type as DuckDB reads it "
        "into pandas ("
        + ", ".join(f"`{duckdb}` → `{pandas}`" for duckdb, pandas in PANDAS_DTYPES.items())
        + "): a money column of text fails here;",
        f"- row count equal to the manifest's loaded rows (runtime parameter `{MANIFEST_ROWS_PARAMETER}`);",
        "- the lineage columns " + ", ".join(LINEAGE_NOT_NULL) + " not null;",
        f"- phones, where not null, match `{PHONE_PATTERN}`.",
        "",
        (
            "Per source (all `critical` unless marked *warning*: a warning shows in the check, never "
            "blocks). Freshness is not a GX expectation but a rule of the same gate: days since the newest "
            "file of the source arrived (see Freshness); the event time is shown by the gate as information:"
        ),
        "",
        (
            "| suite | event time (shown) | freshness (days since the newest file) | not null "
            "| unique within a file | value sets "
            "| *warning* value sets | money bounds (yuan) | phones |"
        ),
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for spec in REGISTRY:
        cells = [
            f"`{suite_name(spec.name)}`",
            spec.event_time,
            _freshness(spec),
            ", ".join(spec.not_null) or "–",
            ", ".join(spec.unique_per_file) or "–",
            "; ".join(f"{c} {_values(v)}" for c, v in spec.status_sets.items()) or "–",
            "; ".join(f"{c} {_values(v)}" for c, v in spec.soft_value_sets.items()) or "–",
            "; ".join(f"{c} {_number(lo)}…{_number(hi)}" for c, (lo, hi) in spec.money_bounds.items()) or "–",
            _phones(spec),
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def readme_rules_section(text: str) -> str:
    """The generated part of a README: the text between :data:`RULES_BEGIN` and :data:`RULES_END`."""
    try:
        start = text.index(RULES_BEGIN) + len(RULES_BEGIN)
        end = text.index(RULES_END, start)
    except ValueError:
        raise ValueError(f"no {RULES_BEGIN} … {RULES_END} section") from None
    return text[start:end].strip("\n") + "\n"


def write_readme_rules(path: Path = README) -> bool:
    """Replace the generated section of ``path`` with :func:`rules_markdown`; returns whether it changed."""
    text = path.read_text(encoding="utf-8")
    old = readme_rules_section(text)
    new = rules_markdown()
    if old == new:
        return False
    start = text.index(RULES_BEGIN) + len(RULES_BEGIN)
    end = text.index(RULES_END, start)
    path.write_text(text[:start] + "\n" + new + text[end:], encoding="utf-8")
    return True


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m quality.suites", description="print the raw suites' rules")
    parser.add_argument("--write", action="store_true", help=f"update the generated section of {README}")
    args = parser.parse_args(argv)
    if args.write:
        print(f"{README}: {'updated' if write_readme_rules() else 'already up to date'}")
    else:
        print(rules_markdown(), end="")
    return 0


if __name__ == "__main__":
    sys.exit(main())
