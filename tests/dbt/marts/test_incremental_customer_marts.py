"""The customer-keyed incremental marts — the lifecycle snapshot (customer_lifecycle) and the member tier
snapshots (member_tier_history) — and the period-keyed KPI cells (int_kpi_monthly_cells,
int_kpi_quarterly_cells) rewrite after a new export and a later as_of only what can have changed, and always
equal a full rebuild, also when as_of moves backwards or a threshold var changes.

Which rows a build rewrote is read from the rows themselves: before the incremental build every row gets
a mark on a column the build never reads, and a rewritten row comes back without it (see ``mark_rows``).
What is expected to be rewritten is
derived here in pandas from the purchases before and after (changed purchase days or amounts, a lifecycle
threshold day between the two as_of dates, tier snapshots dated on or after the earlier as_of),
independently of the models' SQL.
"""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from demo.generator import generate
from ingestion.loader import load_landing
from tests.helpers.refreshed_demo import RefreshedDemo, copy_data_dir
from tests.helpers.repurchase_marts import ACTIVE_DAYS, LOYAL_TENURE, NEW_DAYS, SILENT_DAYS
from transform.dbt import run_dbt, vars_arg

pytestmark = pytest.mark.e2e

MARTS = {"customer_lifecycle": "spell_id", "member_tier_history": ["customer_id", "snapshot_date"]}
STATE = "int_customer_order_state"  # per customer: what the two marts recompute from
# when a build saw a customer's orders change: differs from a full rebuild by design
STATE_STAMPS = ["purchases_changed_at", "spend_changed_at"]
KPI_CELLS = {"int_kpi_monthly_cells": "month", "int_kpi_quarterly_cells": "quarter"}
# the rfm_segment rows' additive parts, grouped by today's segments (int_customer_segment_history)
KPI_SEGMENTS = {"int_kpi_monthly_segments": "month", "int_kpi_quarterly_segments": "quarter"}
SEGMENT_HISTORY = "int_customer_segment_history"
KPI_KEY = ["period_start", "dimension", "dimension_value"]
SELECT = ("+lifecycle_transitions", "+member_tier_history", *(f"+{name}" for name in {**KPI_CELLS, **KPI_SEGMENTS}))
AS_OF_MODELS = ("repurchase_as_of", "repurchase_purchases", "fct_orders", STATE, *MARTS, "lifecycle_transitions",
                *KPI_CELLS, "customer_current_stage", "customer_rfm", SEGMENT_HISTORY, *KPI_SEGMENTS)


def load(data_dir: Path) -> None:
    with duckdb.connect(str(data_dir / "warehouse.duckdb")) as con:
        load_landing(con, data_dir / "landing")


def as_of_vars(day: dt.date, **extra: int) -> list[str]:
    return vars_arg({"as_of": day.isoformat(), **extra})


def dbt(args: list[str], data_dir: Path, work_dir: Path) -> None:
    run_dbt(args, data_dir=data_dir, target_path=work_dir / "target")


# What a build rewrote is measured on the rows themselves: before the incremental build every row gets a
# mark on a column the incremental logic never reads (it deletes by customer_id / snapshot_date); a row
# the build rewrites comes back without it. (DuckDB rowids can't tell: every dbt run is its own process
# now, and the checkpoint at its end compacts row groups with deleted rows, renumbering them.)
MARKED = {"customer_lifecycle": "spell_id", "member_tier_history": "tier"}
MARK = "#kept"


KPI_MARK = 1_000_000  # added to a KPI cell's `customers` (the build reads only the keys and fingerprints)
CELLS_BOOKKEEPING = ["_kept", "_last_build"]  # not compared with a full rebuild


def mark_rows(data_dir: Path) -> None:
    with duckdb.connect(str(data_dir / "warehouse.duckdb")) as con:
        for name, column in MARKED.items():
            con.execute(f"update marts.{name} set {column} = {column} || '{MARK}'")
        for name in KPI_CELLS:
            con.execute(f"update intermediate.{name} set customers = customers + {KPI_MARK}")


def read_kpi_cells(data_dir: Path) -> dict[str, pd.DataFrame]:
    """{KPI cells model: its rows without the fingerprint, sorted, with `_kept` = carries the mark and
    `_last_build` = stamped by the last build (what the model's data tests check)}."""
    cells = {}
    with duckdb.connect(str(data_dir / "warehouse.duckdb")) as con:
        for name in KPI_CELLS:
            rows = con.execute(
                "select * exclude (inputs_fingerprint, _built_at), _built_at = max(_built_at) over () as _last_build "
                f"from intermediate.{name}"
            ).df()
            rows["_kept"] = rows["customers"] >= KPI_MARK
            rows.loc[rows["_kept"], "customers"] -= KPI_MARK
            cells[name] = rows.sort_values(KPI_KEY).reset_index(drop=True)
    return cells


