"""Every CSV a person opens is safe from formula injection; numbers and ordinary text are untouched."""

from __future__ import annotations

import csv

import pandas as pd

from reporting.csv_files import write_csv


def test_formula_cells_are_neutralised_and_the_rest_kept(tmp_path) -> None:
    frame = pd.DataFrame(
        {
            "name": ['=HYPERLINK("http://x.example","点我")', "+cmd|' /C calc'!A0", "@SUM(A1:A9)", "-2+3",
                     "\tx", "王小明", "a=b"],
            "amount": [-12.5, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0],
        }
    )  # fmt: skip
    path = write_csv(frame, tmp_path / "list.csv", mode=0o600)
    with path.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.reader(handle))
    assert [row[0] for row in rows[1:]] == [
        '\'=HYPERLINK("http://x.example","点我")', "'+cmd|' /C calc'!A0", "'@SUM(A1:A9)", "'-2+3", "'\tx",
        "王小明", "a=b",
    ]  # fmt: skip
    assert [row[1] for row in rows[1:]] == ["-12.5", "1.0", "2.0", "3.0", "4.0", "5.0", "6.0"]
    assert path.read_bytes().startswith(b"\xef\xbb\xbf")
    assert path.stat().st_mode & 0o777 == 0o600
    assert not list(tmp_path.glob(".*tmp"))
