"""A/B test statistics per campaign x variant (scipy; DuckDB has no normal or chi-square CDF).

Input: int_ab_test_groups (recipients, converters, revenue, intended share, reference flag per group).
Every variant is compared with its campaign's reference group (control, else A):
- uplift_abs = p - p_ref; uplift_rel = uplift_abs / p_ref (null when p_ref = 0);
- confidence interval of uplift_abs: unpooled normal approximation,
  uplift_abs +- z(1 - alpha/2) * sqrt(p(1-p)/n + p_ref(1-p_ref)/n_ref);
- p_value: two-sided; the pooled two-proportion z-test when every expected cell of the 2x2 table
  (converted / not converted x variant / reference) is at least 5, else Fisher's exact test
  (scipy.stats.fisher_exact, two-sided), where the normal approximation is unreliable (2 conversions of
  67 gave 0.389 by z, 0.546 exact); p_value_test names the test ('two_proportion_z' | 'fisher_exact');
  null when the pooled rate is 0 or 1 (no variation, nothing to test); z_score is always the z statistic;
- required_recipients_per_group: recipients per group needed, with equal groups, to detect the observed
  uplift at the given alpha (two-sided) and power; the test is underpowered when that exceeds the
  effective per-group size of the groups compared, 2 n n_ref / (n + n_ref) (the equal-split size with
  the same variance), or when the observed uplift is 0;
- sample-ratio mismatch: chi-square goodness of fit of the campaign's group sizes against the intended
  shares (df = groups - 1); is_srm when its p-value < srm_alpha. A group with intended share 0 that has
  recipients is a mismatch (p-value 0).
The functions below are pure (pandas in, pandas out) so tests can feed them known counts.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

# The normal and chi-square functions are scipy.special's (what scipy.stats' norm.sf / norm.ppf / chi2.sf
# compute; identical values): importing scipy.stats cost 0.4-0.6 s of every build, the whole node when
# nothing changed. scipy.stats is imported only for Fisher's exact test, when a comparison needs it.
from scipy import special

OUTPUT_COLUMNS = [
    "campaign_id", "campaign_name", "channel", "variant", "is_control", "is_reference", "reference_variant",
    "recipients", "converters", "conversion_rate", "conversion_revenue", "revenue_per_recipient",
    "reference_conversion_rate", "uplift_abs", "uplift_rel", "uplift_ci_low", "uplift_ci_high",
    "revenue_per_recipient_uplift", "z_score", "p_value", "p_value_test", "is_significant", "intended_share", "observed_share",
    "srm_chi_square", "srm_degrees_of_freedom", "srm_p_value", "is_srm", "required_recipients_per_group",
    "effective_recipients_per_group", "is_underpowered", "excluded_multi_variant_customers",
    "is_window_complete", "alpha", "power",
]


def srm_by_campaign(groups: pd.DataFrame) -> pd.DataFrame:
    """Chi-square sample-ratio check per campaign: campaign_id, chi-square, df, p-value."""
    g = groups[["campaign_id", "recipients", "intended_share"]].copy()
    total = g.groupby("campaign_id")["recipients"].transform("sum").astype(float)
    expected = g["intended_share"].astype(float) * total
    observed = g["recipients"].astype(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        term = np.where(expected > 0, (observed - expected) ** 2 / expected, np.where(observed > 0, np.inf, 0.0))
    g["term"] = term
    out = g.groupby("campaign_id").agg(srm_chi_square=("term", "sum"), groups=("term", "size")).reset_index()
    out["srm_degrees_of_freedom"] = out["groups"] - 1
    out["srm_p_value"] = special.chdtrc(out["srm_degrees_of_freedom"].to_numpy(), out["srm_chi_square"].to_numpy())
    return out.drop(columns="groups")


MIN_EXPECTED_CELL = 5.0


def min_expected_cell(n: float, x: float, n_ref: float, x_ref: float) -> float:
    """Smallest expected count of the 2x2 table (variant / reference x converted / not) under independence."""
    total = n + n_ref
    if total <= 0:
        return float("nan")
    converted = x + x_ref
    return min(n, n_ref) * min(converted, total - converted) / total


def two_sided_p_value(n: float, x: float, n_ref: float, x_ref: float, z: float) -> tuple[float, str]:
    """(p-value, test): Fisher's exact test when an expected cell is below 5, else the pooled z-test."""
    if min_expected_cell(n, x, n_ref, x_ref) < MIN_EXPECTED_CELL:
        from scipy import stats

        table = [[int(x), int(n - x)], [int(x_ref), int(n_ref - x_ref)]]
        return float(stats.fisher_exact(table, alternative="two-sided").pvalue), "fisher_exact"
    return float(2 * special.ndtr(-abs(z))), "two_proportion_z"


