"""The repurchase report: one self-contained HTML file of charts drawn from a serving copy of the marts.

``write_report(database, out, quality=...)`` opens ``serving.duckdb`` read-only, draws every section with
plotly (the data of each chart from :mod:`reporting.report_data`) and writes one HTML file with plotly's
JavaScript bundle inlined: it opens offline from a file, with no CDN and no server. The pipeline writes it
into the serving version folder beside the marts it was drawn from (``report.html``); ``repurchase
report`` rewrites the current version's.

Every chart has a title, units on its axes and a one-line "how to read". Early months whose look-back is
shorter than the KPI definitions need (``is_history_complete`` false) are drawn grey and dotted. A small
inline script records JavaScript errors and the render state of every chart into the page
(``<body data-report-state>``, ``#report-errors``), which the browser test reads from the DOM.
"""

from __future__ import annotations

import datetime as dt
import html
import json
import os
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import plotly.graph_objects as go
from plotly.offline import get_plotlyjs
from plotly.subplots import make_subplots

from reporting import report_data as data

REPORT_FILE = "report.html"
DOCS_FILE = "dbt_docs.html"  # dbt's static docs site, beside the report in a serving version
DOCS_LINK_LABEL = "Definitions (dbt docs)"
QUALITY_FILE = "quality.json"
# CJK fonts first so 重要价值客户 renders with a Chinese face wherever one is installed; no web font is
# downloaded (the report must open offline).
FONT_FAMILY = (
    '"Noto Sans CJK SC", "Noto Sans SC", "Source Han Sans SC", "PingFang SC", "Microsoft YaHei", '
    '"WenQuanYi Micro Hei", "Heiti SC", "Helvetica Neue", Arial, sans-serif'
)
WIDTH = 1260  # the content width: two half charts side by side at 1366 px (page margins, scrollbar)
HALF = 620
INCOMPLETE_COLOR = "#b0b0b0"
PALETTE = ("#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf")
PLOT_CONFIG = {"displaylogo": False, "responsive": False}


class ReportError(RuntimeError):
    """The report could not be drawn (no serving copy, or it cannot be read)."""


@dataclass
class Chart:
    chart_id: str
    title: str
    how_to_read: str
    figure: go.Figure | None  # None: no data (the note says why)
    note: str = ""
    half: bool = False


@dataclass
class Section:
    section_id: str
    title: str
    charts: list[Chart]
    intro: str = ""
    table_html: str = ""


def _layout(
    figure: go.Figure,
    title: str,
    *,
    width: int = WIDTH,
    height: int = 420,
    margin: Mapping[str, int] | None = None,
    legend: Mapping[str, Any] | None = None,
    **axes: Any,
) -> go.Figure:
    """The report's one look: title, size, CJK-first font, white template; ``margin`` and ``legend`` change
    only the keys they name."""
    figure.update_layout(
        title={"text": title, "x": 0.01, "font": {"size": 15}},
        width=width,
        height=height,
        font={"family": FONT_FAMILY, "size": 12},
        margin={"l": 70, "r": 30, "t": 60, "b": 60, **(margin or {})},
        template="plotly_white",
        legend={"orientation": "h", "y": -0.18, **(legend or {})},
        **axes,
    )
    return figure


def _count_heatmap(grid: pd.DataFrame, x: list[Any], colorscale: str, hovertemplate: str) -> go.Figure:
    """Customers per cell of ``grid`` (rows its index, columns ``x``), each cell labelled with its count."""
    return go.Figure(
        go.Heatmap(
            z=grid.values,
            x=x,
            y=list(grid.index),
            colorscale=colorscale,
            text=grid.values,
            texttemplate="%{text}",
            colorbar={"title": "customers"},
            hovertemplate=hovertemplate,
        )
    )


def _flag(value: object) -> bool:
    """A mart's boolean as a Python bool; null (unknown) is false."""
    return False if value is None or pd.isna(value) else bool(value)


def _empty(chart_id: str, title: str, how_to_read: str, why: str, half: bool = False) -> Chart:
    return Chart(chart_id, title, how_to_read, None, note=why, half=half)


# --- KPI trends ------------------------------------------------------------------------------------

# (column, label, unit, axis format)
KPI_SERIES: tuple[tuple[str, str, str, str], ...] = (
    ("repurchase_rate", "Repurchase rate", "% of purchasing customers", ".0%"),
    ("retention_rate_of_start_active", "Retention: share of start-active still active", "%", ".0%"),
    ("active_customer_ratio", "Active customers end / start (playbook ratio)", "ratio", ".2f"),
    ("avg_repurchase_frequency", "Avg repurchase frequency", "purchases per repurchasing customer", ".2f"),
    ("aov", "AOV (average order value)", "CNY per order", ",.0f"),
    ("clv", "CLV (12-month window × lifespan)", "CNY per customer", ",.0f"),
    ("touch_conversion_rate", "Touch conversion", "% of touched customers who ordered", ".1%"),
)


