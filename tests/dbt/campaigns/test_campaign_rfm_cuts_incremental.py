"""int_campaign_rfm_cuts keeps each campaign's RFM cuts and recomputes a campaign only when what they
depend on changed: a purchase before its first send. campaign_customer_rfm, each campaign's audience
with its segment at the send, recomputes the campaigns whose cuts or touch events changed, or whose
events as_of admits or drops. A run after a POS export with one purchase dated between two campaigns'
sends rewrites exactly the campaigns sent after it; a run with nothing new rewrites none; a touch log
with one more recipient of the first campaign rewrites that campaign's segments only; an as_of before a
campaign's first event deletes it and rewrites the segments of the campaigns with events after that
as_of. Each time the cuts and campaign_customer_rfm equal a full rebuild.

campaign_assignments rewrites the campaigns whose touch events or segments were written, or whose
windows reach past the earlier as_of when as_of moved, and the rows whose purchases inside the window
changed (a fingerprint per row). It rewrites no row on a run with nothing new, only the campaigns with new
segments after the late receipt, and only the buyer's rows whose window holds a receipt she makes inside
her window (she converts); it too equals a full rebuild each time.

Which campaigns a build rewrote is read from the rows' `_built_at` (the stamp of the build that wrote the
row). The campaigns and rows expected to be rewritten come from the touch events' first sends, dates and
windows, computed here in pandas, and the purchase's time, independently of the models' SQL.
"""

from __future__ import annotations

import datetime as dt

import duckdb
import pandas as pd
import pytest

from core.paths import DataPaths
from demo.generator import generate
from tests.helpers.incremental_runs import dbt_run, load_raw, write_pos
from transform.dbt import vars_arg

pytestmark = pytest.mark.e2e

PEOPLE = 200
SEED = 42
CUTS = "intermediate.int_campaign_rfm_cuts"
RFM = "marts.campaign_customer_rfm"
ASSIGNMENTS = "marts.campaign_assignments"
SELECT = ("--select", "+campaign_assignments")
WINDOW = dt.timedelta(days=7)  # attribution_window_days in dbt_project.yml


def read(paths: DataPaths, table: str) -> pd.DataFrame:
    con = duckdb.connect(str(paths.warehouse), read_only=True)
    try:
        return con.execute(f"select * from {table}").df()
    finally:
        con.close()


def first_sends(paths: DataPaths, as_of: dt.date | None = None) -> pd.Series:
    """Each campaign's first send by the touch events: its first non-holdout event (its first event when
    it has only holdout rows), counting events on or before as_of."""
    events = read(paths, "marts.fct_touch_events")
    if as_of is not None:
        events = events[events["event_time"].dt.date <= as_of]
    sends = events[~events["is_control"]].groupby("campaign_id")["event_time"].min()
    return sends.combine_first(events.groupby("campaign_id")["event_time"].min()).sort_values()


def first_touches(paths: DataPaths, as_of: dt.date) -> pd.DataFrame:
    """Each campaign x resolved customer's earliest event on or before as_of (her window runs WINDOW from it)."""
    events = read(paths, "marts.fct_touch_events").dropna(subset=["customer_id"])
    events = events[events["event_time"].dt.date <= as_of]
    first = events.groupby(["campaign_id", "customer_id"])["event_time"].min()
    return first.rename("first_touch_at").reset_index()


def window_spans(paths: DataPaths, as_of: dt.date) -> pd.DataFrame:
    """Each campaign's first resolved event and latest window end, events on or before as_of."""
    first = first_touches(paths, as_of).groupby("campaign_id")["first_touch_at"]
    return pd.DataFrame({"after": first.min(), "end": first.max() + WINDOW})


def customer_phones(paths: DataPaths) -> pd.Series:
    """The phone of each customer with exactly one (the identity layer's observations), by customer_id."""
    con = duckdb.connect(str(paths.warehouse), read_only=True)
    try:
        return con.execute(
            "select customers.customer_id, min(identifiers.identifier_value) as phone "
            "from intermediate.int_identifiers as identifiers "
            "inner join intermediate.int_customer_identifiers as customers "
            "on customers.identifier_id = identifiers.identifier_id "
            "where identifiers.identifier_type = 'phone' "
            "group by customers.customer_id having count(distinct identifiers.identifier_value) = 1"
        ).df().set_index("customer_id")["phone"]
    finally:
        con.close()


def rewritten(cuts: pd.DataFrame, previous: pd.DataFrame) -> set[str]:
    """Campaigns whose row the last build wrote: its stamp is newer than every stamp before it."""
    return set(cuts.loc[cuts["_built_at"] > previous["_built_at"].max(), "campaign_id"])


def without_bookkeeping(frame: pd.DataFrame, key: list[str]) -> pd.DataFrame:
    return frame.drop(columns=[c for c in frame.columns if c.startswith("_built")]).sort_values(key).reset_index(
        drop=True
    )


