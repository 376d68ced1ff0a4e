"""Issue 21 item 2: ``-`` reads CSV from stdin and writes to stdout in the main file commands."""

from __future__ import annotations

import hashlib
import io
import json
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from seglens.cli import app

runner = CliRunner()

TX = (
    "order_id,customer_id,timestamp,amount\n"
    "a,1,2024-01-02,10.0\nb,1,2024-02-03,20.0\nc,2,2024-01-05,5.5\nd,3,2024-03-01,7.0\n"
)


def _segments(n: int = 60) -> str:
    return "customer_id,segment\n" + "".join(f"{i},{'ABC'[i % 3]}\n" for i in range(n))


def test_ingest_reads_stdin_and_writes_the_canonical_csv_to_stdout() -> None:
    out = runner.invoke(app, ["ingest", "-", "-o", "-"], input=TX)
    assert out.exit_code == 0, out.output
    table = pl.read_csv(io.StringIO(out.stdout), infer_schema=False)
    assert table.height == 4
    assert {"customer_id", "order_id", "timestamp", "amount"} <= set(table.columns)
    assert out.stderr  # the cleaning report went to stderr


def test_ingest_stdin_with_json_report() -> None:
    out = runner.invoke(app, ["ingest", "-", "--json"], input=TX)
    assert out.exit_code == 0, out.output
    assert json.loads(out.stdout)["rows_read"] == 4


def test_ingest_stdout_with_json_puts_the_report_on_stderr() -> None:
    out = runner.invoke(app, ["ingest", "-", "-o", "-", "--json"], input=TX)
    assert out.exit_code == 0, out.output
    assert pl.read_csv(io.StringIO(out.stdout)).height == 4
    assert json.loads(out.stderr)["output"] == "<stdout>"


def test_labels_import_from_stdin_hashes_the_bytes_read(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'store.db'}"
    labels = "customer_id,segment\n1,A\n2,B\n"
    out = runner.invoke(app, ["labels", "import", "-", "--db", db], input=labels)
    assert out.exit_code == 0, out.output
    assert "<stdin>: 2 labels added" in out.stdout
    again = runner.invoke(app, ["labels", "import", "-", "--db", db], input=labels)
    assert "<stdin>: already imported" in again.stdout  # same bytes, same hash
    from seglens.store import open_store
    from seglens.store.models import Import

    with open_store(db) as store, store.read() as s:
        row = s.query(Import).filter(Import.kind == "labels").first()
        assert row is not None
        assert row.file_hash == hashlib.sha256(labels.encode()).hexdigest()
        assert row.source == "<stdin>"


def test_audit_sample_writes_the_sheet_to_stdout_and_the_summary_to_stderr(
    tmp_path: Path,
) -> None:
    seg = tmp_path / "seg.csv"
    seg.write_text(_segments(600))
    out = runner.invoke(
        app, ["audit-sample", "--segments", str(seg), "--out", "-", "--total", "90"]
    )
    assert out.exit_code == 0, out.output
    sheet = pl.read_csv(io.StringIO(out.stdout), infer_schema=False)
    assert sheet.height == 90
    assert "assigned_segment" in sheet.columns
    assert "Wrote <stdout>" in out.stderr


def test_accuracy_reads_segments_from_stdin(tmp_path: Path) -> None:
    lab = tmp_path / "lab.csv"
    lab.write_text("customer_id,segment\n0,A\n1,B\n2,C\n3,A\n4,Z\n")
    args = ["accuracy", "--segments", "-", "--labels", str(lab), "--match", "names", "--json"]
    out = runner.invoke(app, args, input=_segments())
    assert out.exit_code == 0, out.output
    assert json.loads(out.stdout)["accuracy_pct"] == pytest.approx(80.0)


def test_accuracy_refuses_two_stdins() -> None:
    args = ["accuracy", "--segments", "-", "--labels", "-"]
    assert runner.invoke(app, args, input=_segments()).exit_code == 2