def _kpi_trends(trend: pd.DataFrame) -> Chart:
    title = "Monthly KPIs (overall)"
    how = (
        "Each panel is one KPI by month; grey dotted points are early months whose customers' earlier "
        "purchases predate the data (is_history_complete false): their rates read low, do not compare them."
    )
    if trend.empty:
        return _empty("kpi_trends", title, how, "kpi_monthly has no overall rows.")
    rows = (len(KPI_SERIES) + 1) // 2
    figure = make_subplots(
        rows=rows,
        cols=2,
        subplot_titles=[f"{label} ({unit})" for _c, label, unit, _f in KPI_SERIES],
        vertical_spacing=0.08,
        horizontal_spacing=0.08,
    )
    complete = trend["is_history_complete"].fillna(False).astype(bool)
    for index, (column, label, unit, fmt) in enumerate(KPI_SERIES):
        row, col = index // 2 + 1, index % 2 + 1
        for mask, name, color, dash in (
            (~complete, "history incomplete", INCOMPLETE_COLOR, "dot"),
            (complete, "history complete", PALETTE[0], "solid"),
        ):
            part = trend[mask]
            figure.add_trace(
                go.Scatter(
                    x=part["period_start"],
                    y=part[column],
                    mode="lines+markers",
                    name=name,
                    legendgroup=name,
                    showlegend=index == 0,
                    line={"color": color, "dash": dash},
                    hovertemplate=f"%{{x|%Y-%m}}<br>{label}: %{{y:{fmt}}} ({unit})<extra>{name}</extra>",
                ),
                row=row,
                col=col,
            )
        figure.update_yaxes(tickformat=fmt, row=row, col=col)
        figure.update_xaxes(tickformat="%Y-%m", row=row, col=col)
    _layout(
        figure, title + " — grey: history incomplete", height=260 * rows,
        legend={"orientation": "h", "y": -0.03, "yanchor": "top", "x": 0},
    )
    return Chart("kpi_trends", title, how, figure)


def _channel_split(by_channel: pd.DataFrame) -> list[Chart]:
    how_rate = (
        "One line per channel: the share of the month's purchasing customers (of that channel) who had "
        "bought before; early months with incomplete history are left out."
    )
    how_aov = "One line per channel: net revenue per order in the month (CNY); compare levels, not noise."
    if by_channel.empty:
        why = "kpi_monthly has no channel rows."
        return [
            _empty("channel_repurchase", "Repurchase rate by channel", how_rate, why, True),
            _empty("channel_aov", "AOV by channel", how_aov, why, True),
        ]
    complete = by_channel[by_channel["is_history_complete"].fillna(False).astype(bool)]
    skipped = by_channel["period_start"][~by_channel["is_history_complete"].fillna(False).astype(bool)]
    note = (
        f"Months {skipped.min():%Y-%m} to {skipped.max():%Y-%m} (history incomplete) are skipped."
        if not skipped.empty
        else ""
    )
    charts = []
    for chart_id, title, column, fmt, unit, how, frame in (
        (
            "channel_repurchase",
            "Repurchase rate by channel",
            "repurchase_rate",
            ".0%",
            "%",
            how_rate,
            complete,
        ),
        ("channel_aov", "AOV by channel", "aov", ",.0f", "CNY per order", how_aov, by_channel),
    ):
        figure = go.Figure()
        for index, (channel, part) in enumerate(frame.groupby("channel", sort=True)):
            figure.add_trace(
                go.Scatter(
                    x=part["period_start"],
                    y=part[column],
                    mode="lines",
                    name=str(channel),
                    line={"color": PALETTE[index % len(PALETTE)]},
                    hovertemplate=f"{channel} %{{x|%Y-%m}}: %{{y:{fmt}}}<extra></extra>",
                )
            )
        _layout(
            figure,
            f"{title} ({unit})",
            width=HALF,
            height=380,
            yaxis={"tickformat": fmt, "title": unit},
            xaxis={"tickformat": "%Y-%m", "title": "month"},
        )
        charts.append(
            Chart(chart_id, title, how, figure, note=note if column == "repurchase_rate" else "", half=True)
        )
    return charts


# --- RFM -------------------------------------------------------------------------------------------


def _segment_mix(mix: pd.DataFrame) -> list[Chart]:
    how_c = "Bar length = customers in each RFM segment (customers with a purchase), largest first."
    how_r = "Bar length = net spend in the RFM window per segment (CNY): where the money sits."
    if mix.empty:
        return [
            _empty("segment_customers", "Customers by RFM segment", how_c, "customer_rfm is empty.", True),
            _empty("segment_revenue", "Net spend by RFM segment", how_r, "customer_rfm is empty.", True),
        ]
    charts = []
    total_c, total_r = mix["customers"].sum(), mix["revenue"].sum()
    for chart_id, title, column, unit, how, total in (
        ("segment_customers", "Customers by RFM segment", "customers", "customers", how_c, total_c),
        ("segment_revenue", "Net spend by RFM segment", "revenue", "CNY", how_r, total_r),
    ):
        ordered = mix.sort_values(column)
        shares = ordered[column] / total if total else ordered[column] * 0
        figure = go.Figure(
            go.Bar(
                x=ordered[column],
                y=ordered["segment"],
                orientation="h",
                marker={"color": PALETTE[0] if column == "customers" else PALETTE[2]},
                text=[f"{share:.0%}" for share in shares],
                textposition="auto",
                hovertemplate="%{y}: %{x:,.0f} " + unit + "<extra></extra>",
            )
        )
        _layout(
            figure, f"{title} ({unit})", width=HALF, height=380, margin={"l": 110},
            xaxis={"title": unit}, yaxis={"title": ""},
        )
        charts.append(Chart(chart_id, title, how, figure, half=True))
    return charts


def _segment_stage(long: pd.DataFrame, labels: Mapping[str, str]) -> Chart:
    title = "RFM segment × lifecycle stage (customers)"
    how = "Each cell counts customers of a segment (row) in a lifecycle stage (column); darker = more."
    if long.empty:
        return _empty("segment_stage", title, how, "customer_rfm is empty.")
    stages = [s for s in data.STAGE_ORDER if s in set(long["lifecycle_stage"])]
    stages += sorted(set(long["lifecycle_stage"].dropna()) - set(stages))
    grid = long.pivot_table(index="segment", columns="lifecycle_stage", values="customers", aggfunc="sum")
    grid = grid.reindex(columns=stages).fillna(0).astype(int)
    figure = _count_heatmap(
        grid, [labels.get(stage, stage) for stage in stages], "Blues", "%{y} · %{x}: %{z} customers<extra></extra>"
    )
    _layout(
        figure, title, height=420, margin={"l": 110, "t": 90},
        xaxis={"title": "lifecycle stage", "side": "top"}, yaxis={"title": ""},
    )
    return Chart("segment_stage", title, how, figure)


