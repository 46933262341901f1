"""A/B statistics of int_ab_test_statistics (the dbt Python model's pure function) on known counts.

Expected values are computed here by hand from the textbook formulas with the standard library
(math.erfc, statistics.NormalDist), independently of scipy, which the model uses.
"""

from __future__ import annotations

import math
from statistics import NormalDist

import pandas as pd
import pytest

from tests.helpers.dbt_models import load_python_model

stats_model = load_python_model("models/intermediate/campaigns/int_ab_test_statistics.py")


def _groups(campaign: str, rows: list[tuple[str, int, int, float, bool]], revenue: list[float] | None = None
            ) -> pd.DataFrame:
    """rows: (variant, recipients, converters, intended_share, is_reference)."""
    frame = pd.DataFrame(rows, columns=["variant", "recipients", "converters", "intended_share", "is_reference"])
    frame.insert(0, "campaign_id", campaign)
    frame["is_control"] = frame["variant"] == "control"
    frame["conversion_revenue"] = revenue if revenue is not None else [0.0] * len(rows)
    return frame


def _row(result: pd.DataFrame, campaign: str, variant: str) -> pd.Series:
    hit = result[(result["campaign_id"] == campaign) & (result["variant"] == variant)]
    assert len(hit) == 1
    return hit.iloc[0]


def test_uplift_interval_and_pooled_p_value_match_hand_computation() -> None:
    # control 100 / 1000 converted, A 130 / 1000
    result = stats_model.ab_test_statistics(
        _groups("T", [("control", 1000, 100, 0.5, True), ("A", 1000, 130, 0.5, False)], [5000.0, 9100.0]))
    a = _row(result, "T", "A")
    p1, p0, n = 0.13, 0.10, 1000
    d = p1 - p0
    se_unpooled = math.sqrt(p1 * (1 - p1) / n + p0 * (1 - p0) / n)  # 0.0142513...
    z975 = NormalDist().inv_cdf(0.975)  # 1.959964
    pooled = 230 / 2000
    z = d / math.sqrt(pooled * (1 - pooled) * (2 / n))  # 2.10274...
    p_value = math.erfc(abs(z) / math.sqrt(2))  # two-sided: 2 * (1 - Phi(|z|)) = 0.03549...

    assert a["conversion_rate"] == pytest.approx(0.13)
    assert a["reference_conversion_rate"] == pytest.approx(0.10)
    assert a["uplift_abs"] == pytest.approx(0.03)
    assert a["uplift_rel"] == pytest.approx(0.3)
    assert a["uplift_ci_low"] == pytest.approx(d - z975 * se_unpooled, abs=1e-9)
    assert a["uplift_ci_high"] == pytest.approx(d + z975 * se_unpooled, abs=1e-9)
    assert a["uplift_ci_low"] == pytest.approx(0.002068, abs=1e-6)
    assert a["z_score"] == pytest.approx(z, rel=1e-9)
    assert a["p_value"] == pytest.approx(p_value, rel=1e-7)
    assert a["p_value"] == pytest.approx(0.03549, abs=1e-5)
    assert bool(a["is_significant"]) is True
    assert a["revenue_per_recipient"] == pytest.approx(9.1)
    assert a["revenue_per_recipient_uplift"] == pytest.approx(4.1)
    assert a["reference_variant"] == "control"

    ref = _row(result, "T", "control")
    assert bool(ref["is_reference"]) is True
    assert pd.isna(ref["uplift_abs"]) and pd.isna(ref["p_value"]) and pd.isna(ref["is_underpowered"])


