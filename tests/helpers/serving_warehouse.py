"""A hand-written warehouse for the serving tests: version k of the marts is recognisable from its data.

Version k has ``marts.fct_a`` with 100*k rows all of value k and ``marts.fct_b`` with k rows all of value
7*k, so a reader can tell from the data alone which version it reads and whether both tables come from
the same one; raw / restricted hold personal data and a mart has a masked phone and an address.
``DECLARED_COLUMNS`` is what a dbt yml would declare about those marts (the publisher's ``columns``).
"""

from __future__ import annotations

from pathlib import Path

import duckdb

# {table: {column: personal data?}} for the hand-written marts: the masked phone and the address are.
DECLARED_COLUMNS = {
    "fct_a": {"v": False},
    "fct_b": {"v": False},
    "dim_customers": {"customer_id": False, "phone_masked": True, "phone_hash": False, "address_line": True},
}


def write_warehouse(path: Path, k: int) -> None:
    """Version k of a warehouse with every layer, PII in raw/restricted and a masked phone in a mart."""
    con = duckdb.connect(str(path))
    try:
        for schema in ("raw", "staging", "intermediate", "restricted", "marts"):
            con.execute(f"create schema if not exists {schema}")
        con.execute("create or replace table raw.pos (receipt_no varchar, phone varchar)")
        con.execute("insert into raw.pos values ('R1', '13800138000')")
        con.execute("create or replace view staging.stg_pos as select * from raw.pos")
        con.execute("create or replace table intermediate.int_x as select 1 as x")
        con.execute("create or replace table restricted.customer_pii (customer_id varchar, phone varchar)")
        con.execute("insert into restricted.customer_pii values ('C1', '13800138000')")
        con.execute("create or replace table marts.fct_a as select ? as v from range(?)", [k, 100 * k])
        con.execute("create or replace table marts.fct_b as select ? as v from range(?)", [7 * k, k])
        con.execute(
            "create or replace table marts.dim_customers as select 'C1' as customer_id, "
            "'138****8000' as phone_masked, 'ab12' as phone_hash, 'Shanghai Rd 1' as address_line"
        )
    finally:
        con.close()