# --- lifecycle ------------------------------------------------------------------------------------


def _lifecycle_daily(daily: pd.DataFrame, labels: Mapping[str, str]) -> Chart:
    title = "Customers per lifecycle stage, by day"
    how = "Stacked areas: the height of each band is the customers in that stage on the day; the top is everyone."
    if daily.empty:
        return _empty("lifecycle_daily", title, how, "lifecycle_daily_counts is empty.")
    figure = go.Figure()
    stages = [s for s in data.STAGE_ORDER if s in set(daily["stage"])] + sorted(
        set(daily["stage"]) - set(data.STAGE_ORDER)
    )
    for index, stage in enumerate(stages):
        part = daily[daily["stage"] == stage]
        label = labels.get(stage, stage)
        figure.add_trace(
            go.Scatter(
                x=part["day"],
                y=part["customers"],
                name=f"{label} ({stage})",
                stackgroup="stages",
                mode="lines",
                line={"width": 0.5, "color": PALETTE[index % len(PALETTE)]},
                hovertemplate=f"{label} %{{x|%Y-%m-%d}}: %{{y:,}} customers<extra></extra>",
            )
        )
    _layout(figure, title + " (customers)", xaxis={"title": "day"}, yaxis={"title": "customers"})
    return Chart("lifecycle_daily", title, how, figure)


def _sankey(transitions: pd.DataFrame, labels: Mapping[str, str], start: dt.date, end: dt.date) -> Chart:
    title = f"Stage transitions {start:%Y-%m-%d} to {end:%Y-%m-%d}"
    how = "Left: the stage customers left; right: the stage they entered; band width = customers who moved."
    if transitions.empty:
        return _empty("lifecycle_sankey", title, how, "No stage transitions in that month.")
    sources = [labels.get(s, s) for s in transitions["from_stage"]]
    targets = [labels.get(s, s) for s in transitions["to_stage"]]
    left = list(dict.fromkeys(f"{s} →" for s in sources))
    right = list(dict.fromkeys(f"→ {t}" for t in targets))
    nodes = left + right
    figure = go.Figure(
        go.Sankey(
            node={"label": nodes, "pad": 18, "thickness": 16, "color": PALETTE[0]},
            link={
                "source": [nodes.index(f"{s} →") for s in sources],
                "target": [nodes.index(f"→ {t}") for t in targets],
                "value": transitions["customers"].tolist(),
                "hovertemplate": "%{source.label} %{target.label}: %{value} customers<extra></extra>",
            },
        )
    )
    _layout(figure, title + " (customers)", height=420)
    return Chart("lifecycle_sankey", title, how, figure)


# --- cohorts --------------------------------------------------------------------------------------


def _cohorts(grid: pd.DataFrame) -> Chart:
    title = "Cohort retention: share of each first-purchase cohort buying again"
    how = (
        "Row = month of first purchase, column = months since; a cell is the share of the cohort buying "
        "in that month (%). Rows marked * start before the data's look-back is complete; blank = not yet."
    )
    if grid.empty:
        return _empty("cohort_retention", title, how, "cohort_retention has no overall rows.")
    later = grid[grid["months_since_first"] > 0]
    if later.empty:
        return _empty("cohort_retention", title, how, "No cohort has a month after its first yet.")
    share = later.pivot_table(index="cohort_month", columns="months_since_first", values="share_purchasing")
    incomplete_rows = set(grid.loc[~grid["is_history_complete"].fillna(False).astype(bool), "cohort_month"])
    sizes = grid.groupby("cohort_month")["cohort_size"].max()
    ylabels = [
        f"{month:%Y-%m}{' *' if month in incomplete_rows else ''} (n={sizes.get(month, 0)})"
        for month in share.index
    ]
    figure = go.Figure(
        go.Heatmap(
            z=share.values,
            x=[int(c) for c in share.columns],
            y=ylabels,
            colorscale="YlGnBu",
            zmin=0,
            text=[[("" if pd.isna(v) else f"{v:.0%}") for v in row] for row in share.values],
            texttemplate="%{text}",
            textfont={"size": 9},
            colorbar={"title": "% buying", "tickformat": ".0%"},
            hovertemplate="cohort %{y}, month +%{x}: %{z:.1%} bought<extra></extra>",
        )
    )
    _layout(
        figure,
        title + " (%)",
        height=max(420, 22 * len(ylabels) + 140),
        margin={"l": 150},
        xaxis={"title": "months since first purchase", "dtick": 1},
        yaxis={"title": "first-purchase month", "autorange": "reversed"},
    )
    return Chart("cohort_retention", title, how, figure)


# --- campaigns ------------------------------------------------------------------------------------


def _funnels(funnel: pd.DataFrame) -> Chart:
    title = "Campaign funnels by variant (customers)"
    how = "One panel per campaign, one colour per variant: customers left at each step, top to bottom."
    if funnel.empty:
        return _empty("campaign_funnel", title, how, "campaign_funnel is empty.")
    campaigns = list(dict.fromkeys(zip(funnel["campaign_id"], funnel["campaign_name"], strict=True)))
    cols = min(3, len(campaigns))
    rows = (len(campaigns) + cols - 1) // cols
    figure = make_subplots(
        rows=rows,
        cols=cols,
        subplot_titles=[f"{name} ({cid})" for cid, name in campaigns],
        specs=[[{"type": "funnel"}] * cols for _ in range(rows)],
        vertical_spacing=0.12 / max(rows, 1) + 0.04,
    )
    variants = sorted(set(funnel["variant"]))
    steps = [label for _c, label in data.FUNNEL_STEPS]
    for index, (campaign_id, _name) in enumerate(campaigns):
        part = funnel[funnel["campaign_id"] == campaign_id]
        for _, line in part.iterrows():
            color = PALETTE[variants.index(line["variant"]) % len(PALETTE)]
            figure.add_trace(
                go.Funnel(
                    y=steps,
                    x=[int(line[column]) for column, _l in data.FUNNEL_STEPS],
                    name=f"{line['variant']}{' (control)' if _flag(line['is_control']) else ''}",
                    legendgroup=str(line["variant"]),
                    showlegend=index == 0,
                    marker={"color": color},
                    textinfo="value",
                    hovertemplate=f"{line['variant']} · %{{y}}: %{{x:,}} customers<extra></extra>",
                ),
                row=index // cols + 1,
                col=index % cols + 1,
            )
    _layout(figure, title, height=330 * rows + 80, legend={"orientation": "h", "y": 1.06, "x": 0.6})
    return Chart("campaign_funnel", title, how, figure)