def assert_equals_full_rebuild(paths: DataPaths, *extra: str) -> None:
    keys = {CUTS: ["campaign_id"], RFM: ["campaign_id", "customer_id"], ASSIGNMENTS: ["campaign_id", "customer_id"]}
    incremental = {table: read(paths, table) for table in keys}
    dbt_run(*SELECT, *extra, "--full-refresh")
    for table, key in keys.items():
        rebuilt = read(paths, table)
        pd.testing.assert_frame_equal(without_bookkeeping(incremental[table], key), without_bookkeeping(rebuilt, key))


def test_cuts_are_recomputed_only_for_campaigns_sent_after_a_changed_purchase(data_dir: DataPaths) -> None:
    generate(data_dir.root, people=PEOPLE, seed=SEED)
    load_raw(data_dir)
    dbt_run(*SELECT)
    day_1 = read(data_dir, CUTS)
    sends = first_sends(data_dir)
    assert set(day_1["campaign_id"]) == set(sends.index) and len(sends) >= 3
    assert day_1["recency_cut"].notna().all()  # every demo campaign has customers who bought before it

    # nothing new: no campaign is recomputed
    segments_day_1, assignments_day_1 = read(data_dir, RFM), read(data_dir, ASSIGNMENTS)
    dbt_run(*SELECT)
    unchanged = read(data_dir, CUTS)
    assert rewritten(unchanged, day_1) == set()
    assert rewritten(read(data_dir, RFM), segments_day_1) == set()
    assert rewritten(read(data_dir, ASSIGNMENTS), assignments_day_1) == set()
    assert without_bookkeeping(unchanged, ["campaign_id"]).equals(without_bookkeeping(day_1, ["campaign_id"]))

    # a POS export with one purchase by a new customer, the day after the second campaign's send: the
    # campaigns sent later see one more customer with a purchase before their send, the others nothing new
    bought_at = dt.datetime.combine(sends.iloc[1].date() + dt.timedelta(days=1), dt.time(12, 0))
    expected = set(sends[sends > bought_at].index)
    assert expected and expected != set(sends.index)
    write_pos(
        data_dir.landing / "pos" / "pos_handmade_late_receipt.csv",
        [f"XSCUTHAND0001,销售,,S001,沐光上海测试店,收银01,{bought_at:%Y-%m-%d %H:%M:%S},,13912345670,"
         "6971234560042,神经酰胺修护面霜 50g,1,100.00,0.00,100.00,微信"],
    )  # fmt: skip
    segments_before, assignments_before = read(data_dir, RFM), read(data_dir, ASSIGNMENTS)
    as_of = read(data_dir, "marts.repurchase_as_of")["as_of_date"].iloc[0].date()
    load_raw(data_dir, expect_handmade=True)
    dbt_run(*SELECT)
    after_receipt = read(data_dir, CUTS)
    assert rewritten(after_receipt, unchanged) == expected
    assert rewritten(read(data_dir, RFM), segments_before) == expected
    # the campaigns with new segments, every row of them; the new customer is in no audience, so no other
    # row has a new purchase in its window
    assignments = read(data_dir, ASSIGNMENTS)
    assert rewritten(assignments, assignments_before) == expected
    assert (assignments.loc[assignments["campaign_id"].isin(expected), "_built_at"] > assignments_before["_built_at"].max()).all()
    assert_equals_full_rebuild(data_dir)

    # a receipt by an unconverted customer of the last campaign, an hour after her first touch: her rows
    # whose window holds it are rewritten, nothing else, and she converts
    last = sends.index[-1]
    assignments_before = read(data_dir, ASSIGNMENTS)
    phones = customer_phones(data_dir)
    buyer = assignments_before.query("campaign_id == @last and not is_converted and not is_control")
    buyer = buyer[buyer["customer_id"].isin(phones.index)].iloc[0]
    converted_at = buyer["first_touch_at"] + dt.timedelta(hours=1)
    assert converted_at.date() <= as_of
    write_pos(
        data_dir.landing / "pos" / "pos_handmade_conversion.csv",
        [f"XSCONVHAND0001,销售,,S001,沐光上海测试店,收银01,{converted_at:%Y-%m-%d %H:%M:%S},,"
         f"{phones[buyer['customer_id']]},6971234560042,神经酰胺修护面霜 50g,1,88.00,0.00,88.00,微信"],
    )  # fmt: skip
    load_raw(data_dir, expect_handmade=True)
    dbt_run(*SELECT)
    assignments = read(data_dir, ASSIGNMENTS)
    windows = first_touches(data_dir, as_of).query("customer_id == @buyer.customer_id")
    expected_rows = set(
        windows.loc[(windows["first_touch_at"] < converted_at) & (windows["first_touch_at"] + WINDOW >= converted_at),
                    "campaign_id"]
    )
    assert last in expected_rows
    new_rows = assignments[assignments["_built_at"] > assignments_before["_built_at"].max()]
    assert set(zip(new_rows["campaign_id"], new_rows["customer_id"])) == {(c, buyer["customer_id"]) for c in expected_rows}
    row = assignments.query("campaign_id == @last and customer_id == @buyer.customer_id").iloc[0]
    assert row["is_converted"] and row["first_conversion_at"] == converted_at and row["conversion_revenue"] == 88
    assert_equals_full_rebuild(data_dir)

    # a touch log with one more recipient of the first campaign, an hour after its send (its first send
    # and cuts stay): only that campaign's segments are recomputed, with the new customer in its audience
    first = sends.index[0]
    touched_at = sends.iloc[0] + dt.timedelta(hours=1)
    log = data_dir.landing / "touches" / "touches_handmade_extra.csv"
    sent = read(data_dir, "marts.fct_touch_events").query("campaign_id == @first and not is_control").iloc[0]
    variant = "" if pd.isna(sent["variant"]) else sent["variant"]
    log.write_text(
        "campaign_id,campaign_name,channel,variant,recipient_type,recipient,event_type,event_time\n"
        f"{first},{sent['campaign_name']},{sent['channel']},{variant},phone,13912345671,sent,"
        f"{touched_at:%Y-%m-%d %H:%M:%S}\n",
        encoding="utf-8",
    )
    cuts_before, segments_before = read(data_dir, CUTS), read(data_dir, RFM)
    assignments_before = read(data_dir, ASSIGNMENTS)
    load_raw(data_dir, expect_handmade=True)
    dbt_run(*SELECT)
    assert rewritten(read(data_dir, CUTS), cuts_before) == set()
    segments = read(data_dir, RFM)
    assert rewritten(segments, segments_before) == {first}
    assert rewritten(read(data_dir, ASSIGNMENTS), assignments_before) == {first}
    assert len(segments.query("campaign_id == @first")) == len(segments_before.query("campaign_id == @first")) + 1
    assert_equals_full_rebuild(data_dir)

    # as_of the day before the last campaign's last event, after its first send: its later events drop out,
    # so it and any campaign with events after that day are recomputed; none is deleted
    latest = sends.index[-1]
    events = read(data_dir, "marts.fct_touch_events")
    dates = events["event_time"].dt.date
    as_of = events.loc[events["campaign_id"] == latest, "event_time"].max().date() - dt.timedelta(days=1)
    assert as_of >= sends[latest].date()
    previous_as_of = read(data_dir, "marts.repurchase_as_of")["as_of_date"].iloc[0].date()
    expected = set(events.loc[(dates > as_of) & (dates <= previous_as_of), "campaign_id"])
    assert latest in expected
    before, segments_before = read(data_dir, CUTS), read(data_dir, RFM)
    assignments_before, spans = read(data_dir, ASSIGNMENTS), window_spans(data_dir, previous_as_of)
    dbt_run(*SELECT, *vars_arg({"as_of": as_of.isoformat()}))
    assert set(read(data_dir, CUTS)["campaign_id"]) == set(sends.index)
    assert rewritten(read(data_dir, RFM), segments_before) == expected
    # and the campaigns whose windows end after the new as_of (their flags and conversions in scope change)
    reopened = set(spans[spans["end"].dt.date > as_of].index)
    assert rewritten(read(data_dir, ASSIGNMENTS), assignments_before) == expected | reopened
    assert_equals_full_rebuild(data_dir, *vars_arg({"as_of": as_of.isoformat()}))

    # as_of the day before the last campaign's first event: that campaign is gone, the others kept (their
    # segments recomputed only where events fall between the two days)
    previous_as_of = as_of
    as_of = events.loc[events["campaign_id"] == latest, "event_time"].min().date() - dt.timedelta(days=1)
    dropped = set(events.loc[(dates > as_of) & (dates <= previous_as_of), "campaign_id"]) - {latest}
    before, segments_before = read(data_dir, CUTS), read(data_dir, RFM)
    assignments_before, spans = read(data_dir, ASSIGNMENTS), window_spans(data_dir, previous_as_of)
    dbt_run(*SELECT, *vars_arg({"as_of": as_of.isoformat()}))
    moved_back = read(data_dir, CUTS)
    assert set(moved_back["campaign_id"]) == set(first_sends(data_dir, as_of).index) == set(sends.index) - {latest}
    assert rewritten(moved_back, before) == set()  # the sends before it had no purchase after as_of before them
    segments = read(data_dir, RFM)
    assert latest not in set(segments["campaign_id"])
    assert rewritten(segments, segments_before) == dropped
    assignments = read(data_dir, ASSIGNMENTS)
    assert latest not in set(assignments["campaign_id"])
    reopened = set(spans[spans["end"].dt.date > as_of].index) - {latest}
    assert rewritten(assignments, assignments_before) == dropped | reopened
    assert_equals_full_rebuild(data_dir, *vars_arg({"as_of": as_of.isoformat()}))
