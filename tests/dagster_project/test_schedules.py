"""The daily schedule: 06:00 Beijing time over the whole refresh job."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from dagster import build_schedule_context

from dagster_project.jobs import REFRESH_ALL
from dagster_project.schedules import daily_refresh_schedule


def test_schedule_runs_refresh_all_daily_at_six_beijing_time() -> None:
    assert daily_refresh_schedule.cron_schedule == "0 6 * * *"
    assert daily_refresh_schedule.execution_timezone == "Asia/Shanghai"
    assert daily_refresh_schedule.job_name == REFRESH_ALL


def test_schedule_tick_requests_one_run() -> None:
    tick = dt.datetime(2026, 11, 1, 6, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
    context = build_schedule_context(scheduled_execution_time=tick)
    data = daily_refresh_schedule.evaluate_tick(context)
    assert data.skip_message is None
    assert len(data.run_requests) == 1


def test_next_ticks_are_22_utc_the_day_before() -> None:
    from dagster._utils.schedules import cron_string_iterator

    start = dt.datetime(2026, 11, 1, 0, 0, tzinfo=dt.UTC).timestamp()
    ticks = cron_string_iterator(
        start, daily_refresh_schedule.cron_schedule, daily_refresh_schedule.execution_timezone
    )
    first, second = next(ticks), next(ticks)
    # Shanghai is UTC+8 all year: 06:00 there is 22:00 UTC on the previous day.
    assert first.astimezone(dt.UTC) == dt.datetime(2026, 11, 1, 22, 0, tzinfo=dt.UTC)
    assert second.astimezone(dt.UTC) == dt.datetime(2026, 11, 2, 22, 0, tzinfo=dt.UTC)
