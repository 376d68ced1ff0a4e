"""`seglens demo` runs the whole main job on the embedded data and says where the outputs are."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from seglens.cli import app
from seglens.demo import CURVE_SIZES, DEMO_AS_OF, run_demo, sample_data_path
from seglens.report import compute_attributes, snapshot_from_dict
from seglens.store import audit_design, kpi_table, label_events, open_store, run_assignments

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
    # No labels ship with the sample: 2011Q2 is only monitored; 2011Q3 is measured by the
    # simulated feedback loop, the proxy stays a monitoring signal.
    assert {k["metric"] for k in result.monitoring} == {"segment_hold"}
    assert {k["period"] for k in result.measured} == {"2011Q3"}
    q3 = next(k for k in result.monitoring if k["period"] == "2011Q3")
    data = json.loads(result.files["report_json"].read_text("utf-8"))
    assert result.loop is not None
    assert data["accuracy"]["n"] == result.loop.before["n"]
    assert data["accuracy"]["value_pct"] == pytest.approx(result.loop.before["value"])
    # the review tells the loop's story with both figures
    assert tuple(data["notes"][-len(result.loop.story()) :]) == result.loop.story()
    after = result.loop.after
    assert f"{after['value']:.1f} % (95 % CI {after['ci_low']:.1f}-{after['ci_high']:.1f}" in html
    proxies = data["proxies"]
    assert any(p["n"] == q3["n"] and p["value"] == q3["value"] / 100 for p in proxies)
    # the review's learning section: before/after with n and CI, the curve, tips from them
    learning = data["learning"]
    for key, row in (("before", result.loop.before), ("after", after)):
        est = learning[key]
        assert (est["value_pct"], est["n"]) == (pytest.approx(row["value"]), row["n"])
        assert (est["ci_low_pct"], est["ci_high_pct"]) == (
            pytest.approx(row["ci_low"]),
            pytest.approx(row["ci_high"]),
        )
        assert f"{row['value']:.1f} %</td>" in html
        assert f"{row['ci_low']:.1f}–{row['ci_high']:.1f}</td>" in html
    assert learning["after_fresh"] is True and learning["overlap"] == 0
    assert f"re-measured on a fresh audit of {after['n']} other customers (0 learnt from)" in html
    curve = result.loop.curve
    assert [p["n_labels"] for p in learning["curve"]] == [*CURVE_SIZES, 80]
    assert [p["agreement"]["value_pct"] for p in learning["curve"]] == [
        pytest.approx(p.accuracy.value_pct) for p in curve.points
    ]
    assert learning["projection"] == curve.projection.message
    assert snapshot_from_dict(data) == result.review
    tips = next(a for a in compute_attributes(result.review) if a.key == "improvement_tips")
    text = " | ".join(i.text for i in tips.items)
    assert f"expected KPI {after['value']:.1f} % (95 % CI [{after['ci_low']:.1f}, " in text
    assert f"n = {after['n']})" in text
    if curve.projection.status == "rising":
        for gain, labels in curve.projection.labels_for_gain:
            if labels is not None and labels <= 100 * 80:
                assert f"+{gain:g} point" in text and f"about {labels - 80:,} more labels" in text
    else:
        assert curve.projection.message in text


def test_demo_loop_measures_before_and_after_on_separate_audits(tmp_path: Path) -> None:
    result = run_demo(tmp_path / "out", pdf=False)
    loop = result.loop
    assert loop is not None and loop.after_run_id != loop.before_run_id
    with open_store(str(result.files["store"])) as store:
        kpis = kpi_table(store)
        first = audit_design(store, run_id=loop.before_run_id)
        second = audit_design(store, run_id=loop.after_run_id)
        events = label_events(store)
        learnt = run_assignments(store, loop.after_run_id)
        rfm = run_assignments(store, loop.before_run_id)
    assert first is not None and second is not None
    # the figures printed are the stored measurements of each run, with n and a CI
    for row, run in ((loop.before, loop.before_run_id), (loop.after, loop.after_run_id)):
        stored = kpis.filter((pl.col("run_id") == run) & (pl.col("metric") == row["metric"])).row(
            -1, named=True
        )
        assert stored["value"] == pytest.approx(row["value"])
        assert stored["n"] == row["n"] > 0
        assert row["ci_low"] <= row["value"] <= row["ci_high"]
    assert loop.before["metric"] == "accuracy_audit"
    assert loop.before["n"] == first.members.height == loop.n_learnt_from
    # the after figure never scores a customer the model learnt from
    assert loop.overlap == 0
    assert first.members.join(second.members, on="customer_id").is_empty()
    after_labels = events.filter(pl.col("run_id") == loop.after_run_id)
    assert set(after_labels["customer_id"]) == set(second.members["customer_id"])
    assert loop.after["n"] == after_labels.height
    assert set(after_labels["purpose"]) == {"kpi"}
    # the learnt run segments every customer of the RFM run
    assert set(learnt["customer_id"]) == set(rfm["customer_id"])
    assert 0 < loop.reviewer_agreement < 1 and "spend_last_90d" in loop.truth_rule
    # deterministic: a second run gives the same figures
    again = run_demo(tmp_path / "again", pdf=False).loop
    assert again is not None
    assert (again.before["value"], again.after["value"]) == (
        loop.before["value"],
        loop.after["value"],
    )


def test_demo_command_prints_where_outputs_are(tmp_path: Path) -> None:
    out = tmp_path / "demo-out"
    res = CliRunner().invoke(app, ["demo", "--output", str(out), "--no-pdf"])
    assert res.exit_code == 0, res.output
    assert "Cleaning report" in res.output
    flat = " ".join(res.output.split())
    assert "Tracked KPI" not in flat
    assert "2011Q2 │ accuracy │ not measured" in flat
    assert "simulated reviewers, not real people: they confirm the true segment with " in flat
    assert "probability 90 %" in flat
    assert "Before - RFM run" in flat and "n = 80 labels, accuracy_audit" in flat
    assert "After - re-measured on a fresh audit of" in flat and "(0 learnt from)" in flat
    assert "monitoring (not the KPI)" in flat
    assert "Learning curve (agreement with unseen labels, not the KPI)" in flat
    assert "Projection: " in flat
    assert "segment_hold: label-free, not the KPI - " in flat
    assert str(out / "review.html") in res.output.replace("\n", "")
    assert (out / "review.html").exists()