def ab_test_statistics(groups: pd.DataFrame, alpha: float = 0.05, power: float = 0.8,
                       srm_alpha: float = 0.001) -> pd.DataFrame:
    """One row per input group with conversion, uplift, interval, p-value, SRM and power columns."""
    required = {"campaign_id", "variant", "is_reference", "recipients", "converters", "intended_share"}
    missing = required - set(groups.columns)
    if missing:
        raise ValueError(f"int_ab_test_groups: missing columns {sorted(missing)}")
    refs_per_campaign = groups.groupby("campaign_id")["is_reference"].sum()
    bad = refs_per_campaign[refs_per_campaign != 1]
    if len(bad):
        raise ValueError(f"int_ab_test_groups: campaigns without exactly one reference group: {list(bad.index)}")

    df = groups.copy()
    for col, default in (("campaign_name", None), ("channel", None), ("is_control", False),
                         ("conversion_revenue", 0.0), ("excluded_multi_variant_customers", 0),
                         ("is_window_complete", True)):
        if col not in df.columns:
            df[col] = default
    n = df["recipients"].astype(float).to_numpy()
    x = df["converters"].astype(float).to_numpy()
    with np.errstate(divide="ignore", invalid="ignore"):
        df["conversion_rate"] = np.where(n > 0, x / n, np.nan)
        df["revenue_per_recipient"] = np.where(n > 0, df["conversion_revenue"].astype(float).to_numpy() / n, np.nan)

    ref = df.loc[df["is_reference"].astype(bool), ["campaign_id", "variant", "recipients", "converters",
                                                     "revenue_per_recipient"]]
    ref = ref.rename(columns={"variant": "reference_variant", "recipients": "n_ref", "converters": "x_ref",
                              "revenue_per_recipient": "rpr_ref"})
    df = df.merge(ref, on="campaign_id", how="left")

    n = df["recipients"].astype(float).to_numpy()
    x = df["converters"].astype(float).to_numpy()
    n0 = df["n_ref"].astype(float).to_numpy()
    x0 = df["x_ref"].astype(float).to_numpy()
    is_ref = df["is_reference"].astype(bool).to_numpy()
    z_crit = special.ndtri(1 - alpha / 2)
    z_power = special.ndtri(power)
    with np.errstate(divide="ignore", invalid="ignore"):
        p1 = x / n
        p0 = x0 / n0
        d = p1 - p0
        se_unpooled = np.sqrt(p1 * (1 - p1) / n + p0 * (1 - p0) / n0)
        pooled = (x + x0) / (n + n0)
        se_pooled = np.sqrt(pooled * (1 - pooled) * (1 / n + 1 / n0))
        z = np.where(se_pooled > 0, d / se_pooled, np.nan)
        tests = [two_sided_p_value(*cells) if se > 0 else (np.nan, None)
                 for *cells, se in zip(n, x, n0, x0, z, se_pooled, strict=True)]
        p_value = np.array([t[0] for t in tests], dtype=float)
        p_value_test = [t[1] for t in tests]
        p_bar = (p1 + p0) / 2
        needed = (z_crit * np.sqrt(2 * p_bar * (1 - p_bar)) + z_power * np.sqrt(p1 * (1 - p1) + p0 * (1 - p0))) ** 2
        required_n = np.where(d != 0, np.ceil(needed / d**2), np.nan)
        effective_n = 2 * n * n0 / (n + n0)
        uplift_rel = np.where(p0 > 0, d / p0, np.nan)

    def not_ref(values: np.ndarray) -> np.ndarray:
        return np.where(is_ref, np.nan, values)

    df["reference_conversion_rate"] = p0
    df["uplift_abs"] = not_ref(d)
    df["uplift_rel"] = not_ref(uplift_rel)
    df["uplift_ci_low"] = not_ref(d - z_crit * se_unpooled)
    df["uplift_ci_high"] = not_ref(d + z_crit * se_unpooled)
    df["revenue_per_recipient_uplift"] = not_ref(df["revenue_per_recipient"].to_numpy() - df["rpr_ref"].to_numpy())
    df["z_score"] = not_ref(z)
    df["p_value"] = not_ref(p_value)
    df["p_value_test"] = [None if r or np.isnan(v) else t for r, v, t in zip(is_ref, p_value, p_value_test, strict=True)]
    df["is_significant"] = pd.array(np.where(is_ref | np.isnan(p_value), None, p_value < alpha), dtype="boolean")
    df["required_recipients_per_group"] = not_ref(required_n)
    df["effective_recipients_per_group"] = not_ref(effective_n)
    underpowered = np.where(d == 0, True, required_n > effective_n)
    df["is_underpowered"] = pd.array(np.where(is_ref | np.isnan(d), None, underpowered), dtype="boolean")

    total = df.groupby("campaign_id")["recipients"].transform("sum").astype(float)
    df["observed_share"] = np.where(total > 0, df["recipients"].astype(float) / total, np.nan)
    df = df.merge(srm_by_campaign(df), on="campaign_id", how="left")
    df["is_srm"] = df["srm_p_value"] < srm_alpha
    df["alpha"] = alpha
    df["power"] = power
    return df[OUTPUT_COLUMNS].sort_values(["campaign_id", "variant"]).reset_index(drop=True)


def model(dbt, session):
    dbt.config(materialized="table")
    alpha = float(dbt.config.get("ab_alpha") or 0.05)
    power = float(dbt.config.get("ab_power") or 0.8)
    srm_alpha = float(dbt.config.get("srm_alpha") or 0.001)
    groups = dbt.ref("int_ab_test_groups").df()
    return ab_test_statistics(groups, alpha=alpha, power=power, srm_alpha=srm_alpha)