def _uplift(ab: pd.DataFrame) -> Chart:
    title = "A/B uplift of the conversion rate vs the reference variant (percentage points)"
    how = (
        "Dot = uplift of the variant's conversion rate over its reference; bar = its confidence interval; "
        "an interval crossing 0 is no evidence. Filled red = significant; the label names the test."
    )
    if ab.empty:
        return _empty("ab_uplift", title, how, "ab_test_results has no variant against a reference.")
    labels = [
        f"{row.campaign_name} · {row.variant} vs {row.reference_variant}"
        for row in ab.itertuples(index=False)
    ]
    significant = [_flag(value) for value in ab["is_significant"]]
    figure = go.Figure(
        go.Scatter(
            x=ab["uplift_abs"],
            y=labels,
            mode="markers+text",
            marker={
                "size": 11,
                "color": [PALETTE[1] if s else "white" for s in significant],
                "line": {"color": PALETTE[1], "width": 2},
            },
            error_x={
                "type": "data",
                "symmetric": False,
                "array": (ab["uplift_ci_high"] - ab["uplift_abs"]).tolist(),
                "arrayminus": (ab["uplift_abs"] - ab["uplift_ci_low"]).tolist(),
                "color": "#555",
            },
            text=[
                f"p={p:.3f} ({test})" if pd.notna(p) else f"({test})"
                for p, test in zip(ab["p_value"], ab["p_value_test"], strict=True)
            ],
            textposition="top center",
            customdata=ab[
                ["recipients", "converters", "conversion_rate", "reference_conversion_rate"]
            ].values,
            hovertemplate=(
                "%{y}<br>uplift %{x:.2%} (CI shown)<br>%{customdata[1]} of %{customdata[0]} converted "
                "(%{customdata[2]:.1%} vs %{customdata[3]:.1%})<br>%{text}<extra></extra>"
            ),
        )
    )
    figure.add_vline(x=0, line={"color": "#999", "dash": "dash"})
    _layout(
        figure,
        title,
        height=max(320, 70 * len(labels) + 120),
        xaxis={"title": "uplift of conversion rate (percentage points)", "tickformat": ".1%"},
        margin={"l": 260},
        yaxis={"title": "", "autorange": "reversed"},
    )
    return Chart("ab_uplift", title, how, figure)


def _ab_table(ab: pd.DataFrame) -> str:
    if ab.empty:
        return ""
    header = (
        "<tr><th>campaign</th><th>variant vs reference</th><th>recipients</th><th>conversion</th>"
        "<th>uplift [CI]</th><th>p-value</th><th>test</th><th>flags</th></tr>"
    )
    rows = []
    for row in ab.itertuples(index=False):
        flags = [
            flag
            for flag, on in (
                ("significant", _flag(row.is_significant)),
                ("sample-ratio mismatch", _flag(row.is_srm)),
                ("underpowered", _flag(row.is_underpowered)),
                ("window open", not _flag(row.is_window_complete)),
            )
            if on
        ]
        p_value = "" if pd.isna(row.p_value) else f"{row.p_value:.3f}"
        rows.append(
            "<tr>"
            f"<td>{html.escape(str(row.campaign_name))}</td>"
            f"<td>{html.escape(str(row.variant))} vs {html.escape(str(row.reference_variant))}</td>"
            f"<td class=num>{row.recipients:,}</td>"
            f"<td class=num>{_pct(row.conversion_rate)} vs {_pct(row.reference_conversion_rate)}</td>"
            f"<td class=num>{_pct(row.uplift_abs, 2)} [{_pct(row.uplift_ci_low, 2)}, {_pct(row.uplift_ci_high, 2)}]</td>"
            f"<td class=num>{p_value}</td><td>{html.escape(str(row.p_value_test))}</td>"
            f"<td>{', '.join(flags)}</td></tr>"
        )
    return f"<table>{header}{''.join(rows)}</table>"


def _pct(value: object, digits: int = 1) -> str:
    return "n/a" if value is None or pd.isna(value) else f"{float(value):.{digits}%}"


# --- members and audiences ------------------------------------------------------------------------


