"""``repurchase clv-fit`` reproduces the published maximum-likelihood estimates on the CDNOW sample, and
refuses bad input with one line that names the file, the column and what to do."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from dagster_project.cli import main

CDNOW = Path("/work/shared/data/cdnow/CDNOW_sample.txt")
# The oracle: published estimates on CDNOW's 39-week calibration period (1997-01-01 .. 1997-09-30, weeks).
# BG/NBD: Fader, Hardie & Lee (2005), "Counting your customers the easy way: an alternative to the
# Pareto/NBD model", Marketing Science 24(2), 275-284, section 4.
PUBLISHED_BGNBD = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
# Gamma-Gamma: Fader & Hardie, "The Gamma-Gamma model of monetary value" (2013 note; the model of Fader,
# Hardie & Lee 2005, "RFM and CLV", JMR 42(4)), fitted on the mean repeat spend of the 946 customers of
# the same calibration sample with at least one repeat purchase.
PUBLISHED_GAMMA_GAMMA = {"p": 6.25, "q": 3.74, "gamma": 15.44}


@pytest.fixture
def cdnow_csv(tmp_path: Path) -> Path:
    """The CDNOW sample (whitespace-separated: master id, sample id, YYYYMMDD, CDs, dollars) as a CSV."""
    if not CDNOW.exists():
        pytest.skip(f"{CDNOW} is not on this machine")
    frame = pd.read_csv(CDNOW, sep=r"\s+", header=None, names=["master_id", "customer", "date", "cds", "dollars"],
                        dtype={"date": str, "customer": str})  # fmt: skip
    frame["date"] = pd.to_datetime(frame["date"], format="%Y%m%d").dt.strftime("%Y-%m-%d")
    path = tmp_path / "cdnow.csv"
    frame.to_csv(path, index=False)
    return path


def _clv_fit(
    path: Path, *extra: str, customer: str = "customer", date: str = "date", amount: str = "dollars"
) -> list[str]:
    return ["clv-fit", "--transactions", str(path), "--customer-column", customer, "--date-column", date,
            "--amount-column", amount, *extra]  # fmt: skip


def test_cdnow_reproduces_the_published_estimates(
    cdnow_csv: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status = main(_clv_fit(cdnow_csv, "--calibration-end", "1997-09-30", "--time-unit", "week"))
    report = json.loads(capsys.readouterr().out)
    assert status == 0
    assert report["customers"] == 2357 and report["repeat_customers"] == 946
    for name, published in PUBLISHED_BGNBD.items():
        assert report["bgnbd"][name] == pytest.approx(published, rel=0.01), name
    for name, published in PUBLISHED_GAMMA_GAMMA.items():
        assert report["gamma_gamma"][name] == pytest.approx(published, rel=0.01), name
    assert report["bgnbd"]["converged"] and report["gamma_gamma"]["converged"]
    assert report["gamma_gamma"]["customers"] == 946
    # FHL (2005) report the BG/NBD's maximised log-likelihood as -9582.4.
    assert report["bgnbd"]["log_likelihood"] == pytest.approx(-9582.4, abs=0.1)
    assert set(report["bgnbd"]["standard_errors"]) == set(PUBLISHED_BGNBD)
    assert all(se > 0 for se in report["gamma_gamma"]["standard_errors"].values())


def test_missing_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status = main(_clv_fit(tmp_path / "nope.csv", "--calibration-end", "1997-09-30"))
    out = capsys.readouterr().out
    assert status == 2
    assert out.startswith("ERROR: no transactions file at ") and "nope.csv" in out and "Traceback" not in out


def test_missing_column_names_the_file_and_its_columns(
    cdnow_csv: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status = main(_clv_fit(cdnow_csv, "--calibration-end", "1997-09-30", amount="amount"))
    out = capsys.readouterr().out
    assert status == 2
    assert (
        f"ERROR: {cdnow_csv} has no column 'amount' (its columns: master_id, customer, date, cds, dollars)"
        in out
    )
    assert "--amount-column" in out


def test_unreadable_date_names_the_row(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "t.csv"
    path.write_text("c,d,a\n1,2026-01-01,5\n1,2026-13-45,6\n", encoding="utf-8")
    status = main(_clv_fit(path, "--calibration-end", "2026-03-01", customer="c", date="d", amount="a"))
    out = capsys.readouterr().out
    assert status == 2
    assert out.strip() == (
        f"ERROR: {path}: column 'd', row 2 (value '2026-13-45') is not a date (YYYY-MM-DD); 1 such row(s): "
        "fix or drop them"
    )


def test_too_little_data_to_fit(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "t.csv"
    path.write_text("c,d,a\n1,2026-01-01,5\n2,2026-01-02,6\n", encoding="utf-8")
    status = main(_clv_fit(path, "--calibration-end", "2025-12-31", customer="c", date="d", amount="a"))
    assert status == 1
    assert capsys.readouterr().out.strip() == (
        f"ERROR: {path}: the model could not be fitted: no transaction on or before the calibration end 2025-12-31"
    )