def read_kpi_segments(data_dir: Path) -> dict[str, pd.DataFrame]:
    """{KPI segments model: its rows without fingerprint and stamps, sorted, with `_recomputed` = the last
    build computed the period from its purchases (else it moved customers between its rows)}."""
    segments = {}
    with duckdb.connect(str(data_dir / "warehouse.duckdb")) as con:
        for name in KPI_SEGMENTS:
            rows = con.execute(
                "select * exclude (inputs_fingerprint, _built_at, _computed_at), "
                "_computed_at = max(_built_at) over () as _recomputed "
                f"from intermediate.{name}"
            ).df()
            segments[name] = rows.sort_values(KPI_KEY).reset_index(drop=True)
    return segments


def read_segments(data_dir: Path) -> pd.Series:
    """customer_rfm's segment per customer."""
    with duckdb.connect(str(data_dir / "warehouse.duckdb")) as con:
        return con.execute("select customer_id, segment from marts.customer_rfm").df().set_index("customer_id")["segment"]


def segment_grid_periods(rows: pd.DataFrame, segments: pd.Series, period_starts: pd.Series, period: str) -> set:
    """Periods whose rfm_segment rows start to exist for a segment: those from the first period of the
    segment's first row (its customers' purchases and money-back orders)."""
    tagged = rows.dropna(subset=["customer_id"]).assign(segment=lambda r: r["customer_id"].map(segments))
    first_days = pd.to_datetime(tagged.dropna(subset=["segment"]).groupby("segment")["purchase_date"].min())
    freq = "M" if period == "month" else "Q"
    first_periods = first_days.dt.to_period(freq).dt.start_time
    return {(start, segment) for start in set(period_starts) for segment, first in first_periods.items() if first <= start}


def kpi_rows(data_dir: Path) -> pd.DataFrame:
    """Every row that moves money up to as_of, as the KPI cells read it: repurchase_purchases (with the
    purchase sequence and first purchase day) and fct_orders' other orders with a non-zero amount."""
    with duckdb.connect(str(data_dir / "warehouse.duckdb")) as con:
        return con.execute(
            "select order_key, customer_id, channel, shop_id, purchase_date, net_amount, "
            "customer_purchase_seq, first_purchase_date from marts.repurchase_purchases "
            "union all select order_key, customer_id, channel, shop_id, cast(ordered_at as date), net_amount, "
            "null, null from marts.fct_orders where not is_purchase and net_amount <> 0 "
            "and cast(ordered_at as date) <= (select as_of_date from marts.repurchase_as_of)"
        ).df()


def changed_months(before: pd.DataFrame, after: pd.DataFrame) -> set[pd.Timestamp]:
    """Months (first day) holding a row that is in one build's rows and not in the other's."""
    key = list(before.columns)
    merged = before.astype(str).merge(after.astype(str), on=key, how="outer", indicator=True)
    days = pd.to_datetime(merged.loc[merged["_merge"] != "both", "purchase_date"])
    return set(days.dt.to_period("M").dt.start_time)


def expected_kpi_periods(
    period_starts: pd.Series, period: str, months: set[pd.Timestamp], old_as_of: dt.date
) -> set[pd.Timestamp]:
    """Periods a build must recompute: those whose values can depend on a changed month (its 12-month CLV
    window and the 30 days before it start within 13 months before the period) or on as_of (ending on
    or after the earlier as_of)."""
    expected = set()
    for start in set(period_starts):
        end = start + pd.offsets.MonthEnd(1 if period == "month" else 3)
        if end >= pd.Timestamp(old_as_of) or any(start - pd.DateOffset(months=13) <= m <= end for m in months):
            expected.add(start)
    return expected


def read(data_dir: Path) -> tuple[dict[str, pd.DataFrame], pd.DataFrame]:
    """({mart: rows, with `_kept` = the row carries the mark (removed)}, repurchase_purchases of identified
    customers)."""
    return read_with_orders(data_dir)[:2]