def test_power_flag_uses_the_sample_needed_for_the_observed_uplift() -> None:
    # Needed per group for 0.10 -> 0.13 at alpha 0.05 two-sided, power 0.8:
    # (1.959964 sqrt(2 * 0.115 * 0.885) + 0.841621 sqrt(0.13 * 0.87 + 0.1 * 0.9))^2 / 0.03^2
    # = (0.884267 + 0.379290)^2 / 0.0009 = 1773.98 -> 1774
    z_a, z_b = NormalDist().inv_cdf(0.975), NormalDist().inv_cdf(0.8)
    needed = math.ceil((z_a * math.sqrt(2 * 0.115 * 0.885) + z_b * math.sqrt(0.13 * 0.87 + 0.09)) ** 2 / 0.03**2)
    assert needed == 1774
    small = stats_model.ab_test_statistics(_groups("S", [("control", 1000, 100, 0.5, True), ("A", 1000, 130, 0.5, False)]))
    big = stats_model.ab_test_statistics(_groups("B", [("control", 2000, 200, 0.5, True), ("A", 2000, 260, 0.5, False)]))
    assert _row(small, "S", "A")["required_recipients_per_group"] == needed
    assert bool(_row(small, "S", "A")["is_underpowered"]) is True  # 1000 < 1774
    assert bool(_row(big, "B", "A")["is_underpowered"]) is False  # 2000 >= 1774
    # unequal groups: effective size 2 * 3000 * 1000 / 4000 = 1500 < 1774
    unequal = stats_model.ab_test_statistics(
        _groups("U", [("control", 1000, 100, 0.25, True), ("A", 3000, 390, 0.75, False)]))
    assert _row(unequal, "U", "A")["effective_recipients_per_group"] == pytest.approx(1500)
    assert bool(_row(unequal, "U", "A")["is_underpowered"]) is True
    # no observed uplift: nothing detectable, always underpowered; p-value 1
    flat = stats_model.ab_test_statistics(_groups("F", [("A", 500, 50, 0.5, True), ("B", 500, 50, 0.5, False)]))
    assert bool(_row(flat, "F", "B")["is_underpowered"]) is True
    assert _row(flat, "F", "B")["p_value"] == pytest.approx(1.0)


def test_srm_quiet_on_a_fair_split_and_fires_on_a_skewed_one() -> None:
    fair = stats_model.ab_test_statistics(_groups("F", [("A", 5000, 500, 0.5, True), ("B", 5000, 520, 0.5, False)]))
    assert _row(fair, "F", "B")["srm_chi_square"] == pytest.approx(0.0)
    assert _row(fair, "F", "B")["srm_p_value"] == pytest.approx(1.0)
    assert not _row(fair, "F", "A")["is_srm"]

    # 5000 vs 5400 for 50/50: chi2 = 2 * 200^2 / 5200 = 15.3846, df 1: p = erfc(sqrt(chi2 / 2)) = 8.8e-5
    skewed = stats_model.ab_test_statistics(_groups("K", [("A", 5000, 500, 0.5, True), ("B", 5400, 540, 0.5, False)]))
    chi2 = 2 * 200**2 / 5200
    row = _row(skewed, "K", "B")
    assert row["srm_chi_square"] == pytest.approx(chi2)
    assert row["srm_degrees_of_freedom"] == 1
    assert row["srm_p_value"] == pytest.approx(math.erfc(math.sqrt(chi2 / 2)), rel=1e-9)
    assert bool(row["is_srm"]) and bool(_row(skewed, "K", "A")["is_srm"])


def test_srm_with_three_groups_against_an_unequal_intended_split() -> None:
    design = [0.45, 0.45, 0.10]
    fair = stats_model.ab_test_statistics(_groups("F", [
        ("A", 450, 20, design[0], False), ("B", 450, 30, design[1], False), ("control", 100, 2, design[2], True)]))
    assert _row(fair, "F", "A")["srm_p_value"] == pytest.approx(1.0)
    assert not _row(fair, "F", "A")["is_srm"]
    # 450 / 450 / 150 of 1050: expected 472.5 / 472.5 / 105 -> chi2 = 2 * 22.5^2 / 472.5 + 45^2 / 105 = 21.4286;
    # df 2: p = exp(-chi2 / 2) = 2.2e-5
    skewed = stats_model.ab_test_statistics(_groups("K", [
        ("A", 450, 20, design[0], False), ("B", 450, 30, design[1], False), ("control", 150, 3, design[2], True)]))
    chi2 = 2 * 22.5**2 / 472.5 + 45**2 / 105
    row = _row(skewed, "K", "control")
    assert row["srm_chi_square"] == pytest.approx(chi2)
    assert row["srm_degrees_of_freedom"] == 2
    assert row["srm_p_value"] == pytest.approx(math.exp(-chi2 / 2), rel=1e-9)
    assert bool(row["is_srm"])
    # the same sizes against equal shares would be judged differently: 450/450/150 vs 350 each is a mismatch too,
    # but 350/350/350 is not
    equal = stats_model.ab_test_statistics(_groups("E", [
        ("A", 350, 20, 1 / 3, False), ("B", 350, 30, 1 / 3, False), ("control", 350, 3, 1 / 3, True)]))
    assert not _row(equal, "E", "A")["is_srm"]


