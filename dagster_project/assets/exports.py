"""Activation lists for the marketing tools, written after the marts are built (thin over ``reporting``)."""

# No `from __future__ import annotations`: Dagster inspects the asset function's annotations.

import csv
from pathlib import Path

from dagster import (
    AssetExecutionContext,
    AssetKey,
    AssetsDefinition,
    AssetSpec,
    MaterializeResult,
    MetadataValue,
    asset,
)

from reporting.summary import write_audience_exports
from reporting.trigger_exports import trigger_summary_lines, write_trigger_exports

from ..resources import WarehouseResource

AUDIENCE_EXPORTS_KEY = AssetKey(["exports", "audiences"])


@asset(
    key=AUDIENCE_EXPORTS_KEY,
    group_name="exports",
    kinds={"csv"},
    deps=[
        AssetKey(["marts", "activation_audience"]),
        AssetKey(["marts", "repurchase_as_of"]),
        AssetKey(["restricted", "customer_pii"]),
    ],
    description=(
        "One CSV per audience and channel under <data dir>/exports: WeCom lists with hashed ids in "
        "audiences/<as_of>/, SMS lists with phones (consented customers only) in restricted/audiences/<as_of>/ "
        "with owner-only permissions."
    ),
)
def audience_exports(context: AssetExecutionContext, warehouse: WarehouseResource) -> MaterializeResult:
    exports = warehouse.paths.exports
    with warehouse.connect(read_only=True) as con:
        written = write_audience_exports(con, exports)
    rows = {path.relative_to(exports).as_posix(): _data_rows(path) for path in written}
    context.log.info(f"wrote {len(written)} audience files under {exports}")
    table = "\n".join(
        ["| file | rows |", "|---|---:|", *(f"| {name} | {count} |" for name, count in rows.items())]
    )
    return MaterializeResult(
        metadata={
            "exports dir": MetadataValue.path(str(exports)),
            "files": MetadataValue.md(table),
            "file count": MetadataValue.int(len(written)),
            "rows written": MetadataValue.int(sum(rows.values())),
        }
    )


def _data_rows(path: Path) -> int:
    """Records after the header of a CSV the reporting module wrote."""
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return max(sum(1 for _ in csv.reader(handle)) - 1, 0)


TRIGGER_EXPORTS_KEY = AssetKey(["exports", "triggers"])
SEND_LOG_KEY = AssetKey(["raw", "_touch_send_log"])

# raw._touch_send_log is written by exports/triggers and read back by dbt (stg_raw__touch_send_log) on the
# next days' runs: declared as an external asset, since a dependency on exports/triggers would be a cycle
# (send log -> activation_triggers -> exports/triggers -> send log).
send_log_asset = AssetsDefinition(
    specs=[
        AssetSpec(
            key=SEND_LOG_KEY,
            group_name="exports",
            kinds={"duckdb"},
            description="The automated touch's send log: one row per trigger touch exported (as_of_date, "
            "customer_id, trigger_code, channel, exported_at). Written by exports/triggers; the next days' "
            "frequency cap reads it.",
        )
    ]
)


@asset(
    key=TRIGGER_EXPORTS_KEY,
    group_name="exports",
    kinds={"csv"},
    deps=[
        AssetKey(["marts", "activation_triggers"]),
        AssetKey(["marts", "activation_triggers_churn_risk"]),
        AssetKey(["marts", "repurchase_as_of"]),
        AssetKey(["restricted", "customer_pii"]),
    ],
    description=(
        "The automated touch's daily lists (the dbt triggers and churn_risk): one CSV per channel (sms, wecom, email) of the triggers sent on "
        "as_of, with names, phones and emails, in restricted/triggers/<as_of>/ (owner-only); appends the "
        "day's touches to raw._touch_send_log, which the next days' frequency cap reads."
    ),
)
def trigger_exports(context: AssetExecutionContext, warehouse: WarehouseResource) -> MaterializeResult:
    exports = warehouse.paths.exports
    with warehouse.connect() as con:
        written = write_trigger_exports(con, exports)
        lines = trigger_summary_lines(con)
    rows = {path.relative_to(exports).as_posix(): _data_rows(path) for path in written}
    context.log.info("triggers:\n" + "\n".join(lines))
    return MaterializeResult(
        metadata={
            "exports dir": MetadataValue.path(str(exports)),
            "rows per file": MetadataValue.json(rows),
            "triggers": MetadataValue.md("\n".join(f"- {line.strip()}" for line in lines)),
        }
    )
