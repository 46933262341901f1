"""The ``churn_risk`` trigger (自动化触达, predictive): a valuable customer whose probability of being alive
(``marts.customer_clv_predicted.p_alive``) fell below a var and who fired no other trigger on as_of.

p_alive is written by the predictive-CLV asset after dbt build, so a dbt model cannot read today's value:
this step runs after that asset and writes ``marts.activation_triggers_churn_risk`` with the columns of
``marts.activation_triggers`` (declared as a source in dbt/models/marts/repurchase/_clv_predicted__sources.yml
so the serving copy publishes it). The trigger exports union it with the dbt triggers, so its sent rows land
in the same per-channel restricted files and in ``raw._touch_send_log``.

The send rules are written once, in the dbt model ``intermediate.int_touch_eligibility``
(dbt/models/intermediate/activation/int_touch_eligibility.sql), which activation_triggers reads too: per
customer, the channel (first preferred reachable, unsuppressed channel), the reason before the cap
(control_group, unreachable, unsubscribed / complained / bounced / failed) and the touches the frequency
cap leaves (``cap_touches_left``). Its population includes every customer with a purchase, hence every
row of ``customer_clv_predicted``. This step keeps only its own selection and the cap comparison of its
one touch: the customer fired no other trigger today, so churn_risk is the day's first touch (k = 1) and
hits frequency_cap when ``cap_touches_left`` < 1; daily_limit cannot apply.

Valuable (a choice, DECISIONLOG): RFM segment_code ``important_*`` or clv_rank within the top
``trigger_churn_risk_top_clv_share`` of customer_clv_predicted.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import duckdb
import pandas as pd

from core.warehouse import MARTS_SCHEMA as MARTS

TRIGGER_CODE = "churn_risk"
CHURN_RISK_TABLE = "activation_triggers_churn_risk"
INTERMEDIATE = "intermediate"
ELIGIBILITY_TABLE = "int_touch_eligibility"  # dbt: the send rules, shared with activation_triggers


@dataclass(frozen=True)
class ChurnRiskSettings:
    max_p_alive: float
    top_clv_share: float
    priority: int  # after every dbt trigger

    @classmethod
    def from_project(cls, project_var: Callable[[str], Any]) -> ChurnRiskSettings:
        """From the vars of the dbt project, read by ``project_var`` (``transform.dbt.project_var``: the
        wiring passes it in, this layer does not import the dbt runner)."""
        priority = list(project_var("trigger_priority"))
        return cls(
            max_p_alive=float(project_var("trigger_churn_risk_max_p_alive")),
            top_clv_share=float(project_var("trigger_churn_risk_top_clv_share")),
            priority=len(priority) + 1,
        )


# $1 max_p_alive, $2 top_clv_share, $3 priority
_CHURN_RISK_SQL = f"""
with
as_of as (select as_of_date from {MARTS}.repurchase_as_of),
clv as (
    select *, count(*) over () as n_customers from {MARTS}.customer_clv_predicted
),
fired as (
    select
        clv.customer_id,
        'p_alive ' || printf('%.3f', clv.p_alive) || ' < ' || printf('%.3f', $1::double)
            || case when rfm.segment_code like 'important\\_%' escape '\\' then ', segment ' || rfm.segment_code
                else ', clv_rank ' || clv.clv_rank end as fired_reason
    from clv
    left join {MARTS}.customer_rfm as rfm
        on rfm.customer_id = clv.customer_id
    where clv.p_alive < $1::double
        and (
            rfm.segment_code like 'important\\_%' escape '\\'
            or clv.clv_rank <= ceil($2::double * clv.n_customers)
        )
        and clv.customer_id not in (
            select customer_id from {MARTS}.activation_triggers where customer_id is not null
        )
),
decided as (
    select
        -- a fired customer without a row of the send rules would otherwise vanish from the day's list
        coalesce(
            eligibility.customer_id,
            error('churn_risk: customer ' || fired.customer_id || ' fired but has no row in '
                || '{INTERMEDIATE}.{ELIGIBILITY_TABLE} (the send rules): that model was built from other data '
                || 'than customer_clv_predicted; run the whole job (repurchase run) so both read the same orders')
        ) as customer_id,
        fired.fired_reason,
        eligibility.channel,
        eligibility.prior_touches_in_cap_window as prior_touches,
        case
            when eligibility.pre_cap_suppressed_reason is not null then eligibility.pre_cap_suppressed_reason
            -- the day's first touch of the customer (no other trigger fired today)
            when 1 > eligibility.cap_touches_left then 'frequency_cap'
        end as suppressed_reason
    from fired
    left join {INTERMEDIATE}.{ELIGIBILITY_TABLE} as eligibility
        on eligibility.customer_id = fired.customer_id
)
select
    cast(decided.customer_id as varchar) as customer_id,
    cast(as_of.as_of_date as date) as as_of_date,
    cast('{TRIGGER_CODE}' as varchar) as trigger_code,
    cast($3 as integer) as trigger_priority,
    cast(decided.fired_reason as varchar) as fired_reason,
    cast(rfm.segment as varchar) as segment,
    cast(rfm.segment_code as varchar) as segment_code,
    cast(rfm.lifecycle_stage as varchar) as lifecycle_stage,
    cast(rfm.recommended_action as varchar) as recommended_action,
    cast(null as varchar) as member_tier,
    cast(customers.points as integer) as points,
    cast(null as varchar) as last_channel,
    cast(null as varchar) as last_store,
    cast(null as varchar) as last_product,
    cast(customers.phone_hash as varchar) as phone_hash,
    cast(decided.prior_touches as integer) as prior_touches_in_cap_window,
    cast(case when decided.suppressed_reason is null then decided.channel end as varchar) as channel,
    cast(decided.suppressed_reason is null as boolean) as is_sent,
    cast(decided.suppressed_reason as varchar) as suppressed_reason
from decided
cross join as_of
left join {MARTS}.customer_rfm as rfm on rfm.customer_id = decided.customer_id
left join {MARTS}.dim_customers as customers on customers.customer_id = decided.customer_id
order by decided.customer_id
"""


def _parameters(settings: ChurnRiskSettings) -> list[object]:
    return [
        settings.max_p_alive,
        settings.top_clv_share,
        settings.priority,
    ]


def churn_risk_triggers(con: duckdb.DuckDBPyConnection, settings: ChurnRiskSettings) -> pd.DataFrame:
    """The day's churn_risk rows (columns of marts.activation_triggers), without writing them."""
    return con.execute(_CHURN_RISK_SQL, _parameters(settings)).df()


def refresh_churn_risk_triggers(
    con: duckdb.DuckDBPyConnection, settings: ChurnRiskSettings
) -> pd.DataFrame:
    """Replace ``marts.activation_triggers_churn_risk`` with the day's churn_risk rows; return them."""
    con.execute(
        f"create or replace table {MARTS}.{CHURN_RISK_TABLE} as {_CHURN_RISK_SQL}", _parameters(settings)
    )
    return con.execute(f"select * from {MARTS}.{CHURN_RISK_TABLE} order by customer_id").df()