def _tiers(counts: pd.DataFrame, versus: pd.DataFrame) -> list[Chart]:
    how_t = "Bars = customers per computed tier (rolling 12-month spend rules); the label is the share differing from 会员等级."
    how_v = (
        "Row = computed tier, column = the merchant's own 会员等级 mapped to a tier; off-diagonal cells are "
        "customers whose two tiers differ."
    )
    if counts.empty:
        why = "member_tiers is empty."
        return [
            _empty("tiers", "Customers by member tier", how_t, why, True),
            _empty("tier_vs_level", "Computed tier vs 会员等级", how_v, why, True),
        ]
    figure = go.Figure(
        go.Bar(
            x=counts["tier_label"],
            y=counts["customers"],
            marker={"color": PALETTE[4]},
            text=[f"{d:,} differ" for d in counts["differs_from_member_level"]],
            textposition="outside",
            hovertemplate="%{x}: %{y:,} customers<extra></extra>",
        )
    )
    _layout(
        figure,
        "Customers by member tier (customers)",
        width=HALF,
        height=380,
        xaxis={"title": "computed tier"},
        yaxis={"title": "customers"},
    )
    grid = versus.pivot_table(
        index="tier_label", columns="member_level_tier", values="customers", aggfunc="sum"
    )
    grid = grid.fillna(0).astype(int)
    heat = _count_heatmap(
        grid, list(grid.columns), "Purples", "computed %{y} · 会员等级 %{x}: %{z} customers<extra></extra>"
    )
    _layout(
        heat,
        "Computed tier vs merchant's 会员等级 (customers)",
        width=HALF,
        height=380,
        margin={"l": 100},
        xaxis={"title": "会员等级 as a tier"},
        yaxis={"title": "computed tier"},
    )
    return [
        Chart("tiers", "Customers by member tier", how_t, figure, half=True),
        Chart("tier_vs_level", "Computed tier vs 会员等级", how_v, heat, half=True),
    ]


def _audiences(reach: pd.DataFrame) -> Chart:
    title = "Audience sizes by contact channel (customers)"
    how = (
        "Per audience (RFM segment): customers reachable by SMS (with consent), WeCom and the official "
        "account (one customer can count on several), and those suppressed: reachable on none."
    )
    if reach.empty:
        return _empty("audiences", title, how, "activation_audience is empty.")
    figure = go.Figure()
    for index, (column, label) in enumerate(
        (
            ("sms", "SMS (consented)"),
            ("wecom", "WeCom"),
            ("official_account", "official account"),
            ("suppressed", "suppressed (no channel)"),
        )
    ):
        figure.add_trace(
            go.Bar(
                x=reach["segment"],
                y=reach[column],
                name=label,
                marker={"color": INCOMPLETE_COLOR if column == "suppressed" else PALETTE[index]},
                hovertemplate=f"%{{x}} · {label}: %{{y:,}} customers<extra></extra>",
            )
        )
    _layout(figure, title, barmode="group", xaxis={"title": "audience"}, yaxis={"title": "customers"})
    return Chart("audiences", title, how, figure)


def _triggers(outcomes: pd.DataFrame | None, as_of: dt.date | None) -> Chart:
    title = "Triggers fired on as_of by channel, and suppressed by reason"
    how = (
        "Per trigger (activation_triggers, with churn_risk): touches sent on each channel (one per customer "
        "and trigger), and the fired triggers not sent, by suppressed_reason (control group, unreachable, "
        "unsubscribed / complained / bounced / failed, frequency cap, daily limit)."
    )
    if outcomes is None:
        return _empty("triggers", title, how, "activation_triggers is not in the serving copy.")
    figure = go.Figure()
    for index, (outcome, rows) in enumerate(outcomes.groupby("outcome", sort=False)):
        suppressed = bool(rows["is_suppressed"].iloc[0])
        figure.add_trace(
            go.Bar(
                x=rows["trigger_code"],
                y=rows["triggers"],
                name=outcome,
                marker={
                    "color": PALETTE[index % len(PALETTE)],
                    "pattern": {"shape": "/" if suppressed else ""},
                },
                hovertemplate=f"%{{x}} · {outcome}: %{{y:,}}<extra></extra>",
            )
        )
    if outcomes.empty:
        day = f" on {as_of:%Y-%m-%d}" if as_of else ""
        figure.add_annotation(text=f"No trigger fired{day}.", showarrow=False, xref="paper", yref="paper")
    _layout(figure, title, barmode="stack", xaxis={"title": "trigger"}, yaxis={"title": "customers"})
    return Chart("triggers", title, how, figure)


# --- predictive CLV -------------------------------------------------------------------------------


def _p_alive(alive: pd.DataFrame) -> Chart:
    title = "Probability alive (BG/NBD), customers"
    how = (
        "Bars = customers by their model probability of still being a customer; mass near 0 = likely lost; "
        "customers without a repeat purchase read exactly 1 (BG/NBD cannot see them drop out)."
    )
    if alive.empty:
        return _empty(
            "p_alive", title, how, "customer_clv_predicted has no predictions (see the model fit).", True
        )
    figure = go.Figure(
        go.Histogram(
            x=alive["p_alive"],
            xbins={"start": 0, "end": 1.05, "size": 0.05},
            marker={"color": PALETTE[0]},
            hovertemplate="p_alive %{x}: %{y:,} customers<extra></extra>",
        )
    )
    _layout(
        figure,
        title,
        width=HALF,
        height=380,
        xaxis={"title": "probability alive (0–1; the last bar is exactly 1)", "range": [0, 1.05]},
        yaxis={"title": "customers"},
    )
    return Chart("p_alive", title, how, figure, half=True)


def _tracking(tracking: pd.DataFrame) -> Chart:
    title = "Holdout tracking: cumulative repeat purchases (purchases)"
    how = (
        "Weekly cumulative repeat purchases: dashed = the model fitted up to the grey line predicts, solid = "
        "what happened; right of the line is the holdout the model never saw."
    )
    if tracking.empty:
        return _empty("holdout_tracking", title, how, "clv_holdout_check has no tracking rows.", True)
    figure = go.Figure()
    for column, name, dash in (
        ("actual_cumulative", "actual", "solid"),
        ("predicted_cumulative", "predicted", "dash"),
    ):
        figure.add_trace(
            go.Scatter(
                x=tracking["period_end"],
                y=tracking[column],
                name=name,
                mode="lines",
                line={"dash": dash},
                hovertemplate=f"{name} to %{{x|%Y-%m-%d}}: %{{y:,.0f}} purchases<extra></extra>",
            )
        )
    _layout(
        figure,
        title,
        width=HALF,
        height=380,
        xaxis={"title": "week ending"},
        yaxis={"title": "cumulative purchases"},
    )
    calibration_end = tracking["calibration_end"].dropna()
    if not calibration_end.empty:
        figure.add_vline(x=str(calibration_end.iloc[0]), line={"color": "#999", "dash": "dot"})
    return Chart("holdout_tracking", title, how, figure, half=True)