def read_with_orders(data_dir: Path) -> tuple[dict[str, pd.DataFrame], pd.DataFrame, pd.DataFrame]:
    """read(), plus every order of an identified customer that moves money up to as_of (fct_orders, the
    tiers' net-spend rule: purchases and returns), as (customer_id, purchase_date, net_amount, is_purchase)."""
    marts = {}
    with duckdb.connect(str(data_dir / "warehouse.duckdb")) as con:
        for name, column in MARKED.items():
            rows = con.execute(f"select * from marts.{name}").df()
            rows["_kept"] = rows[column].str.endswith(MARK)
            rows[column] = rows[column].str.removesuffix(MARK)
            marts[name] = rows
        purchases = con.execute(
            "select customer_id, purchase_date, net_amount from marts.repurchase_purchases "
            "where customer_id is not null"
        ).df()
        orders = con.execute(
            "select customer_id, cast(ordered_at as date) as purchase_date, net_amount, is_purchase "
            "from marts.fct_orders where customer_id is not null "
            "and cast(ordered_at as date) <= (select as_of_date from marts.repurchase_as_of)"
        ).df()
    return marts, purchases, orders


def canonical(rows: pd.DataFrame, key: str | list[str]) -> pd.DataFrame:
    """The rows without the mark and the build's bookkeeping (`_built_*`: which build wrote a row, its as_of
    and settings), sorted: what a full rebuild must equal."""
    bookkeeping = [c for c in rows.columns if c == "_kept" or c.startswith("_built")]
    return rows.drop(columns=bookkeeping).sort_values(key).reset_index(drop=True)


def read_purchases(data_dir: Path) -> pd.DataFrame:
    """repurchase_purchases (incremental, by customer) without its bookkeeping, sorted; `_last_build` = the
    row carries the newest stamp."""
    with duckdb.connect(str(data_dir / "warehouse.duckdb")) as con:
        rows = con.execute(
            "select * exclude (_built_at, _built_as_of), _built_at = max(_built_at) over () as _last_build "
            "from marts.repurchase_purchases"
        ).df()
    return rows.sort_values("order_key").reset_index(drop=True)


def read_transitions(data_dir: Path) -> pd.DataFrame:
    """lifecycle_transitions (incremental, by customer) without its stamp, sorted; `_last_build` = the row
    carries the newest stamp."""
    with duckdb.connect(str(data_dir / "warehouse.duckdb")) as con:
        rows = con.execute(
            "select * exclude (_built_at), _built_at = max(_built_at) over () as _last_build "
            "from marts.lifecycle_transitions"
        ).df()
    return rows.sort_values(["customer_id", "day"]).reset_index(drop=True)


def read_state(data_dir: Path) -> pd.DataFrame:
    """int_customer_order_state, with `_last_build` per stamp column: the row's value is that build's stamp."""
    with duckdb.connect(str(data_dir / "warehouse.duckdb")) as con:
        rows = con.execute(f"select * from intermediate.{STATE}").df()
    for column in STATE_STAMPS:
        rows[f"{column}_last"] = rows[column] == rows["_built_at"].max()
    return rows.sort_values("customer_id").reset_index(drop=True)


def state_values(rows: pd.DataFrame) -> pd.DataFrame:
    return rows[[c for c in rows.columns if not c.startswith("_built") and not c.startswith(tuple(STATE_STAMPS))]]


def purchase_days(purchases: pd.DataFrame, with_amounts: bool) -> pd.Series:
    """Per customer, the sorted tuple of their purchases' days (with amounts: of (day, net amount, is a
    purchase), over every order that moves money)."""
    columns = ["purchase_date", "net_amount", "is_purchase"] if with_amounts else ["purchase_date"]
    ordered = purchases.sort_values(["customer_id", *columns])
    return ordered.groupby("customer_id").apply(
        lambda g: tuple(map(tuple, g[columns].to_numpy())), include_groups=False
    )


def changed_customers(before: pd.DataFrame, after: pd.DataFrame, with_amounts: bool) -> set[str]:
    days_before, days_after = purchase_days(before, with_amounts), purchase_days(after, with_amounts)
    return {c for c, days in days_after.items() if days_before.get(c) != days}


def expected_rewritten(before: pd.DataFrame, after: pd.DataFrame, old: dt.date, new: dt.date) -> set[str]:
    """Lifecycle: customers with changed purchase days, or a stage threshold day in (old, new]."""
    changed = changed_customers(before, after, with_amounts=False)
    first = after.groupby("customer_id")["purchase_date"].min()
    last = after.groupby("customer_id")["purchase_date"].max()
    old_ts, new_ts = pd.Timestamp(old), pd.Timestamp(new)
    crossing = pd.Series(False, index=first.index)
    for day in (
        first + pd.Timedelta(days=NEW_DAYS + 1),
        first + pd.Timedelta(days=LOYAL_TENURE),
        last + pd.Timedelta(days=ACTIVE_DAYS + 1),
        last + pd.Timedelta(days=SILENT_DAYS + 1),
    ):
        crossing |= (day > old_ts) & (day <= new_ts)
    return changed | set(crossing[crossing].index)


