"""Daily refresh at 06:00 Beijing time, before the business day starts."""

from __future__ import annotations

from dagster import DefaultScheduleStatus, ScheduleDefinition

from .jobs import refresh_all_job

DAILY_CRON = "0 6 * * *"
TIMEZONE = "Asia/Shanghai"

daily_refresh_schedule = ScheduleDefinition(
    name="daily_refresh",
    job=refresh_all_job,
    cron_schedule=DAILY_CRON,
    execution_timezone=TIMEZONE,
    default_status=DefaultScheduleStatus.STOPPED,
    description="Refresh everything every day at 06:00 Asia/Shanghai (turn it on in the UI).",
)
