"""Maintainers' tool for the committed GX context: ``python -m quality.bootstrap``.

Without options: get-or-add every gate (adds only what is missing) and report suites whose stored JSON
differs from ``gx_suites``. With ``--update``: rewrite the drifted suites to the code's expectations
(ids of unchanged expectations kept), then commit the JSON. The pipeline itself never writes suites.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from core.paths import SOURCES, data_paths

from .context import ensure_gates, open_context, suite_drift, update_suite


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="gx_bootstrap", description=__doc__.splitlines()[0])
    parser.add_argument("--update", action="store_true", help="rewrite drifted suites to the code's")
    args = parser.parse_args(argv)
    context = open_context(data_paths())
    ensure_gates(context)
    drifted = [source for source in SOURCES if suite_drift(context, source)]
    for source in drifted:
        if args.update:
            update_suite(context, source)
            print(f"updated suite raw__{source}")
        else:
            print("\n".join(suite_drift(context, source)))
    if drifted and not args.update:
        print("suites differ from quality/suites.py: run with --update and commit the JSON")
        return 1
    print("GX context up to date")
    return 0


if __name__ == "__main__":
    sys.exit(main())
