"""The slowest SQL statements of a dbt run, read from its debug log: which model or test sent each, how long it
ran, and each node's SQL seconds beside its whole time.

    .venv/bin/python scripts/dbt_statements.py <target>/dbt.log [--top 30] [--node NAME] [--width 150]

dbt writes every statement it sends to ``dbt.log`` when the file's log level is debug (``dbt ...
--log-level-file debug``; the pipeline's own builds log at info). ``bench_daily.py --statements N`` runs a
day that way and prints this. Where a node's time goes is the first question before changing it, and the
per-node seconds of ``run_results.json`` do not answer it: a model's create, its delete+insert, its hooks
and the test queries each have their own line here.

How the log is read: transform/dbt_log.py.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from transform.dbt_log import report, statements


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("log", type=Path, help="a dbt.log written at debug level")
    parser.add_argument("--top", type=int, default=30, help="statements and nodes to list (0: all)")
    parser.add_argument("--node", help="one model or test only (its name, or model.<name>)")
    parser.add_argument("--width", type=int, default=150, help="characters of each statement to print")
    args = parser.parse_args()
    if not args.log.is_file():
        parser.error(f"{args.log}: no such file (dbt writes dbt.log in its target or log path)")
    with args.log.open(encoding="utf-8", errors="replace") as log:
        found = statements(log)
    if not found:
        raise SystemExit(f"{args.log}: no statement with its time in it. dbt logs them at debug level only: "
                         "run dbt with --log-level-file debug")
    print(report(found, top=args.top, node=args.node, width=args.width))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
