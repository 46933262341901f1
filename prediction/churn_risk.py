"""The ``churn_risk`` trigger (自动化触达, predictive): a valuable customer whose probability of being alive
(``marts.customer_clv_predicted.p_alive``) fell below a var and who fired no other trigger on as_of.

p_alive is written by the predictive-CLV asset after dbt build, so a dbt model cannot read today's value:
this step runs after that asset and writes ``marts.activation_triggers_churn_risk`` with the columns of
``marts.activation_triggers`` (declared as a source in dbt/models/marts/repurchase/_clv_predicted__sources.yml
so the serving copy publishes it). The trigger exports union it with the dbt triggers, so its sent rows land
in the same per-channel restricted files and in ``raw._touch_send_log``.

The send rules are the mart's (dbt/models/marts/activation/activation_triggers.sql), restated in one
parameterised query over the same inputs:

1. control_group: in a campaign holdout whose window is open on as_of;
2. unreachable: no channel of touch_channel_preference reaches the customer;
3. unsubscribed / complained / bounced / failed: every reachable channel suppressed (reason of the first
   preferred reachable channel);
4. frequency_cap: touch_cap_touches touches in the touch_cap_days days ending as_of are used up by earlier
   days' send log and campaign sends. The customer fired no other trigger today, so no touch of today
   counts and daily_limit cannot apply.

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


@dataclass(frozen=True)
class ChurnRiskSettings:
    max_p_alive: float
    top_clv_share: float
    channel_preference: tuple[str, ...]
    cap_days: int
    cap_touches: int
    failure_suppress_days: int
    priority: int  # after every dbt trigger

    @classmethod
    def from_project(cls, project_var: Callable[[str], Any]) -> ChurnRiskSettings:
        """From the vars of the dbt project, read by ``project_var`` (``transform.dbt.project_var``: the
        wiring passes it in, this layer does not import the dbt runner)."""
        priority = list(project_var("trigger_priority"))
        return cls(
            max_p_alive=float(project_var("trigger_churn_risk_max_p_alive")),
            top_clv_share=float(project_var("trigger_churn_risk_top_clv_share")),
            channel_preference=tuple(project_var("touch_channel_preference")),
            cap_days=int(project_var("touch_cap_days")),
            cap_touches=int(project_var("touch_cap_touches")),
            failure_suppress_days=int(project_var("touch_delivery_failure_suppress_days")),
            priority=len(priority) + 1,
        )


# $1 max_p_alive, $2 top_clv_share, $3 channel preference (list), $4 cap_days, $5 cap_touches,
# $6 failure_suppress_days, $7 priority
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
emails as (
    select distinct customer_id from intermediate.int_customer_identifiers where identifier_type = 'email'
),
options as (
    select fired.customer_id, channels.channel, list_position($3::varchar[], channels.channel) as preference_rank
    from fired
    inner join {MARTS}.dim_customers as customers
        on customers.customer_id = fired.customer_id
    left join emails
        on emails.customer_id = fired.customer_id
    cross join (select unnest($3::varchar[]) as channel) as channels
    where (channels.channel = 'wecom' and coalesce(customers.wecom_friend, false))
        or (channels.channel = 'sms' and coalesce(customers.phone_hash is not null and customers.sms_consent, false))
        or (channels.channel = 'email' and emails.customer_id is not null)
),
channel_suppressions as (
    select
        events.customer_id,
        events.channel,
        min(case events.event_type
            when 'unsubscribed' then '1unsubscribed' when 'complained' then '2complained'
            when 'bounced' then '3bounced' else '4failed'
        end) as ranked_reason
    from {MARTS}.fct_touch_events as events
    cross join as_of
    where events.customer_id is not null
        and events.event_date <= as_of.as_of_date
        and (
            events.event_type in ('unsubscribed', 'complained')
            or (
                events.event_type in ('bounced', 'failed')
                and events.event_date > as_of.as_of_date - cast($6 as integer)
            )
        )
    group by all
),
channel_choice as (
    select
        options.customer_id,
        arg_min(options.channel, options.preference_rank)
            filter (where channel_suppressions.ranked_reason is null) as channel,
        substr(arg_min(channel_suppressions.ranked_reason, options.preference_rank), 2) as first_suppressed_reason
    from options
    left join channel_suppressions
        on channel_suppressions.customer_id = options.customer_id
        and channel_suppressions.channel = options.channel
    group by options.customer_id
),
control_groups as (
    select distinct assignments.customer_id
    from {MARTS}.campaign_assignments as assignments
    cross join as_of
    where assignments.is_control
        and cast(assignments.first_touch_at as date) <= as_of.as_of_date
        and cast(assignments.window_end_at as date) >= as_of.as_of_date
),
prior_touches as (
    select customer_id, count(*) as touches
    from (
        select send_log.customer_id
        from raw._touch_send_log as send_log
        cross join as_of
        where send_log.as_of_date < as_of.as_of_date
            and send_log.as_of_date > as_of.as_of_date - cast($4 as integer)
        union all
        select events.customer_id
        from {MARTS}.fct_touch_events as events
        cross join as_of
        where events.event_type = 'sent'
            and not events.is_control
            and events.customer_id is not null
            and events.event_date <= as_of.as_of_date
            and events.event_date > as_of.as_of_date - cast($4 as integer)
    ) as touches
    group by customer_id
),
decided as (
    select
        fired.customer_id,
        fired.fired_reason,
        channel_choice.channel,
        coalesce(prior_touches.touches, 0) as prior_touches,
        case
            when control_groups.customer_id is not null then 'control_group'
            when channel_choice.customer_id is null then 'unreachable'
            when channel_choice.channel is null then channel_choice.first_suppressed_reason
            when coalesce(prior_touches.touches, 0) >= $5::integer then 'frequency_cap'
        end as suppressed_reason
    from fired
    left join control_groups on control_groups.customer_id = fired.customer_id
    left join channel_choice on channel_choice.customer_id = fired.customer_id
    left join prior_touches on prior_touches.customer_id = fired.customer_id
)
select
    cast(decided.customer_id as varchar) as customer_id,
    cast(as_of.as_of_date as date) as as_of_date,
    cast('{TRIGGER_CODE}' as varchar) as trigger_code,
    cast($7 as integer) as trigger_priority,
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
        list(settings.channel_preference),
        settings.cap_days,
        settings.cap_touches,
        settings.failure_suppress_days,
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
