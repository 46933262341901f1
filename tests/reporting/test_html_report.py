"""The HTML report of the refreshed demo (tests/helpers/refreshed_demo.py): written into the serving
version beside the marts it was drawn from, offline, its segment-mix chart equal to the mart, every
chart drawn in headless chromium without errors (`repurchase report`: tests/dagster_project/test_report_cli.py)."""

from __future__ import annotations

import json
import os
import shutil
import stat
import warnings
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from reporting.html_report import DOCS_FILE, QUALITY_FILE, REPORT_FILE, build_sections, read_quality
from serving.publish import MANIFEST, PARQUET_DIR, SERVING_DB, VERSIONS_DIR
from tests.helpers.headless_chromium import CHROMIUM, RENDERED, render_state, screenshot

pytestmark = pytest.mark.e2e

# Every chart the report draws (an empty section would show a note instead of its chart).
CHART_IDS = {
    "kpi_trends", "channel_repurchase", "channel_aov", "segment_customers", "segment_revenue", "segment_stage",
    "lifecycle_daily", "lifecycle_sankey", "cohort_retention", "campaign_funnel", "ab_uplift", "tiers",
    "tier_vs_level", "audiences", "triggers", "p_alive", "holdout_tracking", "holdout_conditional", "quality_files",
    "identified_share",
}  # fmt: skip


@pytest.fixture(scope="module")
def version_dir(refreshed_demo) -> Path:
    assert refreshed_demo.serving_version, "the refreshed demo published no serving version"
    return refreshed_demo.paths.serving / VERSIONS_DIR / refreshed_demo.serving_version


def test_the_report_is_published_with_its_marts(version_dir: Path) -> None:
    report = version_dir / REPORT_FILE
    assert report.is_file()
    assert not report.stat().st_mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH), (
        "published files are read-only"
    )
    manifest = json.loads((version_dir / MANIFEST).read_text(encoding="utf-8"))
    assert manifest["files"] == {
        name: f"{VERSIONS_DIR}/{version_dir.name}/{name}" for name in (DOCS_FILE, QUALITY_FILE, REPORT_FILE)
    }
    # dbt's static docs beside the report (self-contained too), linked from the report's header.
    docs = (version_dir / DOCS_FILE).read_text(encoding="utf-8")
    assert "<script src=" not in docs and "repurchase_report" in docs
    assert f'<a href="{DOCS_FILE}">' in report.read_text(encoding="utf-8")
    text = report.read_text(encoding="utf-8")
    # Offline: plotly's bundle inlined, no script or stylesheet loaded from anywhere (the bundle names
    # cdn.plot.ly only as the default place of geo maps, which the report does not draw).
    assert "<script src=" not in text and "<link " not in text
    assert len(text) > 3_000_000  # plotly.min.js alone is ~4.6 MB
    # Chinese labels are data: the segment names of the mart appear in the page.
    assert "重要价值客户" in text or "\\u91cd\\u8981\\u4ef7\\u503c" in text
    quality = json.loads((version_dir / QUALITY_FILE).read_text(encoding="utf-8"))
    assert {row["source"] for row in quality["files"]} == {
        "pos",
        "tmall",
        "jd",
        "wechat_members",
        "wechat_pay",
        "touches",
    }
    gx_gates = [gate for gate in quality["gates"] if ":gx_raw__" in gate["name"]]
    assert len(gx_gates) == 6 and all(gate["passed"] for gate in gx_gates)


def test_segment_mix_chart_equals_the_mart(version_dir: Path) -> None:
    """The bars of the segment-mix charts, against customer_rfm's Parquet file read by pandas."""
    rfm = pd.read_parquet(version_dir / PARQUET_DIR / "customer_rfm.parquet")
    expected_customers = rfm.groupby("segment").size().to_dict()
    expected_revenue = rfm.groupby("segment")["monetary"].sum().to_dict()
    assert sum(expected_customers.values()) == len(rfm) > 0

    con = duckdb.connect(str(version_dir / SERVING_DB), read_only=True)
    try:
        sections = build_sections(con, read_quality(version_dir))
        charts = {chart.chart_id: chart for section in sections for chart in section.charts}
    finally:
        con.close()
    assert set(charts) == CHART_IDS
    assert all(chart.figure is not None for chart in charts.values()), [
        (chart.chart_id, chart.note) for chart in charts.values() if chart.figure is None
    ]
    customers = charts["segment_customers"].figure.data[0]
    assert dict(zip(customers.y, (int(x) for x in customers.x), strict=True)) == expected_customers
    shares = [float(text.rstrip("%")) / 100 for text in customers.text]
    assert shares == pytest.approx([n / len(rfm) for n in customers.x], abs=0.005)
    revenue = charts["segment_revenue"].figure.data[0]
    got = dict(zip(revenue.y, revenue.x, strict=True))
    assert got.keys() == expected_revenue.keys()
    for segment, value in expected_revenue.items():
        assert float(got[segment]) == pytest.approx(float(value), abs=0.01), segment


