"""repurchase_as_of stops the build, with a message, for an as_of outside the data (the CLI refuses it
earlier; this is the backstop for runs launched elsewhere, e.g. the Dagster launchpad)."""

from __future__ import annotations

import duckdb
import pytest

from transform.dbt import run_dbt


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
    """fct_orders with purchases on 2025-01-15 and 2025-03-01 (the model reads only it)."""
    root = tmp_path_factory.mktemp("as_of_bounds") / "data"
    root.mkdir()
    with duckdb.connect(str(root / "warehouse.duckdb")) as con:
        con.execute("create schema marts")
        con.execute(
            "create table marts.fct_orders (order_key varchar, ordered_at timestamp, is_purchase boolean)"
        )
        con.execute(
            "insert into marts.fct_orders values ('o0', '2025-01-15 09:00', true), "
            "('o1', '2025-03-01 10:00', true), ('o2', '2026-01-01 10:00', false)"
        )
    return root


@pytest.mark.parametrize(
    ("as_of", "message"),
    [
        ("2025-01-14", "as_of 2025-01-14 is before the first purchase (2025-01-15)"),
        # 2025-03-01 + 180 days = 2025-08-28 is allowed; the day after is not
        ("2025-08-29", "as_of 2025-08-29 is more than 180 days after the newest purchase (2025-03-01)"),
    ],
)
def test_an_as_of_outside_the_data_stops_the_model(data_dir, tmp_path, as_of, message) -> None:
    run = run_dbt(
        ["run", "--select", "repurchase_as_of", "--vars", f"{{as_of: '{as_of}'}}"],
        data_dir=data_dir,
        target_path=tmp_path / "target",
        check=False,
    )
    assert not run.success
    assert message in run.output


def test_the_bounds_themselves_build(data_dir, tmp_path) -> None:
    for day, as_of in enumerate(("2025-01-15", "2025-08-28")):
        run = run_dbt(
            ["run", "--select", "repurchase_as_of", "--vars", f"{{as_of: '{as_of}'}}"],
            data_dir=data_dir,
            target_path=tmp_path / "target",
        )
        assert run.success
        # as_of travels as an env var (transform.dbt.split_as_of): a new day is no reason to parse the
        # whole project again. (The first command in a fresh target folder may parse in full when no
        # earlier parse of this session is there to start from: that depends on the order tests run in.)
        if day > 0:
            assert "Unable to do partial parsing" not in run.output
        with duckdb.connect(str(data_dir / "warehouse.duckdb"), read_only=True) as con:
            assert con.execute(
                "select cast(as_of_date as varchar), as_of_source from marts.repurchase_as_of"
            ).fetchall() == [(as_of, "var")]
