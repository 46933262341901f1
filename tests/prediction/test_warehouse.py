"""The predictive-CLV marts in a warehouse shaped like the dbt marts: what is read, what is written, the
declaration the serving copy publishes them by, and a warehouse too small to fit."""

from __future__ import annotations

import datetime as dt

import duckdb
import pandas as pd
import pytest
import yaml

from core.paths import REPO_ROOT
from prediction.clv import ClvSettings
from prediction.simulate import simulate_transactions
from prediction.warehouse import (
    CLV_HOLDOUT_CHECK,
    CLV_MODEL_FIT,
    CLV_PREDICTED_BY_SEGMENT,
    CUSTOMER_CLV_PREDICTED,
    TABLES,
    refresh_clv_marts,
)

DECLARATION = REPO_ROOT / "dbt" / "models" / "marts" / "repurchase" / "_clv_predicted__sources.yml"
AS_OF = dt.date(2026, 10, 31)
SEGMENTS = {
    0: ("重要价值客户", "important_value", "active"),
    1: ("一般挽留客户", "general_winback", "churned"),
}


def _warehouse(purchases: pd.DataFrame) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute("create schema marts")
    con.execute("create table marts.repurchase_as_of as select date '2026-10-31' as as_of_date")
    con.register("purchases", purchases)
    con.execute(
        "create table marts.repurchase_purchases as select cast(customer_id as varchar) as customer_id, "
        "cast(purchase_date as date) as purchase_date, cast(amount as decimal(18, 2)) as net_amount from purchases"
    )
    # Every customer but the last 10 has an RFM row: even ids one segment, odd the other.
    con.execute(
        "create table marts.customer_rfm as select distinct customer_id, "
        "case when cast(customer_id as integer) % 2 = 0 then ? else ? end as segment, "
        "case when cast(customer_id as integer) % 2 = 0 then ? else ? end as segment_code, "
        "case when cast(customer_id as integer) % 2 = 0 then ? else ? end as lifecycle_stage "
        "from marts.repurchase_purchases where cast(customer_id as integer) < ?",
        [SEGMENTS[0][0], SEGMENTS[1][0], SEGMENTS[0][1], SEGMENTS[1][1], SEGMENTS[0][2], SEGMENTS[1][2],
         purchases["customer_id"].nunique() - 10],
    )  # fmt: skip
    con.execute(
        "create table marts.clv_by_segment as select * from (values ('important_value', 900.0), "
        "('general_winback', 50.0), ('all', 400.0)) as t(segment_code, clv)"
    )
    return con


def _purchases(customers: int) -> pd.DataFrame:
    return simulate_transactions(
        customers, bgnbd_params={"r": 0.9, "alpha": 10.0, "a": 0.8, "b": 2.5},
        gamma_gamma_params={"p": 6.0, "q": 4.0, "gamma": 20.0},
        first_day=dt.date(2025, 1, 1), acquisition_days=365, end_day=AS_OF, seed=4,
    )  # fmt: skip


def _columns(con: duckdb.DuckDBPyConnection, table: str) -> dict[str, str]:
    rows = con.execute(
        "select column_name, lower(data_type) from information_schema.columns where table_schema = 'marts' "
        "and table_name = ? order by ordinal_position",
        [table],
    ).fetchall()
    return dict(rows)


def test_the_tables_are_declared_in_the_marts_yml_column_for_column() -> None:
    declaration = yaml.safe_load(DECLARATION.read_text(encoding="utf-8"))
    (source,) = declaration["sources"]
    assert source["schema"] == "marts"
    declared = {table["name"]: [c["name"] for c in table["columns"]] for table in source["tables"]}
    assert declared == {table: list(columns) for table, columns in TABLES.items()}
    for table in source["tables"]:
        assert all(column.get("description") for column in table["columns"]), table["name"]
        # No personal data: nothing is declared pii (customer_id is the surrogate key).
        assert not any((column.get("meta") or {}).get("pii") for column in table["columns"])


