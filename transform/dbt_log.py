"""The SQL statements of a dbt run, read from its debug log: which model or test sent each and how long it
ran (scripts/dbt_statements.py prints them; ``bench_daily.py --statements N`` runs a day that way).

dbt writes every statement it sends to ``dbt.log`` when the file's log level is debug (``dbt ...
--log-level-file debug``; the pipeline's own builds log at info). The log's threads interleave. Every line
names its thread, and a statement is one thread's ``On <node>: <sql>`` line (with the untimestamped lines
that follow it: the rest of the SQL) up to that thread's ``SQL status: ... in N seconds``. Node names are
dbt's unique ids without the package (``model.repurchase.dim_customers`` -> ``model.dim_customers``).
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable
from typing import NamedTuple

LINE = re.compile(r"^(\d\d:\d\d:\d\d\.\d+) \[\s*\w+\s*\] \[(?P<thread>[^\]]*)\]: (?P<message>.*)$")
SENT = re.compile(r"^On (?P<node>(?:model|test|seed|snapshot|unit_test)\.[^:\s]+): (?P<sql>.*)$")
STATUS = re.compile(r"^SQL status: .* in (?P<seconds>\d+(?:\.\d+)?) seconds$")
COMMENT = re.compile(r"/\*.*?\*/", flags=re.DOTALL)


class Statement(NamedTuple):
    seconds: float
    node: str
    sql: str
    started: str  # the log time of the line that sent it


def short_node(unique_id: str) -> str:
    """``model.<package>.<name>`` -> ``model.<name>``; a test's hash suffix is dropped."""
    kind, _package, name, *_ = [*unique_id.split("."), "", ""]
    return f"{kind}.{name}"


def statements(lines: Iterable[str]) -> list[Statement]:
    """Every statement of the log with its seconds, in the order their status lines appear."""
    found: list[Statement] = []
    open_sql: dict[str, tuple[str, str, list[str]]] = {}  # thread -> (node, started, SQL lines so far)
    continued: str | None = None  # the thread whose SQL an untimestamped line continues
    for raw in lines:
        line = raw.rstrip("\n")
        matched = LINE.match(line)
        if not matched:
            if continued is not None:
                open_sql[continued][2].append(line)
            continue
        thread, message = matched.group("thread"), matched.group("message")
        continued = None
        sent = SENT.match(message)
        if sent:
            open_sql[thread] = (sent.group("node"), matched.group(1), [sent.group("sql")])
            continued = thread
            continue
        status = STATUS.match(message)
        if status and thread in open_sql:
            node, started, sql_lines = open_sql.pop(thread)
            sql = " ".join(COMMENT.sub(" ", "\n".join(sql_lines)).split())
            found.append(Statement(float(status.group("seconds")), short_node(node), sql, started))
    return found


def report(found: list[Statement], *, top: int, node: str | None = None, width: int = 150) -> str:
    """The ``top`` slowest statements (of ``node`` only, when given), then the SQL seconds per node."""
    if node:
        found = [s for s in found if s.node.split(".", 1)[1] == node or s.node == node]
    lines = [f"{'seconds':>8}  {'node':40}  statement"]
    for statement in sorted(found, key=lambda s: s.seconds, reverse=True)[: top or None]:
        lines.append(f"{statement.seconds:8.2f}  {statement.node[:40]:40}  {statement.sql[:width]}")
    per_node: dict[str, list[float]] = defaultdict(list)
    for statement in found:
        per_node[statement.node].append(statement.seconds)
    lines += ["", f"{'SQL s':>8}  {'statements':>10}  node"]
    ranked = sorted(per_node.items(), key=lambda item: sum(item[1]), reverse=True)
    for name, seconds in ranked[: top or None]:
        lines.append(f"{sum(seconds):8.2f}  {len(seconds):10d}  {name}")
    total = sum(s.seconds for s in found)
    lines.append(f"SQL total {total:.1f} s in {len(found)} statements of {len(per_node)} nodes")
    return "\n".join(lines)