def _trigger_bars(chart) -> dict[tuple[str, str], int]:
    return {
        (code, trace.name): int(count)
        for trace in chart.figure.data
        for code, count in zip(trace.x, trace.y, strict=True)
    }


def _expected_trigger_bars(triggers: pd.DataFrame) -> dict[tuple[str, str], int]:
    outcome = triggers["channel"].where(triggers["is_sent"], "suppressed: " + triggers["suppressed_reason"])
    return {key: int(n) for key, n in triggers.groupby([triggers["trigger_code"], outcome]).size().items()}


def test_triggers_chart_equals_the_marts(version_dir: Path) -> None:
    """The trigger bars against activation_triggers and activation_triggers_churn_risk read by pandas."""
    parquet = version_dir / PARQUET_DIR
    triggers = pd.concat(
        [
            pd.read_parquet(parquet / f"{table}.parquet")
            for table in ("activation_triggers", "activation_triggers_churn_risk")
        ]
    )
    con = duckdb.connect(str(version_dir / SERVING_DB), read_only=True)
    try:
        charts = {chart.chart_id: chart for section in build_sections(con) for chart in section.charts}
    finally:
        con.close()
    assert _trigger_bars(charts["triggers"]) == _expected_trigger_bars(triggers)


def test_triggers_chart_on_hand_made_marts() -> None:
    """Hand-counted: birthday 2 wecom + 1 frequency_cap; churn_risk 1 sms + 2 unreachable (its row of an
    earlier as_of is not today's)."""
    con = duckdb.connect()
    con.execute("create table repurchase_as_of as select date '2026-06-30' as as_of_date")
    con.execute("""
        create table activation_triggers as select * from (values
            ('c1', 'birthday', 'wecom', true, null), ('c2', 'birthday', 'wecom', true, null),
            ('c3', 'birthday', null, false, 'frequency_cap')
        ) as t(customer_id, trigger_code, channel, is_sent, suppressed_reason)
    """)
    con.execute("""
        create table activation_triggers_churn_risk as select * from (values
            ('c4', date '2026-06-30', 'churn_risk', 'sms', true, null),
            ('c5', date '2026-06-30', 'churn_risk', null, false, 'unreachable'),
            ('c6', date '2026-06-30', 'churn_risk', null, false, 'unreachable'),
            ('c7', date '2026-06-29', 'churn_risk', 'sms', true, null)
        ) as t(customer_id, as_of_date, trigger_code, channel, is_sent, suppressed_reason)
    """)
    charts = {chart.chart_id: chart for section in build_sections(con) for chart in section.charts}
    con.close()
    assert _trigger_bars(charts["triggers"]) == {
        ("birthday", "wecom"): 2,
        ("birthday", "suppressed: frequency_cap"): 1,
        ("churn_risk", "sms"): 1,
        ("churn_risk", "suppressed: unreachable"): 2,
    }


def test_every_chart_renders_in_headless_chromium(version_dir: Path, tmp_path: Path) -> None:
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is not installed (.ci/run installs Debian's chromium when apt works)")
    page = tmp_path / REPORT_FILE
    shutil.copyfile(version_dir / REPORT_FILE, page)
    state = render_state(page, tmp_path / "chromium")
    assert state.state == RENDERED, (state, state.stderr[-2000:])
    assert state.errors == "", state.errors
    assert "Uncaught" not in state.stderr, state.stderr[-2000:]
    assert state.charts == state.charts_rendered == len(CHART_IDS)
    assert sorted(state.rendered_ids) == sorted(CHART_IDS)
    assert state.unrendered_ids == []

    shot = screenshot(
        page, tmp_path / "chromium", tmp_path / "report.png", budget_ms=state.budget_ms, height=1400
    )
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert len(data) > 50_000, len(data)  # a blank page compresses to a few kB
    if artifacts := os.environ.get("REPURCHASE_REPORT_SCREENSHOT"):
        shutil.copyfile(shot, artifacts)
    if not any("CJK" in line or "WenQuanYi" in line for line in _fonts()):
        warnings.warn("no CJK font installed: Chinese labels render as boxes in the screenshot", stacklevel=1)


def _fonts() -> list[str]:
    import subprocess

    fc_list = shutil.which("fc-list")
    if fc_list is None:
        return []
    return subprocess.run(
        [fc_list, ":lang=zh"], capture_output=True, text=True, check=False
    ).stdout.splitlines()
