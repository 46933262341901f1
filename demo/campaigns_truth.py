"""Print ab_test_results next to the demo generator's truth for a built demo warehouse.

Usage (after generating, loading and `dbt build` into DATA_DIR):
    .venv/bin/python tests/campaigns/campaigns_truth_report.py DATA_DIR
For every variant: recipients and conversion rate (ours vs truth), the estimated absolute uplift with its
95% interval, the generator's true uplift (true_uplift_abs) and whether the interval contains it.
"""

from __future__ import annotations

import sys
from pathlib import Path

import duckdb
import pandas as pd


def truth_report(data_dir: Path) -> pd.DataFrame:
    con = duckdb.connect(str(data_dir / "warehouse.duckdb"), read_only=True)
    try:
        ours = con.execute(
            "select campaign_id, variant, recipients, converters, conversion_rate, uplift_abs, uplift_ci_low, "
            "uplift_ci_high, p_value, srm_p_value, is_srm, is_underpowered from marts.ab_test_results").df()
    finally:
        con.close()
    truth = pd.read_parquet(data_dir / "ground_truth" / "campaigns.parquet")
    truth = truth[truth["variant"].notna()][["campaign_id", "variant", "recipients", "true_conversion_rate",
                                             "true_uplift_abs", "observed_uplift_abs"]]
    report = ours.merge(truth, on=["campaign_id", "variant"], how="outer", suffixes=("", "_truth"))
    contains = ((report["uplift_ci_low"] <= report["true_uplift_abs"])
                & (report["true_uplift_abs"] <= report["uplift_ci_high"]))
    report["ci_contains_true_uplift"] = contains.astype("boolean").where(report["uplift_abs"].notna())
    return report


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: campaigns_truth_report.py DATA_DIR")
    pd.set_option("display.width", 250)
    pd.set_option("display.max_columns", 30)
    print(truth_report(Path(sys.argv[1])).round(4).to_string(index=False))