def test_incremental_lifecycle_equals_full_rebuild(tmp_path: Path) -> None:
    data_dir, work_dir = tmp_path / "data", tmp_path / "work"
    generate(data_dir, people=300, seed=5)
    newest = max((data_dir / "landing" / "pos").glob("pos_sales_*"))
    held = tmp_path / newest.name
    shutil.move(newest, held)
    load(data_dir)

    # Day 1: first build (full) as of 10-20, without the newest POS export.
    day_1, day_2 = dt.date(2026, 10, 20), dt.date(2026, 10, 31)
    dbt(["run", "--select", *SELECT, *as_of_vars(day_1)], data_dir, work_dir)
    marts_1, purchases_1, orders_1 = read_with_orders(data_dir)
    kpi_rows_1 = kpi_rows(data_dir)
    segments_1 = read_segments(data_dir)

    # Day 2: the export arrives and as_of moves to 10-31: an incremental build.
    mark_rows(data_dir)
    shutil.move(held, newest)
    load(data_dir)
    dbt(["run", "--select", *SELECT, *as_of_vars(day_2)], data_dir, work_dir)
    marts_2, purchases_2, orders_2 = read_with_orders(data_dir)
    cells_2 = read_kpi_cells(data_dir)
    kpi_segments_2 = read_kpi_segments(data_dir)
    segments_2 = read_segments(data_dir)
    state_2 = read_state(data_dir)
    purchases_table_2 = read_purchases(data_dir)

    # The state saw exactly the customers whose purchase days, or orders that move money, changed (pandas,
    # from the marts' inputs of both builds), and holds every customer with an order up to as_of.
    assert set(state_2["customer_id"]) == set(orders_2["customer_id"])
    changed_purchases = changed_customers(purchases_1, purchases_2, with_amounts=False)
    buyers = state_2["purchase_count"] > 0
    assert set(state_2.loc[state_2["purchases_changed_at_last"] & buyers, "customer_id"]) == changed_purchases
    changed_spend = changed_customers(orders_1, orders_2, with_amounts=True)
    assert set(state_2.loc[state_2["spend_changed_at_last"], "customer_id"]) == changed_spend
    assert 0 < len(changed_spend) < 0.5 * len(state_2), len(changed_spend)
    # repurchase_purchases rewrote the purchases of the customers whose purchases or orders changed (and the
    # day's unresolved purchases), not everyone's
    written_purchases = purchases_table_2[purchases_table_2["_last_build"]]
    assert changed_purchases <= set(written_purchases["customer_id"].dropna())
    assert 0 < len(written_purchases) < 0.5 * len(purchases_table_2), len(written_purchases)
    # it recomputed (wrote) the day's customers, not everyone
    written_state = state_2["_built_at"] == state_2["_built_at"].max()
    assert changed_spend <= set(state_2.loc[written_state, "customer_id"])
    assert written_state.sum() < 0.5 * len(state_2), written_state.sum()

    spells_1, spells_2 = marts_1["customer_lifecycle"], marts_2["customer_lifecycle"]
    rewritten = set(spells_2.loc[~spells_2["_kept"], "customer_id"])
    expected = expected_rewritten(purchases_1, purchases_2, day_1, day_2)
    assert rewritten == expected
    customers = spells_2["customer_id"].nunique()
    assert 0 < len(rewritten) < 0.5 * customers, (len(rewritten), customers)
    # lifecycle_transitions rewrote exactly those customers (its newest stamp), nobody else.
    transitions_2 = read_transitions(data_dir)
    assert set(transitions_2.loc[transitions_2["_last_build"], "customer_id"]) == rewritten
    # Untouched customers kept their rows as they were.
    kept = spells_1[~spells_1["customer_id"].isin(rewritten)]
    assert set(kept["spell_id"]) <= set(spells_2.loc[spells_2["_kept"], "spell_id"])

    # Tier snapshots: those of customers whose orders that move money (days, counts, amounts, returns)
    # changed, and every month end dated on or after the earlier as_of. The history holds month ends only:
    # the tiers of as_of are member_tiers' (it had an as_of snapshot, rewritten whole every day).
    tiers_2 = marts_2["member_tier_history"]
    written = tiers_2[~tiers_2["_kept"]]
    changed = changed_customers(orders_1, orders_2, with_amounts=True)
    should = tiers_2[tiers_2["customer_id"].isin(changed) | (tiers_2["snapshot_date"] >= pd.Timestamp(day_1))]
    assert set(zip(written["customer_id"], written["snapshot_date"], strict=True)) == set(
        zip(should["customer_id"], should["snapshot_date"], strict=True)
    )
    assert 0 < len(written) < 0.2 * len(tiers_2), (len(written), len(tiers_2))
    assert (tiers_2["snapshot_date"] >= pd.Timestamp(day_2)).sum() == 0  # no snapshot of as_of, or after
    assert (tiers_2["snapshot_date"] == pd.Timestamp(day_1)).sum() == 0  # day 1 is no month end
    # the data tests of both marts (where "__last_build__") see exactly the rows this build wrote
    for name in MARTS:
        rows = marts_2[name]
        assert (rows["_built_at"] == rows["_built_at"].max()).equals(~rows["_kept"]), name

    # KPI cells: the periods whose window holds a changed purchase or return (the new export's days, old
    # orders an identity merge moved), or that end on or after the earlier as_of; the others kept.
    months = changed_months(kpi_rows_1, kpi_rows(data_dir))
    for name, period in KPI_CELLS.items():
        cells = cells_2[name]
        rewritten = set(cells.loc[~cells["_kept"], "period_start"])
        assert rewritten == expected_kpi_periods(cells["period_start"], period, months, day_1), name
        assert 0 < len(rewritten) < cells["period_start"].nunique(), (name, len(rewritten))
        # a period is rewritten whole or kept whole
        assert not (set(cells.loc[cells["_kept"], "period_start"]) & rewritten), name
        # the data tests of the cells (where "__last_build__") see the rewritten rows
        assert cells["_last_build"].equals(~cells["_kept"]), name

    # KPI segment rows: recomputed from their purchases are the same periods as the cells', plus those where
    # a segment's rows start or stop (its first period moved); the others moved the customers whose segment
    # changed (there are some: the day's purchases and the later as_of change segments).
    moved = {c for c in set(segments_1.index) | set(segments_2.index) if segments_1.get(c) != segments_2.get(c)}
    assert 0 < len(moved) < 0.5 * len(segments_2), len(moved)
    rows_2 = kpi_rows(data_dir)
    for name, period in KPI_SEGMENTS.items():
        rows = kpi_segments_2[name]
        recomputed = set(rows.loc[rows["_recomputed"], "period_start"])
        grid_1 = segment_grid_periods(kpi_rows_1, segments_1, rows["period_start"], period)
        grid_2 = segment_grid_periods(rows_2, segments_2, rows["period_start"], period)
        expected = expected_kpi_periods(rows["period_start"], period, months, day_1) | {start for start, _ in grid_1 ^ grid_2}
        assert recomputed == expected, name
        assert 0 < len(recomputed) < rows["period_start"].nunique(), (name, len(recomputed))
        assert set(zip(rows["period_start"], rows["dimension_value"], strict=True)) == grid_2, name
    dbt(["run", "--select", "repurchase_purchases", STATE, *MARTS, "lifecycle_transitions", *KPI_CELLS,
         *KPI_SEGMENTS, "--full-refresh", *as_of_vars(day_2)], data_dir, work_dir)
    pd.testing.assert_frame_equal(
        transitions_2.drop(columns="_last_build"), read_transitions(data_dir).drop(columns="_last_build")
    )
    rebuilt, _ = read(data_dir)
    pd.testing.assert_frame_equal(
        purchases_table_2.drop(columns="_last_build"), read_purchases(data_dir).drop(columns="_last_build")
    )
    for name, key in MARTS.items():
        pd.testing.assert_frame_equal(canonical(marts_2[name], key), canonical(rebuilt[name], key), obj=name)
    pd.testing.assert_frame_equal(state_values(state_2), state_values(read_state(data_dir)), obj=STATE)
    for name, rows in read_kpi_cells(data_dir).items():
        pd.testing.assert_frame_equal(
            cells_2[name].drop(columns=CELLS_BOOKKEEPING), rows.drop(columns=CELLS_BOOKKEEPING), obj=name
        )
    for name, rows in read_kpi_segments(data_dir).items():
        assert rows["_recomputed"].all(), name
        pd.testing.assert_frame_equal(
            kpi_segments_2[name].drop(columns="_recomputed"), rows.drop(columns="_recomputed"), obj=name
        )