def _conditional(by_frequency: pd.DataFrame) -> Chart:
    title = "Holdout: purchases per customer, actual vs predicted"
    how = (
        "For customers with 0, 1, … repeat purchases before the holdout: actual vs predicted purchases in it."
    )
    if by_frequency.empty:
        return _empty("holdout_conditional", title, how, "clv_holdout_check has no conditional rows.", True)
    figure = go.Figure()
    for column, name, color in (
        ("actual_per_customer", "actual", PALETTE[0]),
        ("predicted_per_customer", "predicted", PALETTE[3]),
    ):
        figure.add_trace(
            go.Bar(
                x=by_frequency["bucket"].astype(str),
                y=by_frequency[column],
                name=name,
                marker={"color": color},
                hovertemplate=f"%{{x}} repeat purchases · {name}: %{{y:.2f}}<extra></extra>",
            )
        )
    _layout(
        figure,
        title + " (purchases per customer)",
        width=HALF,
        height=380,
        barmode="group",
        xaxis={"title": "repeat purchases in calibration"},
        yaxis={"title": "purchases per customer"},
    )
    return Chart("holdout_conditional", title, how, figure, half=True)


def _fit_table(fit: pd.DataFrame) -> str:
    if fit.empty:
        return ""
    rows = "".join(
        f"<tr><td>{html.escape(str(r.fit))}</td><td>{html.escape(str(r.model))}</td>"
        f"<td>{html.escape(str(r.parameter))}</td><td class=num>{_num(r.estimate)}</td>"
        f"<td class=num>{_num(r.standard_error)}</td><td>{'yes' if _flag(r.converged) else 'NO'}</td>"
        f"<td>{html.escape(str(r.warnings or ''))}</td></tr>"
        for r in fit.itertuples(index=False)
    )
    return (
        "<table><tr><th>fit</th><th>model</th><th>parameter</th><th>estimate</th><th>std. error</th>"
        f"<th>converged</th><th>warnings</th></tr>{rows}</table>"
    )


def _num(value: object) -> str:
    return "" if value is None or pd.isna(value) else f"{float(value):.4g}"


# --- data quality ---------------------------------------------------------------------------------


def _files_chart(quality: Mapping[str, Any] | None) -> Chart:
    title = "Files per source: loaded, quarantined rows, rejected (files)"
    how = "Bars = files of each source by outcome; the hover adds rows loaded and quarantined."
    files = (quality or {}).get("files") or []
    if not files:
        return _empty(
            "quality_files", title, how, "No ingestion manifest was recorded with this version.", True
        )
    frame = pd.DataFrame(files)
    figure = go.Figure()
    for index, (column, label) in enumerate(
        (
            ("files_loaded", "loaded"),
            ("files_with_quarantine", "loaded with quarantined rows"),
            ("files_rejected", "rejected"),
            ("files_set_aside", "set aside"),
        )
    ):
        figure.add_trace(
            go.Bar(
                x=frame["source"],
                y=frame[column],
                name=label,
                marker={"color": (PALETTE[2], PALETTE[3], PALETTE[1], INCOMPLETE_COLOR)[index]},
                customdata=frame[["rows_loaded", "rows_quarantined"]].values,
                hovertemplate=(
                    f"%{{x}} · {label}: %{{y}} files<br>rows loaded %{{customdata[0]:,}}, "
                    "quarantined %{customdata[1]:,}<extra></extra>"
                ),
            )
        )
    _layout(
        figure,
        title,
        width=HALF,
        height=380,
        barmode="group",
        xaxis={"title": "source"},
        yaxis={"title": "files"},
    )
    return Chart("quality_files", title, how, figure, half=True)


def _identified_share(trend: pd.DataFrame) -> Chart:
    title = "Identified share of orders and revenue (%)"
    how = "Share of the month's orders / net revenue with a known customer: the customer KPIs cover only this part."
    if trend.empty:
        return _empty("identified_share", title, how, "kpi_monthly has no overall rows.", True)
    figure = go.Figure()
    for column, name in (("identified_order_share", "orders"), ("identified_revenue_share", "revenue")):
        figure.add_trace(
            go.Scatter(
                x=trend["period_start"],
                y=trend[column],
                name=name,
                mode="lines+markers",
                hovertemplate=f"{name} %{{x|%Y-%m}}: %{{y:.1%}}<extra></extra>",
            )
        )
    _layout(
        figure,
        title,
        width=HALF,
        height=380,
        xaxis={"title": "month", "tickformat": "%Y-%m"},
        yaxis={"title": "%", "tickformat": ".0%", "range": [0, 1]},
    )
    return Chart("identified_share", title, how, figure, half=True)


