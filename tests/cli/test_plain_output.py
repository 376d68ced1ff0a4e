"""Piped output is plain: tables as wide as their content, long names neither wrapped nor cut."""

from __future__ import annotations

from pathlib import Path

import polars as pl
from typer.testing import CliRunner

from seglens.cli import app


def test_piped_tables_keep_long_segment_names_whole(tmp_path: Path) -> None:
    long_name = "Champions who buy every week from the catalogue and the web shop alike " * 2
    seg = tmp_path / "segments.csv"
    pl.DataFrame(
        {
            "customer_id": [str(i) for i in range(200)],
            "segment": [long_name.strip() if i % 2 else "Other" for i in range(200)],
        }
    ).write_csv(seg)
    out = CliRunner().invoke(
        app, ["audit-sample", "--segments", str(seg), "--out", str(tmp_path / "a.csv")]
    )
    assert out.exit_code == 0, out.output
    assert long_name.strip() in out.output  # on one line, not folded at 80 columns
    assert "…" not in out.output
    path_line = next(line for line in out.output.splitlines() if line.startswith("Wrote "))
    assert str(tmp_path / "a.csv") in path_line
