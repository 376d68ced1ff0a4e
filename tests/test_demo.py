"""`seglens demo` runs the whole main job on the embedded data and says where the outputs are."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from seglens.cli import app
from seglens.demo import DEMO_AS_OF, run_demo, sample_data_path
from seglens.store import open_store, run_assignments
from tests.report.label_free_checks import check_label_free_json, check_label_free_review

pytestmark = pytest.mark.slow


def test_sample_is_the_documented_online_retail_subset() -> None:
    raw = pl.read_csv(sample_data_path(), infer_schema=False)
    assert raw.columns == [
        "InvoiceNo",
        "StockCode",
        "Description",
        "Quantity",
        "InvoiceDate",
        "UnitPrice",
        "CustomerID",
        "Country",
    ]
    assert raw.height == 20_933
    assert raw["CustomerID"].drop_nulls().n_unique() == 200
    assert sample_data_path().stat().st_size < 400_000


def test_run_demo_writes_every_output(tmp_path: Path) -> None:
    steps: list[str] = []
    result = run_demo(tmp_path / "out", pdf=False, on_step=steps.append)
    assert len(steps) >= 6
    for name, path in result.files.items():
        assert path.exists(), name
        assert path.stat().st_size > 0, name
    assert "report_pdf" not in result.files
    cleaning = json.loads(result.files["cleaning_report"].read_text())
    assert cleaning["rows_read"] == 20_933
    # 200 sampled customers, some of whom only bought after the as-of date
    assert 0 < result.n_customers <= 200
    assert result.n_segments >= 3
    # a planted, well-separated truth is recovered and the CI brackets the estimate
    low, high = result.planted_ci_pct
    assert result.planted_accuracy_pct >= 85.0
    assert low <= result.planted_accuracy_pct <= high
    assert result.planted_n == 5_000
    # two tracked quarters, each with n and a CI
    periods = sorted({k["period"] for k in result.kpis})
    assert periods == [f"{d.year}Q{(d.month - 1) // 3 + 1}" for d in DEMO_AS_OF]
    for k in result.kpis:
        assert k["n"] > 0
        assert k["ci_low"] <= k["value"] <= k["ci_high"]
    html = result.files["report_html"].read_text(encoding="utf-8")
    assert "2011Q3" in html
    # No labels ship with the sample: the KPI is not measured, only monitored.
    assert result.measured == [] and {k["metric"] for k in result.monitoring} == {"segment_hold"}
    q3 = next(k for k in result.kpis if k["period"] == "2011Q3")
    with open_store(str(result.files["store"])) as store:
        seg = run_assignments(store, int(q3["run_id"]))
    sizes = {str(s): int(n) for s, n in seg.group_by("segment").len().iter_rows()}
    check_label_free_review(html, segment_sizes=sizes)
    proxies = check_label_free_json(json.loads(result.files["report_json"].read_text("utf-8")))
    assert any(p["n"] == q3["n"] and p["value"] == q3["value"] / 100 for p in proxies)


def test_demo_command_prints_where_outputs_are(tmp_path: Path) -> None:
    out = tmp_path / "demo-out"
    res = CliRunner().invoke(app, ["demo", "--output", str(out), "--no-pdf"])
    assert res.exit_code == 0, res.output
    assert "Cleaning report" in res.output
    flat = " ".join(res.output.split())
    assert "Tracked KPI" not in flat
    assert "Segmentation accuracy of the real sample: not measured (n = 0)" in flat
    assert "2011Q3 │ accuracy │ not measured" in flat
    assert "monitoring (not the KPI)" in flat
    assert "segment_hold: label-free, not the KPI - " in flat
    assert str(out / "review.html") in res.output.replace("\n", "")
    assert (out / "review.html").exists()
