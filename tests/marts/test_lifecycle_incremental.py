"""The lifecycle snapshot (customer_lifecycle) is incremental: a build after a new export and a later as_of
rewrites only the customers whose spells can have changed, and always equals a full rebuild — also when
as_of moves backwards or a lifecycle threshold changes.

Which rows a build rewrote is read from DuckDB itself: rows keep their ``rowid`` unless rewritten, and
(re)inserted rows get rowids above the table's previous maximum. The customers expected to be rewritten
are derived here in pandas from the purchases before and after (changed purchase days, or a threshold day
between the two as_of dates), independently of the model's SQL.
"""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from ingestion.generator import generate
from ingestion.loader import load_landing
from tests.marts.test_marts_as_of import ACTIVE_DAYS, LOYAL_TENURE, NEW_DAYS, SILENT_DAYS, run_dbt

pytestmark = pytest.mark.e2e

SELECT = "+customer_lifecycle"
AS_OF_MODELS = ("repurchase_as_of", "repurchase_purchases", "customer_lifecycle")


def load(data_dir: Path) -> None:
    with duckdb.connect(str(data_dir / "warehouse.duckdb")) as con:
        load_landing(con, data_dir / "landing")


def as_of_vars(day: dt.date, **extra: int) -> list[str]:
    values = {"as_of": day.isoformat(), **extra}
    return [
        "--vars",
        "{" + ", ".join(f"{k}: '{v}'" if k == "as_of" else f"{k}: {v}" for k, v in values.items()) + "}",
    ]


def read(data_dir: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(customer_lifecycle with rowid, repurchase_purchases)."""
    with duckdb.connect(str(data_dir / "warehouse.duckdb")) as con:  # same config as dbt in-process
        spells = con.execute("select rowid as _rowid, * from marts.customer_lifecycle").df()
        purchases = con.execute(
            "select customer_id, purchase_date from marts.repurchase_purchases where customer_id is not null"
        ).df()
    return spells, purchases


def canonical(spells: pd.DataFrame) -> pd.DataFrame:
    return spells.drop(columns="_rowid").sort_values("spell_id").reset_index(drop=True)


def purchase_days(purchases: pd.DataFrame) -> pd.Series:
    """Per customer, the sorted tuple of (day, orders that day)."""
    counted = purchases.groupby(["customer_id", "purchase_date"]).size().reset_index(name="n")
    return counted.groupby("customer_id").apply(
        lambda g: tuple(zip(g["purchase_date"], g["n"], strict=True)), include_groups=False
    )


def expected_rewritten(before: pd.DataFrame, after: pd.DataFrame, old: dt.date, new: dt.date) -> set[str]:
    """Customers with changed purchase days, or a stage threshold day in (old, new]."""
    days_before, days_after = purchase_days(before), purchase_days(after)
    changed = {c for c, days in days_after.items() if days_before.get(c) != days}
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
    run_dbt(["run", "--select", SELECT, *as_of_vars(day_1)], data_dir, work_dir)
    spells_1, purchases_1 = read(data_dir)

    # Day 2: the export arrives and as_of moves to 10-31: an incremental build.
    shutil.move(held, newest)
    load(data_dir)
    run_dbt(["run", "--select", SELECT, *as_of_vars(day_2)], data_dir, work_dir)
    spells_2, purchases_2 = read(data_dir)

    rewritten = set(spells_2.loc[spells_2["_rowid"] > spells_1["_rowid"].max(), "customer_id"])
    expected = expected_rewritten(purchases_1, purchases_2, day_1, day_2)
    assert rewritten == expected
    customers = spells_2["customer_id"].nunique()
    assert 0 < len(rewritten) < 0.5 * customers, (len(rewritten), customers)
    # Untouched customers kept their rows as they were.
    kept = spells_1[~spells_1["customer_id"].isin(rewritten)]
    assert set(kept["_rowid"]) <= set(spells_2["_rowid"])

    run_dbt(
        ["run", "--select", "customer_lifecycle", "--full-refresh", *as_of_vars(day_2)], data_dir, work_dir
    )
    rebuilt, _ = read(data_dir)
    pd.testing.assert_frame_equal(canonical(spells_2), canonical(rebuilt))


def test_incremental_lifecycle_follows_as_of_back_and_threshold_changes(tmp_path: Path) -> None:
    data_dir, work_dir = tmp_path / "data", tmp_path / "work"
    generate(data_dir, people=300, seed=6)
    load(data_dir)
    latest, earlier = dt.date(2026, 10, 31), dt.date(2026, 8, 15)
    run_dbt(["run", "--select", SELECT, *as_of_vars(latest)], data_dir, work_dir)

    cases = [
        ("as_of moves back", as_of_vars(earlier)),
        ("same as_of again", as_of_vars(earlier)),
        ("active threshold changes", as_of_vars(earlier, lifecycle_active_days=45)),
    ]
    for label, args in cases:
        run_dbt(["run", "--select", *AS_OF_MODELS, *args], data_dir, work_dir)
        incremental, purchases = read(data_dir)
        run_dbt(["run", "--select", "customer_lifecycle", "--full-refresh", *args], data_dir, work_dir)
        rebuilt, _ = read(data_dir)
        pd.testing.assert_frame_equal(canonical(incremental), canonical(rebuilt), obj=label)
        # Customers whose purchases all come after the earlier as_of are gone, not left over.
        assert set(incremental["customer_id"]) == set(purchases["customer_id"]), label
        assert incremental["valid_from"].max() <= pd.Timestamp(earlier), label
