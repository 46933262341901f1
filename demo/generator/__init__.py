"""Synthetic demo exports: native files for every landing source, with ground truth beside them.

``generate(out_dir, people=5000, seed=42)`` writes ``out_dir/landing/<source>/`` (POS, Tmall, JD, WeChat
members, WeChat Pay bills, campaign touches) exactly as merchants export them (FORMATS.md, every quirk)
and ``out_dir/ground_truth/*.parquet`` (people, identifiers, orders, campaigns with their true uplift).
"""

from .core import GenerateSummary, generate

__all__ = ["GenerateSummary", "generate"]