def test_incremental_lifecycle_follows_as_of_back_and_threshold_changes(
    tmp_path: Path, refreshed_demo: RefreshedDemo
) -> None:
    # Starts from the session's refreshed demo: every mart built (incrementally kept from then on) as of
    # its latest purchase, 2026-10-31.
    data_dir, work_dir = copy_data_dir(refreshed_demo, tmp_path / "data").root, tmp_path / "work"
    earlier = dt.date(2026, 8, 15)

    later = earlier + dt.timedelta(days=40)
    cases = [
        ("as_of moves back", earlier, as_of_vars(earlier)),
        ("same as_of again", earlier, as_of_vars(earlier)),
        ("as_of moves forward", later, as_of_vars(later)),
        ("thresholds change", earlier, as_of_vars(earlier, lifecycle_active_days=45, tier_gold_min_spend=1500)),
        # October's inputs are those of the demo's build again, but its segment rows were not current at
        # the last builds, which moved customers between segments in the current periods only
        ("as_of back to the demo's", dt.date(2026, 10, 31), as_of_vars(dt.date(2026, 10, 31))),
    ]
    for label, as_of, args in cases:
        dbt(["run", "--select", *AS_OF_MODELS, *args], data_dir, work_dir)
        incremental, purchases = read(data_dir)
        incremental_cells = read_kpi_cells(data_dir)
        incremental_segments = read_kpi_segments(data_dir)
        incremental_state = read_state(data_dir)
        incremental_purchases = read_purchases(data_dir).drop(columns="_last_build")
        incremental_transitions = read_transitions(data_dir).drop(columns="_last_build")
        # The KPI segment rows are rebuilt in a copy: the next case builds on this one's rows, not on a
        # full rebuild's (rows of periods an as_of moved back left behind, customers moved since).
        rebuilt_dir = tmp_path / "rebuilt"
        shutil.rmtree(rebuilt_dir, ignore_errors=True)
        rebuilt_dir.mkdir()
        shutil.copy(data_dir / "warehouse.duckdb", rebuilt_dir / "warehouse.duckdb")
        dbt(["run", "--select", *KPI_SEGMENTS, "--full-refresh", *args], rebuilt_dir, tmp_path / "work_rebuilt")
        for name, rows in read_kpi_segments(rebuilt_dir).items():
            current = incremental_segments[name]
            current = current[current["period_start"] <= pd.Timestamp(as_of)].reset_index(drop=True)
            pd.testing.assert_frame_equal(
                current.drop(columns="_recomputed"), rows.drop(columns="_recomputed"), obj=f"{label}: {name}"
            )
        dbt(["run", "--select", "repurchase_purchases", STATE, *MARTS, "lifecycle_transitions", *KPI_CELLS,
             "--full-refresh", *args], data_dir, work_dir)
        pd.testing.assert_frame_equal(
            incremental_transitions, read_transitions(data_dir).drop(columns="_last_build"), obj=f"{label}: transitions"
        )
        rebuilt, _ = read(data_dir)
        pd.testing.assert_frame_equal(
            incremental_purchases, read_purchases(data_dir).drop(columns="_last_build"), obj=f"{label}: purchases"
        )
        pd.testing.assert_frame_equal(
            state_values(incremental_state), state_values(read_state(data_dir)), obj=f"{label}: {STATE}"
        )
        for name, key in MARTS.items():
            pd.testing.assert_frame_equal(
                canonical(incremental[name], key), canonical(rebuilt[name], key), obj=f"{label}: {name}"
            )
        # The KPI cells of the current periods (an as_of moved back leaves later periods, which the marts
        # do not read, until they are current again).
        for name, rows in read_kpi_cells(data_dir).items():
            current = incremental_cells[name]
            current = current[current["period_start"] <= pd.Timestamp(as_of)].reset_index(drop=True)
            pd.testing.assert_frame_equal(
                current.drop(columns=CELLS_BOOKKEEPING), rows.drop(columns=CELLS_BOOKKEEPING), obj=f"{label}: {name}"
            )
        # Customers whose purchases all come after as_of are gone, not left over.
        spells = incremental["customer_lifecycle"]
        assert set(spells["customer_id"]) == set(purchases["customer_id"]), label
        assert purchases["purchase_date"].max() <= pd.Timestamp(as_of), label
        assert spells["valid_from"].max() <= pd.Timestamp(as_of), label  # a stage can start on as_of itself
