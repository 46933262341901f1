"""What a run reported, in plain data (no Dagster import): the CLI prints it, whether the run just
happened (:mod:`dagster_project.runner`) or was not needed (:mod:`dagster_project.unchanged`)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class SourceLoad:
    """What the ingestion asset of one source reported in this run."""

    source: str
    new_files: int = 0
    files_already_loaded: int = 0
    files_rejected: int = 0
    rows_loaded: int = 0
    rows_quarantined: int = 0
    table_rows: int | None = None
    rejected: list[dict[str, str]] = field(default_factory=list)


@dataclass
class RunOutcome:
    run_id: str
    success: bool
    failed_steps: dict[str, str]  # step key -> error message
    loads: dict[str, SourceLoad]
    checks_passed: int
    checks_failed: list[str]  # "<asset> <check> (<severity>)"
