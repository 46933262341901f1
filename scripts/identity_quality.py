"""Print identity-resolution quality against the demo generator's ground truth.

Usage: python scripts/identity_quality.py --data-dir D
Reads D/warehouse.duckdb (intermediate.int_customer_identifiers, built by dbt) and
D/ground_truth/{identifiers,placeholder_phones}.parquet. Exit status 1 when a placeholder phone joins
two true people or resolves to a customer at all.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import duckdb

from core.paths import data_paths
from demo.identity_quality import identity_quality


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=None, help="data directory (default $REPURCHASE_DATA_DIR or ./data)")
    args = parser.parse_args(argv)
    paths = data_paths(args.data_dir)
    if not paths.warehouse.is_file():
        print(f"no warehouse at {paths.warehouse}: load the data and run dbt first", file=sys.stderr)
        return 2
    con = duckdb.connect(str(paths.warehouse), read_only=True)
    try:
        report = identity_quality(con, paths.ground_truth)
    except (FileNotFoundError, duckdb.CatalogException) as err:
        print(f"cannot measure identity quality: {err}", file=sys.stderr)
        return 2
    finally:
        con.close()
    width = max(len(name) for name in report.as_dict())
    for name, value in report.as_dict().items():
        shown = f"{value:.6f}" if isinstance(value, float) else f"{value:,}"
        print(f"{name:<{width}}  {shown}")
    placeholder_ok = report.placeholder_phones_resolved == 0 and report.people_joined_through_placeholder == 0
    print(f"{'placeholder_check':<{width}}  {'ok' if placeholder_ok else 'FAILED'}")
    return 0 if placeholder_ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
