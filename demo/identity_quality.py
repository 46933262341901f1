"""Pairwise precision / recall of the resolved customers against the generator's ground truth.

Universe: the ground-truth identifiers (identifier_type, identifier_value, person_id). Each gets its
predicted customer from ``intermediate.int_customer_identifiers``; an identifier the warehouse did not
resolve (absent, rejected or a hub) is its own singleton. Pair counts come from cluster sizes
(n choose 2 per cluster), never by enumerating pairs.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

import duckdb


@dataclass(frozen=True)
class QualityReport:
    truth_identifiers: int
    resolved_identifiers: int
    true_people: int
    predicted_clusters: int
    warehouse_customers: int
    true_pairs: int
    predicted_pairs: int
    correct_pairs: int
    precision: float
    recall: float
    impure_clusters: int
    placeholder_phones_resolved: int
    people_joined_through_placeholder: int
    warehouse_identifiers_unknown_to_truth: int

    def as_dict(self) -> dict[str, float | int]:
        return asdict(self)


def _pairs(column: str) -> str:
    return f"coalesce(sum({column} * ({column} - 1) // 2), 0)::hugeint"


def identity_quality(con: duckdb.DuckDBPyConnection, ground_truth: Path) -> QualityReport:
    """Compare the warehouse's identity resolution (open connection) with ``ground_truth``'s parquet files."""
    identifiers_path = ground_truth / "identifiers.parquet"
    placeholders_path = ground_truth / "placeholder_phones.parquet"
    for path in (identifiers_path, placeholders_path):
        if not path.is_file():
            raise FileNotFoundError(f"ground truth file missing: {path}")
    con.execute(
        """
        create or replace temp table _quality_truth as
        select
            t.identifier_type || ':' || t.identifier_value as identifier_key,
            cast(t.person_id as varchar) as person_id,
            coalesce(p.customer_id, 'unresolved:' || t.identifier_type || ':' || t.identifier_value) as cluster_id,
            p.customer_id is not null as resolved
        from read_parquet(?) as t
        left join intermediate.int_customer_identifiers as p
            on p.identifier_key = t.identifier_type || ':' || t.identifier_value
        """,
        [str(identifiers_path)],
    )
    row = con.execute(
        f"""
        with
        by_cluster as (select cluster_id, count(*) as n from _quality_truth group by cluster_id),
        by_person as (select person_id, count(*) as n from _quality_truth group by person_id),
        by_cell as (select cluster_id, person_id, count(*) as n from _quality_truth group by cluster_id, person_id),
        impure as (
            select count(*) as n from (
                select cluster_id from _quality_truth group by cluster_id having count(distinct person_id) > 1
            ) as x
        )
        select
            (select count(*) from _quality_truth),
            (select count(*) filter (where resolved) from _quality_truth),
            (select count(*) from by_person),
            (select count(*) from by_cluster),
            (select {_pairs('n')} from by_person),
            (select {_pairs('n')} from by_cluster),
            (select {_pairs('n')} from by_cell),
            (select n from impure)
        """
    ).fetchone()
    total, resolved, people, clusters, true_pairs, predicted_pairs, correct_pairs, impure = row
    warehouse_customers = con.execute(
        "select count(distinct customer_id) from intermediate.int_customer_identifiers"
    ).fetchone()[0]
    unknown = con.execute(
        """
        select count(*) from intermediate.int_customer_identifiers as p
        anti join _quality_truth as t using (identifier_key)
        """
    ).fetchone()[0]
    placeholder_resolved, joined_through = con.execute(
        """
        with placeholders as (
            select 'phone:' || cast(value as varchar) as identifier_key from read_parquet(?)
        ),
        resolved_placeholders as (
            select p.identifier_key, p.customer_id
            from intermediate.int_customer_identifiers as p
            inner join placeholders using (identifier_key)
        ),
        people_per_customer as (
            select r.customer_id, count(distinct t.person_id) as people
            from resolved_placeholders as r
            inner join _quality_truth as t on t.cluster_id = r.customer_id
            group by r.customer_id
        )
        select
            (select count(*) from resolved_placeholders),
            (select count(*) from people_per_customer where people > 1)
        """,
        [str(placeholders_path)],
    ).fetchone()
    con.execute("drop table if exists _quality_truth")
    return QualityReport(
        truth_identifiers=int(total),
        resolved_identifiers=int(resolved),
        true_people=int(people),
        predicted_clusters=int(clusters),
        warehouse_customers=int(warehouse_customers),
        true_pairs=int(true_pairs),
        predicted_pairs=int(predicted_pairs),
        correct_pairs=int(correct_pairs),
        precision=float(correct_pairs / predicted_pairs) if predicted_pairs else 1.0,
        recall=float(correct_pairs / true_pairs) if true_pairs else 1.0,
        impure_clusters=int(impure),
        placeholder_phones_resolved=int(placeholder_resolved),
        people_joined_through_placeholder=int(joined_through),
        warehouse_identifiers_unknown_to_truth=int(unknown),
    )