def test_unplanned_group_is_a_sample_ratio_mismatch() -> None:
    result = stats_model.ab_test_statistics(_groups("X", [("A", 500, 10, 1.0, True), ("B", 20, 1, 0.0, False)]))
    assert _row(result, "X", "B")["srm_p_value"] == pytest.approx(0.0)
    assert bool(_row(result, "X", "A")["is_srm"])


def test_no_conversions_anywhere_gives_no_p_value_and_no_relative_uplift() -> None:
    result = stats_model.ab_test_statistics(_groups("Z", [("control", 100, 0, 0.5, True), ("A", 100, 0, 0.5, False)]))
    a = _row(result, "Z", "A")
    assert a["uplift_abs"] == 0
    assert pd.isna(a["p_value"]) and pd.isna(a["uplift_rel"]) and pd.isna(a["is_significant"])


def test_campaign_without_exactly_one_reference_group_is_rejected() -> None:
    with pytest.raises(ValueError, match="exactly one reference group: \\['R'\\]"):
        stats_model.ab_test_statistics(_groups("R", [("A", 100, 1, 0.5, False), ("B", 100, 2, 0.5, False)]))


def _fisher_two_sided(x: int, n: int, x_ref: int, n_ref: int) -> float:
    """Fisher's exact test by the hypergeometric formula: the sum of the probabilities of every table with the
    same margins that is no more likely than the observed one."""
    converted, total = x + x_ref, n + n_ref

    def prob(k: int) -> float:
        return math.comb(n, k) * math.comb(n_ref, converted - k) / math.comb(total, converted)

    observed = prob(x)
    low, high = max(0, converted - n_ref), min(n, converted)
    return sum(prob(k) for k in range(low, high + 1) if prob(k) <= observed * (1 + 1e-7))


def test_small_sample_uses_fishers_exact_test() -> None:
    # SMS-like: control 2 / 67, treatment 12 / 140. Expected converters in control: 67 * 14 / 207 = 4.53 < 5.
    result = stats_model.ab_test_statistics(
        _groups("SMS", [("control", 67, 2, 0.3, True), ("A", 140, 12, 0.7, False)]))
    a = _row(result, "SMS", "A")
    assert 67 * 14 / 207 < 5
    exact = _fisher_two_sided(12, 140, 2, 67)
    assert a["p_value_test"] == "fisher_exact"
    assert a["p_value"] == pytest.approx(exact, rel=1e-9)
    # the normal approximation would have said something else
    pooled = 14 / 207
    z = (12 / 140 - 2 / 67) / math.sqrt(pooled * (1 - pooled) * (1 / 140 + 1 / 67))
    assert a["z_score"] == pytest.approx(z, rel=1e-9)
    assert abs(a["p_value"] - math.erfc(abs(z) / math.sqrt(2))) > 0.01
    assert bool(a["is_significant"]) is (exact < 0.05)
    assert pd.isna(_row(result, "SMS", "control")["p_value_test"])


def test_fisher_matches_a_hand_computed_table() -> None:
    # control 1 / 5 vs A 4 / 5: margins 5 converted of 10; tables k = 0..5 converters in A have probability
    # C(5, k) C(5, 5 - k) / C(10, 5) = 1, 25, 100, 100, 25, 1 over 252; observed k = 4 (25 / 252), so the
    # two-sided p-value sums k = 0, 1, 4, 5: 52 / 252
    result = stats_model.ab_test_statistics(
        _groups("H", [("control", 5, 1, 0.5, True), ("A", 5, 4, 0.5, False)]))
    a = _row(result, "H", "A")
    assert a["p_value_test"] == "fisher_exact"
    assert a["p_value"] == pytest.approx(52 / 252, rel=1e-9)
    assert _fisher_two_sided(4, 5, 1, 5) == pytest.approx(52 / 252, rel=1e-12)


def test_large_cells_keep_the_z_test() -> None:
    result = stats_model.ab_test_statistics(
        _groups("L", [("control", 1000, 100, 0.5, True), ("A", 1000, 130, 0.5, False)]))
    assert _row(result, "L", "A")["p_value_test"] == "two_proportion_z"
