"""Shared by the repurchase-mart tests: the lifecycle thresholds the dbt project runs with by default."""

from __future__ import annotations

# As in dbt_project.yml's vars (the tests run with the project's defaults).
NEW_DAYS, ACTIVE_DAYS, SILENT_DAYS, LOYAL_TENURE, LOYAL_PURCHASES = 7, 30, 90, 180, 3
