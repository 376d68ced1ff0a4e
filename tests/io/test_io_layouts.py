"""Layouts (issue 19 item 3): every case of ``real_files_layouts.py`` gives the values it must
or the exact error (file, line, column, value, fix)."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from seglens.cli import app

from .real_files import Case
from .real_files_layouts import EXCEL_CASES, SYNONYM_CASES, WHITESPACE_CASES

CASES = SYNONYM_CASES + WHITESPACE_CASES + EXCEL_CASES


pytestmark = pytest.mark.usefixtures("deadline")


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_layout_case(case: Case, tmp_path: Path) -> None:
    case.holds(tmp_path)


def test_the_ingest_report_says_what_was_sniffed(tmp_path: Path) -> None:
    case = next(c for c in CASES if c.name == "ws_cdnow_no_header")
    out = CliRunner().invoke(app, ["ingest", str(case.write(tmp_path))])
    assert out.exit_code == 0, out.output
    text = " ".join(out.output.split())
    assert "delimiter: whitespace, header: False, timestamp_format: %Y%m%d" in text
    assert "order_id │ customer_id + date │ derived" in text
    assert "warning: the file has no header line; its columns were named from their values" in text
    assert "warning: the source has no order id column: each customer's lines with the same" in text


def test_no_traceback_from_the_command_line(tmp_path: Path) -> None:
    """`seglens ingest` on every transactions case exits 0 or 2 with a message."""
    flags = {"delimiter": "--delimiter", "sheet": "--sheet"}
    runner = CliRunner()
    for case in (c for c in CASES if c.table == "transactions"):
        args = ["ingest", str(case.write(tmp_path)), "--json"]
        for key, value in case.options.items():
            args += [flags[key], value]
        result = runner.invoke(app, args)
        assert result.exit_code == (0 if case.error is None else 2), (case.name, result.output)
        assert "Traceback" not in result.output, case.name
        if case.error is not None:
            assert result.output.startswith("error: "), (case.name, result.output)
