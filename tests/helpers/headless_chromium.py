"""Open a local HTML file in Debian's headless chromium and read back what the page recorded.

No new dependency: chromium's own ``--dump-dom`` (the DOM after a virtual-time budget) and
``--screenshot``. The report's inline script writes its state into the DOM (``<body
data-report-state="rendered" data-charts=N data-charts-rendered=N data-height=H>``, a ``data-rendered``
attribute on every drawn chart (``<div class="plot" data-chart=<chart id>>``), and every JavaScript error or ``console.error`` into
``<pre id="report-errors">``), so the DOM dump is all a test needs.

:func:`render_state` polls: it dumps the DOM with growing virtual-time budgets until the page says it is
rendered. Virtual time advances as fast as the page's work allows, so a slow machine only makes it take
longer; the subprocess timeout is a ceiling that turns a hang into a failure, never a time budget.
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

CHROMIUM = Path("/usr/bin/chromium")
CEILING_SECONDS = 600
# Virtual milliseconds granted to the page, tried in turn until it reports itself rendered.
VIRTUAL_BUDGETS_MS = (5_000, 20_000, 60_000, 180_000)
RENDERED = "rendered"


@dataclass
class PageState:
    state: str | None = None
    charts: int = 0
    charts_rendered: int = 0
    height: int = 0
    rendered_ids: list[str] = field(default_factory=list)  # data-chart of each drawn chart
    unrendered_ids: list[str] = field(default_factory=list)
    errors: str = ""
    stderr: str = ""
    budget_ms: int = 0  # the virtual-time budget of this dump


class _StateParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.page = PageState()
        self._in_errors = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "body":
            self.page.state = values.get("data-report-state")
            self.page.charts = int(values.get("data-charts") or 0)
            self.page.charts_rendered = int(values.get("data-charts-rendered") or 0)
            self.page.height = int(values.get("data-height") or 0)
        elif tag == "div" and "plot" in (values.get("class") or "").split():
            target = (
                self.page.rendered_ids if values.get("data-rendered") == "yes" else self.page.unrendered_ids
            )
            target.append(values.get("data-chart") or "?")
        elif tag == "pre" and values.get("id") == "report-errors":
            self._in_errors = True

    def handle_endtag(self, tag: str) -> None:
        if tag == "pre":
            self._in_errors = False

    def handle_data(self, data: str) -> None:
        if self._in_errors:
            self.page.errors += data


# Chromium resolves no host at all: a page that still loads something from the internet shows it.
NO_NETWORK = "--host-resolver-rules=MAP * ~NOTFOUND"


def _command(profile: Path, *args: str) -> list[str]:
    return [
        str(CHROMIUM), "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--disable-dev-shm-usage", "--hide-scrollbars", "--enable-logging=stderr", "--v=0",
        f"--user-data-dir={profile}", *args,
    ]  # fmt: skip


def _run(command: list[str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        command, check=False, capture_output=True, text=True, timeout=CEILING_SECONDS, start_new_session=True
    )


def parse_state(dom: str) -> PageState:
    parser = _StateParser()
    parser.feed(dom)
    return parser.page


def render_state(page: Path, profile: Path, *, width: int = 1366) -> PageState:
    """The state the page recorded, from the first DOM dump in which it reports itself rendered (or
    the last one tried)."""
    state = PageState()
    for budget in VIRTUAL_BUDGETS_MS:
        completed = _run(
            _command(
                profile,
                f"--virtual-time-budget={budget}",
                f"--window-size={width},900",
                "--dump-dom",
                page.as_uri(),
            )
        )
        state = parse_state(completed.stdout)
        state.stderr = completed.stderr
        state.budget_ms = budget
        if state.state == RENDERED:
            break
    return state


def screenshot(
    page: Path, profile: Path, out: Path, *, budget_ms: int, width: int = 1366, height: int = 1400
) -> Path:
    """A PNG of the page's top ``height`` pixels at ``width`` px after ``budget_ms`` virtual
    milliseconds (the budget :func:`render_state` found the page rendered in)."""
    completed = _run(
        _command(
            profile,
            f"--virtual-time-budget={budget_ms}",
            f"--window-size={width},{height}",
            f"--screenshot={out}",
            page.as_uri(),
        )
    )
    if not out.exists():
        raise AssertionError(f"no screenshot (exit {completed.returncode}): {completed.stderr[-2000:]}")
    return out


def dump_dom(page: Path, profile: Path, *, budget_ms: int = 20_000, width: int = 1366) -> tuple[str, list[str]]:
    """The DOM of ``page`` after ``budget_ms`` virtual milliseconds with no network, and what its scripts
    wrote to the console (chromium logs each message as ``INFO:CONSOLE…] "<message>", source: …``)."""
    completed = _run(
        _command(
            profile, NO_NETWORK, f"--virtual-time-budget={budget_ms}", f"--window-size={width},900",
            "--dump-dom", page.as_uri(),
        )
    )  # fmt: skip
    console = [line.split("] ", 1)[-1] for line in completed.stderr.splitlines() if ":CONSOLE" in line]
    return completed.stdout, console
