"""`seglens ingest`: the mapping and report as tables, the stable JSON, clear errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

from seglens.cli import app

BAD = Path(__file__).resolve().parent.parent / "data" / "bad"
SAMPLE = Path(__file__).resolve().parents[2] / "src" / "seglens" / "data"


def _csv(tmp_path: Path) -> Path:
    path = tmp_path / "orders.csv"
    path.write_text(
        "CustID,Invoice,OrderDate,Total\n0012,A1,2024-01-05,12.5\n,A2,2024-01-06,3\n"
        "0345,A3,2024-03-01,7\n"
    )
    return path


def test_json_report_has_the_documented_keys(tmp_path: Path) -> None:
    path = _csv(tmp_path)
    out = tmp_path / "clean.parquet"
    result = CliRunner().invoke(
        app,
        [
            "ingest",
            str(path),
            "--columns",
            "customer_id=CustID,order_id=Invoice,timestamp=OrderDate,amount=Total",
            "--as-of",
            "2024-02-01",
            "--json",
            "--output",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert set(data) == {
        "schema_version",
        "source",
        "table",
        "format",
        "rows_read",
        "rows_kept",
        "rows_excluded",
        "customers_read",
        "customers_kept",
        "columns_read",
        "layout",
        "mapping",
        "details",
        "rules",
        "warnings",
        "output",
    }
    assert data["schema_version"] == 1
    assert (data["rows_read"], data["rows_kept"]) == (3, 1)
    assert data["mapping"]["customer_id"] == {"source": "CustID", "how": "explicit"}
    rules = {r["rule"]: r for r in data["rules"]}
    assert rules["missing_customer_id"]["rows"] == 1
    assert rules["missing_customer_id"]["examples"] == [
        {"line": 3, "column": "CustID", "value": None}
    ]
    assert rules["after_as_of"]["rows_excluded"] == 1
    for rule in data["rules"]:
        assert set(rule) == {"rule", "action", "rows", "rows_excluded", "description", "examples"}
    import polars as pl

    assert pl.read_parquet(out)["customer_id"].to_list() == ["0012"]


def test_table_output_prints_mapping_and_rules() -> None:
    result = CliRunner().invoke(
        app, ["ingest", str(SAMPLE / "online_retail_sample.csv.gz")], terminal_width=160
    )
    assert result.exit_code == 0, result.output
    out = " ".join(result.stdout.split())  # Rich wraps to the terminal width
    assert "layout: UCI Online Retail" in out
    assert "Quantity * UnitPrice" in out
    for rule in ("missing_customer_id", "duplicate_line", "cancellation", "non_product_code"):
        assert rule in out
    assert "rows read 20,933" in out


def test_errors_exit_2_without_traceback() -> None:
    result = CliRunner().invoke(app, ["ingest", str(BAD / "impossible_dates.csv")])
    assert result.exit_code == 2
    assert "Traceback" not in result.output
    assert "2011-02-30" in result.output
    result = CliRunner().invoke(app, ["ingest", str(BAD / "binary_junk.csv"), "--max-size", "1KB"])
    assert result.exit_code == 2
    assert "over the size limit of 1,000 bytes" in result.output
    result = CliRunner().invoke(app, ["ingest", "x.csv", "--columns", "customer_id"])
    assert result.exit_code == 2
    assert "cannot read the column mapping pair" in result.output


def test_real_process_never_shows_a_traceback() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "seglens.cli", "ingest", str(BAD / "ragged_rows.csv")],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if "No module named seglens.cli.__main__" in proc.stderr:
        proc = subprocess.run(
            [
                sys.executable,
                "-c",
                "from seglens.cli import app; app()",
                "ingest",
                str(BAD / "ragged_rows.csv"),
            ],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr
    assert "line 6" in proc.stderr
