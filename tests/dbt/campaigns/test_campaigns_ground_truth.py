"""Campaign marts against the demo generator's ground truth, through the real loader and dbt.

The session's refreshed demo (tests/helpers/refreshed_demo.py: generated, loaded and built by the
pipeline's ``dbt build``, so every campaign model's data tests and contracts passed; their unit tests run
in tests/dbt/test_dbt_unit_tests.py) is read; then:
- every assignment of the truth (campaign, person, variant) is one customer of campaign_assignments in
  the same group, and the group sizes of ab_test_results / campaign_funnel are the truth's;
- conversion follows the definition exactly: for each truth assignment, converted when a purchase of
  fct_orders that belongs to the person's customer lies in (first touch, first touch + 7 days], the
  first touch and the person -> customer link taken from the ground truth, not from the models;
- SMS never shows an `opened` count, the holdout group never shows a send.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from tests.helpers.refreshed_demo import RefreshedDemo

pytestmark = pytest.mark.e2e

WINDOW = pd.Timedelta(days=7)


@pytest.fixture(scope="module")
def demo(refreshed_demo: RefreshedDemo) -> Iterator[tuple[duckdb.DuckDBPyConnection, Path]]:
    assert not refreshed_demo.outcome.checks_failed, refreshed_demo.outcome.checks_failed  # dbt tests passed
    con = duckdb.connect(str(refreshed_demo.paths.warehouse), read_only=True)
    yield con, refreshed_demo.paths.ground_truth
    con.close()


def _truth_assignments(con: duckdb.DuckDBPyConnection, truth: Path) -> pd.DataFrame:
    """Truth assignments with the customer their recipient identifier belongs to in the warehouse."""
    assignments = pd.read_parquet(truth / "touch_assignments.parquet")
    people = pd.read_parquet(truth / "people.parquet").set_index("person_id")
    value = [people.at[p, t] for p, t in zip(assignments["person_id"], assignments["recipient_type"], strict=True)]
    assignments["identifier_key"] = [f"{t}:{str(v).lower() if t == 'email' else v}"
                                     for t, v in zip(assignments["recipient_type"], value, strict=True)]
    ids = con.execute("select identifier_key, customer_id from intermediate.int_customer_identifiers").df()
    return assignments.merge(ids, on="identifier_key", how="left")


def test_every_truth_assignment_is_one_customer_in_the_same_group(demo) -> None:
    con, truth = demo
    expected = _truth_assignments(con, truth)
    assert expected["customer_id"].notna().all(), "every demo recipient resolves to a customer"
    ours = con.execute("select campaign_id, customer_id, variant, is_control, variant_count "
                       "from marts.campaign_assignments").df()
    merged = expected.merge(ours, on=["campaign_id", "customer_id"], how="outer", suffixes=("_truth", ""),
                            indicator=True)
    assert (merged["_merge"] == "both").all(), merged[merged["_merge"] != "both"].head()
    assert (merged["variant"].fillna("") == merged["variant_truth"].fillna("")).all()
    assert (merged["is_control"] == merged["is_control_truth"]).all()
    assert (merged["variant_count"] == 1).all()


def test_group_sizes_match_the_truth(demo) -> None:
    con, truth = demo
    campaigns = pd.read_parquet(truth / "campaigns.parquet")
    ab = con.execute("select campaign_id, variant, recipients, is_reference from marts.ab_test_results").df()
    tested = campaigns[campaigns["variant"].notna()].merge(ab, on=["campaign_id", "variant"], how="outer",
                                                          suffixes=("_truth", ""))
    assert (tested["recipients"] == tested["recipients_truth"]).all(), tested
    reference = tested[tested["is_reference"]].set_index("campaign_id")["variant"].to_dict()
    assert reference == {"CMP2026SMS01": "control", "CMP2026EMAIL03": "A", "CMP2026PUSH04": "control"}

    funnel = con.execute("select campaign_id, coalesce(variant, '') as variant, sum(assigned_customers) as n, "
                         "sum(sent_customers) as sent from marts.campaign_funnel group by all").df()
    sizes = campaigns.assign(variant=campaigns["variant"].fillna("")).merge(funnel, on=["campaign_id", "variant"])
    assert len(sizes) == len(campaigns)
    assert (sizes["n"] == sizes["recipients"]).all()
    treated = sizes[~sizes["is_control"]]
    assert (treated["sent"] == treated["recipients"]).all()  # every treated recipient got a send
    assert sizes.loc[sizes["is_control"], "sent"].isna().all()  # the holdout is never sent


def test_conversion_follows_the_window_after_the_first_touch(demo) -> None:
    con, truth = demo
    expected = _truth_assignments(con, truth)
    orders = con.execute("select customer_id, ordered_at from marts.fct_orders "
                         "where is_purchase and customer_id is not null").df()
    pairs = expected[["campaign_id", "customer_id", "first_touch_at"]].merge(orders, on="customer_id")
    inside = pairs[(pairs["ordered_at"] > pairs["first_touch_at"])
                   & (pairs["ordered_at"] <= pairs["first_touch_at"] + WINDOW)]
    converted = set(zip(inside["campaign_id"], inside["customer_id"], strict=True))
    expected["expected_converted"] = [(c, k) in converted for c, k in
                                      zip(expected["campaign_id"], expected["customer_id"], strict=True)]
    ours = con.execute("select campaign_id, customer_id, is_converted from marts.campaign_assignments").df()
    check = expected.merge(ours, on=["campaign_id", "customer_id"])
    assert len(check) == len(expected)
    assert check["expected_converted"].sum() > 0
    wrong = check[check["expected_converted"] != check["is_converted"]]
    assert wrong.empty, wrong[["campaign_id", "person_id", "first_touch_at", "is_converted"]]
    # never more converters than the truth (identity can only lose purchases, not invent them)
    assert not (check["is_converted"] & ~check["converted_7d"]).any()


def test_sms_shows_no_opens_and_touch_conversion_counts_treated_customers(demo) -> None:
    con, truth = demo
    sms = con.execute("select count(*), count(opened_customers), count(clicked_customers) "
                      "from marts.campaign_funnel where channel = 'sms' and not is_control").fetchone()
    assert sms[0] > 0 and sms[1] == 0 and sms[2] == sms[0]
    campaigns = pd.read_parquet(truth / "campaigns.parquet")
    treated = campaigns[~campaigns["is_control"]].groupby("campaign_id")["recipients"].sum().to_dict()
    monthly = con.execute("select campaign_id, sum(touched_customers) from marts.touch_conversion_monthly "
                          "group by campaign_id").fetchall()
    assert dict(monthly) == treated
    unresolved = con.execute("select sum(unresolved_recipients), sum(recipients - resolved_recipients) "
                             "from marts.touch_recipient_resolution").fetchone()
    assert unresolved == (0, 0)