def test_refresh_writes_the_four_marts() -> None:
    purchases = _purchases(3000)
    con = _warehouse(purchases)
    marts = refresh_clv_marts(con, ClvSettings(holdout_days=120))
    assert marts.as_of == AS_OF and marts.problems == []
    for table, columns in TABLES.items():
        assert _columns(con, table) == {name: sql_type for name, sql_type in columns.items()}, table

    predicted = con.execute(f"select * from marts.{CUSTOMER_CLV_PREDICTED}").df()
    assert len(predicted) == purchases["customer_id"].nunique() == 3000
    assert predicted["as_of_date"].eq(pd.Timestamp(AS_OF)).all()
    assert predicted["p_alive"].between(0, 1).all() and (predicted["predicted_clv"] > 0).all()
    assert sorted(predicted["clv_rank"]) == sorted(
        predicted["predicted_clv"].rank(ascending=False, method="min")
    )
    assert predicted["segment"].isna().sum() == 10
    even = predicted["customer_id"].astype(int) % 2 == 0
    assert (predicted.loc[even & predicted["segment"].notna(), "lifecycle_stage"] == "active").all()

    by_segment = (
        con.execute(f"select * from marts.{CLV_PREDICTED_BY_SEGMENT}")
        .df()
        .set_index(["dimension", "dimension_value"])
    )
    overall = by_segment.loc[("overall", "all")]
    assert overall["customers"] == 3000 and overall["heuristic_clv"] == 400.0
    assert overall["predicted_clv_total"] == pytest.approx(predicted["predicted_clv"].sum())
    value = by_segment.loc[("rfm_segment", SEGMENTS[0][0])]
    assert value["customers"] == int((even & predicted["segment"].notna()).sum())
    assert value["heuristic_clv"] == 900.0 and value["segment_code"] == "important_value"
    stage = by_segment.loc[("lifecycle_stage", "churned")]
    assert pd.isna(stage["heuristic_clv"])
    assert stage["customers"] == int((~even & predicted["segment"].notna()).sum())
    assert stage["mean_p_alive"] == pytest.approx(
        predicted.loc[predicted["lifecycle_stage"] == "churned", "p_alive"].mean()
    )

    fit = con.execute(f"select fit, model, parameter, converged from marts.{CLV_MODEL_FIT}").fetchall()
    assert sorted((f, m, p) for f, m, p, _ in fit) == sorted(
        [("as_of", "bgnbd", p) for p in ("r", "alpha", "a", "b")]
        + [("as_of", "gamma_gamma", p) for p in ("p", "q", "gamma")]
        + [("holdout_calibration", "bgnbd", p) for p in ("r", "alpha", "a", "b")]
    )
    assert all(converged for *_, converged in fit)
    sections = dict(
        con.execute(f"select section, count(*) from marts.{CLV_HOLDOUT_CHECK} group by section").fetchall()
    )
    assert sections["total"] == 1 and sections["by_calibration_frequency"] == 8 and sections["tracking"] > 50


def test_a_warehouse_too_small_to_fit_gets_empty_tables_and_the_reason() -> None:
    purchases = pd.DataFrame(
        {
            "customer_id": ["1", "1"],
            "purchase_date": [dt.date(2026, 10, 1), dt.date(2026, 10, 1)],
            "amount": [5.0, 6.0],
        }
    )
    con = _warehouse(purchases)
    marts = refresh_clv_marts(con, ClvSettings())
    assert any("too few to fit the spend model" in problem for problem in marts.problems)
    assert any("no per-customer predictions written" in problem for problem in marts.problems)
    assert con.execute(f"select count(*) from marts.{CUSTOMER_CLV_PREDICTED}").fetchone()[0] == 0
    assert con.execute(f"select bool_or(converged) from marts.{CLV_MODEL_FIT}").fetchone()[0] is False
    reasons = con.execute(
        f"select fit, model, warnings from marts.{CLV_MODEL_FIT} where parameter is null order by fit, model"
    ).fetchall()
    assert [(fit, model) for fit, model, _ in reasons] == [
        ("as_of", "gamma_gamma"), ("holdout_calibration", "bgnbd"),
    ]  # fmt: skip
    assert con.execute(f"select count(*) from marts.{CLV_HOLDOUT_CHECK}").fetchone()[0] == 0
