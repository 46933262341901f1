"""The ``repurchase`` command line: argument checking and the generate command's summary."""

from __future__ import annotations

import json

import pytest

from core.paths import SOURCES, DataPaths
from dagster_project.cli import build_parser, main


@pytest.mark.parametrize(
    "argv",
    [
        ["run", "--as-of", "2026-13-01"],
        ["run", "--as-of", "yesterday"],
        ["generate", "--people", "0"],
        ["demo", "--people", "-5"],
        ["generate", "--end-date", "31/10/2026"],
        [],
    ],
)
def test_bad_arguments_exit_with_usage_error(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as raised:
        build_parser().parse_args(argv)
    assert raised.value.code == 2
    assert "usage: repurchase" in capsys.readouterr().err


def test_defaults() -> None:
    args = build_parser().parse_args(["demo"])
    assert (args.people, args.seed) == (5000, 42)
    assert build_parser().parse_args(["run", "--as-of", "2026-06-30"]).as_of == "2026-06-30"
    assert build_parser().parse_args(["run"]).full_refresh is False
    assert build_parser().parse_args(["run", "--full-refresh"]).full_refresh is True


def test_generate_prints_files_and_rows_per_source(
    data_dir: DataPaths, capsys: pytest.CaptureFixture[str]
) -> None:
    out = data_dir.root / "demo"
    assert main(["generate", "--people", "30", "--seed", "3", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    truth = json.loads((out / "ground_truth" / "summary.json").read_text(encoding="utf-8"))
    for source in SOURCES:
        files = sorted(p for p in (out / "landing" / source).iterdir() if p.is_file())
        assert len(files) == len(truth["files"][source])
        row = f"  {source:<16}{len(files):>7}{truth['rows'][source]:>10}"
        assert row in printed.splitlines(), row
