"""generate(): simulate customers and write native exports of every landing source plus ground truth."""

from __future__ import annotations

import calendar
import datetime as dt
import json
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from .campaigns import run_campaigns
from .context import Ctx
from .emitted import Emitted
from .orders import materialize, simulate_skeleton
from .people import Timeline, simulate_people
from .truth import write_truth
from .write_marketplaces import write_jd, write_tmall
from .write_pos import write_pos
from .write_wechat import write_members, write_pay, write_touches

SOURCE_PREFIXES = {
    "pos": "pos_sales_", "tmall": "tmall_orders_", "jd": "jd_orders_", "wechat_members": "members_",
    "wechat_pay": "wechatpay_bill_", "touches": "touches_",
}
TRUTH_FILES = ("people.parquet", "identifiers.parquet", "placeholder_phones.parquet", "orders.parquet",
               "campaigns.parquet", "touch_assignments.parquet", "summary.json")


@dataclass
class GenerateSummary:
    out_dir: Path
    people: int
    seed: int
    start_date: dt.date
    end_date: dt.date
    files: dict[str, list[str]] = field(default_factory=dict)  # source -> file names relative to landing/
    rows: dict[str, int] = field(default_factory=dict)  # source -> data rows written
    orders: int = 0  # true orders (all channels, incl. cancelled / unpaid)
    purchases: int = 0  # orders that are paid and not fully refunded
    order_lines: int = 0  # POS + JD rows (lines), Tmall orders, WeChat orders
    destroyed_ids: int = 0  # Tmall order ids written as 1.23457E+18 (the adapter must quarantine them)
    touches: int = 0
    identifiers: int = 0
    identity_pairs_total: int = 0
    identity_pairs_connected: int = 0
    identity_linkability: float = 1.0  # share of same-person identifier pairs linked by file evidence
    notes: dict[str, object] = field(default_factory=dict)

    @property
    def landing(self) -> Path:
        return self.out_dir / "landing"

    @property
    def ground_truth(self) -> Path:
        return self.out_dir / "ground_truth"


def _timeline(end_date: dt.date, years: float) -> Timeline:
    months = max(1, round(years * 12))
    after = end_date + dt.timedelta(days=1)
    y, m = divmod(after.year * 12 + after.month - 1 - months, 12)
    start = dt.date(y, m + 1, min(after.day, calendar.monthrange(y, m + 1)[1]))
    days = (after - start).days
    return Timeline(start=np.datetime64(start, "s"), days=days,
                    export_at=np.datetime64(after, "s") + np.timedelta64(9 * 3600, "s"))


def generate(out_dir: Path, people: int = 5000, seed: int = 42, end_date: dt.date = dt.date(2026, 10, 31),
             years: float = 2.0, progress: Callable[[str], None] | None = None,
             daily_days: int = 0) -> GenerateSummary:
    """Write ``out_dir/landing/<source>/*`` (native exports) and ``out_dir/ground_truth/*.parquet``.

    Deterministic: the same arguments give byte-identical files. Files this generator wrote earlier
    that the new run does not produce are removed from the landing folders; nothing else is touched.
    ``daily_days``: the order exports (pos, tmall, jd, wechat_pay) of the last N days up to ``end_date``
    are written one file per day and channel (``<prefix><YYYY-MM-DD>.csv``, the day's rows only) instead
    of inside their monthly file: a daily delivery, as scripts/bench_daily.py loads it.
    """
    if people < 1:
        raise ValueError(f"people must be at least 1, got {people}")
    if daily_days < 0:
        raise ValueError(f"daily_days must be at least 0, got {daily_days}")
    if years <= 0:
        raise ValueError(f"years must be positive, got {years}")
    say = progress or (lambda _msg: None)
    out_dir = Path(out_dir)
    landing, gt = out_dir / "landing", out_dir / "ground_truth"
    tl = _timeline(end_date, years)

    say(f"simulating {people:,} people over {tl.days} days")
    ppl = simulate_people(np.random.default_rng([seed, 1]), people, tl)
    skel = simulate_skeleton(np.random.default_rng([seed, 2]), ppl, tl)
    say(f"running campaigns on {len(skel):,} organic orders")
    camp = run_campaigns(np.random.default_rng([seed, 3]), ppl, skel, tl)
    all_skel = pd.concat([skel, camp.extra_orders], ignore_index=True)
    orders = materialize(np.random.default_rng([seed, 4]), all_skel, ppl, tl)
    say(f"{len(orders.orders):,} orders, {len(orders.lines):,} lines, {len(camp.touches):,} touch events")

    emitted = Emitted()
    ctx = Ctx(landing=landing, tl=tl, people=ppl, orders=orders, emitted=emitted,
              rng=np.random.default_rng([seed, 5]), daily_days=daily_days)
    steps = (("pos", write_pos), ("tmall", write_tmall), ("jd", write_jd), ("wechat_members", write_members),
             ("wechat_pay", write_pay))
    for i, (source, writer) in enumerate(steps):
        say(f"writing {source}")
        ctx.rng = np.random.default_rng([seed, 10 + i])
        writer(ctx)
    say("writing touches")
    ctx.rng = np.random.default_rng([seed, 20])
    write_touches(ctx, camp.touches)
    _remove_stale(landing, ctx.files)

    say("writing ground truth")
    destroyed = set(ctx.notes.get("tmall_destroyed_ids", []))
    info = write_truth(gt, tl, ppl, orders, emitted, camp.assignments, destroyed)
    link = info["linkability"]
    o = orders.orders
    summary = GenerateSummary(
        out_dir=out_dir, people=people, seed=seed, start_date=pd.Timestamp(tl.start).date(), end_date=end_date,
        files={k: list(v) for k, v in ctx.files.items()}, rows=dict(ctx.rows), orders=len(o),
        purchases=int(o["is_purchase"].sum()), order_lines=sum(ctx.rows.get(s, 0) for s in ("pos", "tmall", "jd"))
        + int((o["channel"] == 3).sum()), destroyed_ids=len(destroyed), touches=len(camp.touches),
        identifiers=int(info["identifiers"]), identity_pairs_total=int(link["pairs_total"]),
        identity_pairs_connected=int(link["pairs_connected"]), identity_linkability=float(link["share"]),
        notes={k: v for k, v in ctx.notes.items() if k != "tmall_destroyed_ids"},
    )
    (gt / "summary.json").write_text(json.dumps(_jsonable(summary), ensure_ascii=False, indent=2) + "\n",
                                     encoding="utf-8")
    say(f"done: {summary.orders:,} orders, identity linkability {summary.identity_linkability:.2%}")
    return summary


def _jsonable(summary: GenerateSummary) -> dict:
    d = asdict(summary)
    d["out_dir"] = "."  # keep the file independent of where it was written
    d["start_date"], d["end_date"] = str(summary.start_date), str(summary.end_date)
    return d


def _remove_stale(landing: Path, files: dict[str, list[str]]) -> None:
    """Drop files a previous run of this generator wrote that this run did not (e.g. xlsx became csv)."""
    for source, prefix in SOURCE_PREFIXES.items():
        folder = landing / source
        if not folder.is_dir():
            continue
        keep = set(files.get(source, []))
        for p in folder.iterdir():
            if p.is_file() and p.name.startswith(prefix) and p.suffix in (".csv", ".xlsx") and p.name not in keep:
                p.unlink()