def _quality_intro(quality: Mapping[str, Any] | None) -> str:
    """The checks of the publishing run (the raw GX gates named) and the files per source as a table."""
    gates = (quality or {}).get("gates") or []
    if not gates:
        return "<p class=note>No check results were recorded with this version.</p>"
    passed = sum(1 for g in gates if g.get("passed"))
    parts = [f"<p><b>Checks of the run that published this version: {passed} of {len(gates)} passed</b>"]
    blocking = [g for g in gates if g.get("severity") == "ERROR"]
    parts.append(
        f" (blocking: {sum(1 for g in blocking if g.get('passed'))} of {len(blocking)}; a failed blocking "
        "check publishes nothing)."
    )
    gx = [g for g in gates if ":gx_" in str(g.get("name"))]
    if gx:
        parts.append(
            f" Great Expectations gates on the raw tables: {sum(1 for g in gx if g.get('passed'))} of {len(gx)} "
            "passed (" + html.escape(", ".join(str(g["name"]).split(":", 1)[-1] for g in gx)) + ")."
        )
    if failed := [str(g.get("name")) for g in gates if not g.get("passed")]:
        parts.append(" Not passed (warnings): " + html.escape(", ".join(failed)) + ".")
    parts.append("</p>")
    files = (quality or {}).get("files") or []
    if files:
        header = "".join(
            f"<th>{name}</th>"
            for name in (
                "source",
                "files loaded",
                "with quarantined rows",
                "rejected",
                "set aside",
                "rows loaded",
                "rows quarantined",
            )
        )
        rows = "".join(
            f"<tr><td>{html.escape(str(f['source']))}</td>"
            + "".join(
                f"<td class=num>{int(f[key]):,}</td>"
                for key in (
                    "files_loaded",
                    "files_with_quarantine",
                    "files_rejected",
                    "files_set_aside",
                    "rows_loaded",
                    "rows_quarantined",
                )
            )
            + "</tr>"
            for f in files
        )
        parts.append(f"<table><tr>{header}</tr>{rows}</table>")
    return "".join(parts)


# --- assembling -----------------------------------------------------------------------------------


def build_sections(con: duckdb.DuckDBPyConnection, quality: Mapping[str, Any] | None = None) -> list[Section]:
    labels = data.stage_labels(con)
    trend = data.kpi_trend(con)
    as_of = data.as_of_date(con)
    month_start, month_end = data.last_month(as_of) if as_of else (None, None)
    ab = data.ab_results(con)
    fit = data.clv_fit(con)
    kpi_note = ""
    if not trend.empty:
        incomplete = trend.loc[~trend["is_history_complete"].fillna(False).astype(bool), "period_start"]
        if not incomplete.empty:
            kpi_note = (
                f"<p class=note>History incomplete (grey) from {incomplete.min():%Y-%m} to "
                f"{incomplete.max():%Y-%m}: customers' purchases before the data are unseen, so these months' "
                "repurchase and retention rates read low.</p>"
            )
    sections = [
        Section(
            "kpis",
            "KPI trends by month",
            [_kpi_trends(trend), *_channel_split(data.kpi_by_channel(con))],
            intro=kpi_note
            + "<p>Retention is shown both ways and never mixed: <i>retention_rate_of_start_active</i> is the "
            "share of customers active at the month's start still active at its end; "
            "<i>active_customer_ratio</i> is active at end ÷ active at start (can exceed 1).</p>",
        ),
        Section(
            "rfm",
            "RFM segments",
            [*_segment_mix(data.segment_mix(con)), _segment_stage(data.segment_by_stage(con), labels)],
        ),
        Section(
            "lifecycle",
            "Lifecycle",
            [
                _lifecycle_daily(data.lifecycle_daily(con), labels),
                _sankey(data.stage_transitions(con, month_start, month_end), labels, month_start, month_end)
                if as_of
                else _empty("lifecycle_sankey", "Stage transitions", "", "No as_of date in the marts."),
            ],
        ),
        Section("cohorts", "Cohort retention", [_cohorts(data.cohort_grid(con))]),
        Section(
            "campaigns",
            "Campaigns",
            [_funnels(data.campaign_funnel(con)), _uplift(ab)],
            table_html=_ab_table(ab),
        ),
        Section(
            "members",
            "Member tiers and audiences",
            [
                *_tiers(data.tier_counts(con), data.tier_vs_member_level(con)),
                _audiences(data.audience_reach(con)),
                _triggers(data.trigger_outcomes(con), as_of),
            ],
        ),
        Section(
            "clv",
            "Predictive CLV",
            [
                _p_alive(data.p_alive(con)),
                _tracking(data.holdout(con, "tracking")),
                _conditional(data.holdout(con, "by_calibration_frequency")),
            ],
            table_html=_fit_table(fit),
        ),
        Section(
            "quality",
            "Data quality",
            [_files_chart(quality), _identified_share(trend)],
            intro=_quality_intro(quality),
        ),
    ]
    return sections


_STYLE = """
body { font-family: %(font)s; margin: 0; color: #222; background: #fafafa; }
header { background: #1f3b57; color: white; padding: 14px 36px; }
header h1 { margin: 0; font-size: 22px; }
header p { margin: 4px 0 0; font-size: 13px; opacity: 0.9; }
nav { padding: 8px 36px; background: #eef2f6; font-size: 13px; }
nav a { margin-right: 14px; color: #1f3b57; }
main { max-width: 1320px; margin: 0 auto; padding: 0 16px 40px; }
section { margin-top: 26px; }
h2 { border-bottom: 2px solid #1f3b57; padding-bottom: 4px; font-size: 19px; }
.charts { display: flex; flex-wrap: wrap; gap: 16px; }
.chart { background: white; border: 1px solid #e3e3e3; padding: 6px; box-sizing: border-box; }
.chart.full { flex: 1 1 100%%; }
.how { font-size: 12.5px; color: #555; margin: 2px 6px 6px; }
.note { font-size: 12.5px; color: #8a5a00; margin: 4px 6px; }
table { border-collapse: collapse; font-size: 12.5px; margin-top: 10px; background: white; }
th, td { border: 1px solid #ddd; padding: 3px 8px; text-align: left; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
"""

# Runs before any other script: records errors and console.error calls into #report-errors, so a test
# reading the DOM sees them. Then, once every chart div holds a drawn SVG (or canvas), sets
# <body data-report-state="rendered">.
_WATCH_SCRIPT = """
(function () {
  var errors = [];
  function record(text) {
    errors.push(String(text));
    var box = document.getElementById('report-errors');
    if (box) { box.textContent = errors.join('\\n'); }
  }
  window.addEventListener('error', function (e) { record('error: ' + (e.message || e)); });
  window.addEventListener('unhandledrejection', function (e) { record('rejection: ' + e.reason); });
  var original = console.error;
  console.error = function () { record('console.error: ' + Array.prototype.join.call(arguments, ' ')); original.apply(console, arguments); };
  window.__reportErrors = errors;
})();
"""

_STATE_SCRIPT = """
(function () {
  function drawn(div) {
    var svg = div.querySelector('svg.main-svg');
    var canvas = div.querySelector('canvas');
    return (svg && svg.querySelectorAll('path, rect, text').length > 0) || !!canvas;
  }
  function check() {
    var charts = document.querySelectorAll('.plot');
    var done = 0;
    charts.forEach(function (div) { if (drawn(div)) { done += 1; div.setAttribute('data-rendered', 'yes'); } });
    document.body.setAttribute('data-charts', String(charts.length));
    document.body.setAttribute('data-charts-rendered', String(done));
    document.body.setAttribute('data-height', String(document.documentElement.scrollHeight));
    if (done === charts.length) { document.body.setAttribute('data-report-state', 'rendered'); }
    else { setTimeout(check, 100); }
  }
  window.addEventListener('load', function () { setTimeout(check, 0); });
})();
"""


def render_html(
    sections: list[Section], *, title: str, subtitle: str, links: Mapping[str, str] | None = None
) -> str:
    """``links``: {label: relative URL} of pages beside the report (the dbt docs), after the sections."""
    nav = " ".join(f'<a href="#{s.section_id}">{html.escape(s.title)}</a>' for s in sections)
    nav += "".join(
        f' | <a href="{html.escape(url)}">{html.escape(label)}</a>' for label, url in (links or {}).items()
    )
    body = []
    for section in sections:
        parts = [f'<section id="{section.section_id}"><h2>{html.escape(section.title)}</h2>', section.intro]
        parts.append('<div class="charts">')
        for chart in section.charts:
            width = HALF + 14 if chart.half else WIDTH + 14
            parts.append(f'<div class="chart" id="chart-{chart.chart_id}" style="width:{width}px">')
            parts.append(f'<p class="how"><b>How to read:</b> {html.escape(chart.how_to_read)}</p>')
            if chart.figure is None:
                parts.append(
                    f"<h3>{html.escape(chart.title)}</h3><p class=note>{html.escape(chart.note)}</p>"
                )
            else:
                if chart.note:
                    parts.append(f"<p class=note>{html.escape(chart.note)}</p>")
                parts.append(
                    f'<div class="plot" data-chart="{chart.chart_id}">'
                    + chart.figure.to_html(
                        full_html=False,
                        include_plotlyjs=False,
                        div_id=f"plot-{chart.chart_id}",
                        config=PLOT_CONFIG,
                    )
                    + "</div>"
                )
            parts.append("</div>")
        parts.append("</div>")
        parts.append(section.table_html)
        parts.append("</section>")
        body.append("".join(parts))
    return (
        '<!DOCTYPE html>\n<html lang="zh-CN"><head><meta charset="utf-8">'
        f"<title>{html.escape(title)}</title>"
        f"<style>{_STYLE % {'font': FONT_FAMILY}}</style>"
        f"<script>{_WATCH_SCRIPT}</script>"
        f"<script>{get_plotlyjs()}</script>"
        '</head><body data-report-state="loading">'
        f"<header><h1>{html.escape(title)}</h1><p>{html.escape(subtitle)}</p></header>"
        f"<nav>{nav}</nav><main>{''.join(body)}"
        '<pre id="report-errors" style="display:none"></pre></main>'
        f"<script>{_STATE_SCRIPT}</script></body></html>\n"
    )


def report_html(
    database: Path,
    quality: Mapping[str, Any] | None = None,
    *,
    version: str | None = None,
    links: Mapping[str, str] | None = None,
) -> str:
    """The report of the serving copy ``database`` as one HTML document."""
    if not Path(database).is_file():
        raise ReportError(f"no serving copy at {database}: run the pipeline (repurchase run) first")
    try:
        con = duckdb.connect(str(database), read_only=True)
    except duckdb.Error as error:
        raise ReportError(f"cannot open {database}: {str(error).splitlines()[0]}") from error
    try:
        as_of = data.as_of_date(con)
        sections = build_sections(con, quality)
    finally:
        con.close()
    subtitle = f"Marts as of {as_of:%Y-%m-%d}" if as_of else "Marts without an as_of date"
    if version:
        subtitle += f" · serving version {version}"
    subtitle += f" · drawn {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC"
    return render_html(sections, title="老客复购 repurchase report", subtitle=subtitle, links=links)


def read_quality(folder: Path) -> dict[str, Any] | None:
    """The data-quality facts recorded with a serving version (``quality.json``), if any."""
    path = Path(folder) / QUALITY_FILE
    if not path.is_file():
        return None
    return json.loads(path.read_text(encoding="utf-8"))


def write_quality(folder: Path, quality: Mapping[str, Any]) -> Path:
    path = Path(folder) / QUALITY_FILE
    path.write_text(json.dumps(quality, indent=2, ensure_ascii=False, default=str), encoding="utf-8")
    return path


def write_report(
    database: Path,
    out: Path,
    quality: Mapping[str, Any] | None = None,
    *,
    version: str | None = None,
    mode: int | None = None,
    links: Mapping[str, str] | None = None,
) -> Path:
    """Write the report of ``database`` to ``out`` through a temporary file renamed over it (a reader
    never sees half a file; a read-only ``out`` is replaced, not written into). ``mode`` sets the file's
    permissions (0o444 for a published version); ``links`` are pages beside it for the header."""
    text = report_html(database, quality, version=version, links=links)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    handle, tmp = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(text)
        os.chmod(tmp, mode if mode is not None else 0o644)
        os.replace(tmp, out)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return out
