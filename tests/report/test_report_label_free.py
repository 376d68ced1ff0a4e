"""A period without labels: the review says "not measured (n = 0)", plans the audit, and keeps
every label-free proxy in the Monitoring panel (never the headline, the target or a light)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import replace
from datetime import date, datetime
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

import seglens.cli.report_cmd  # noqa: F401  (registers `seglens report`)
from seglens.accuracy import proxy_caveat
from seglens.audit import plan_audit
from seglens.cli._app import app
from seglens.errors import DataError
from seglens.report import (
    Estimate,
    PeriodKPI,
    ReviewSnapshot,
    SegmentStat,
    compute_attributes,
    read_snapshot,
    render_html,
    snapshot_from_dict,
    snapshot_to_dict,
)
from seglens.report.charts import make_charts
from seglens.report.collect_store import collect_from_store
from seglens.report.diagnose import risks
from seglens.store import kpi_table, open_store, run_assignments
from seglens.synthetic import make_population
from seglens.tracking import track
from tests.report.label_free_checks import (
    check_label_free_json,
    check_label_free_review,
    embedded_json,
)
from tests.report.report_builders import build_label_free


@pytest.fixture(scope="module", autouse=True)
def _private_env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Keep keys and default databases out of the user's home; no webhook."""
    home = tmp_path_factory.mktemp("home")
    with pytest.MonkeyPatch.context() as mp:
        for var in ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME"):
            mp.setenv(var, str(home / var.lower()))
        mp.setenv("SEGLENS_PSEUDONYM_KEY", "report-tests")
        mp.delenv("SEGLENS_WEBHOOK_URL", raising=False)
        mp.delenv("SEGLENS_DB", raising=False)
        yield


@pytest.fixture(scope="module")
def label_free_db(tmp_path_factory: pytest.TempPathFactory, _private_env: None) -> Path:
    """Two quarters tracked with `track` and no label at all (only the hold rate is stored)."""
    path = tmp_path_factory.mktemp("store") / "seglens.db"
    pop = make_population(300, n_segments=3, seed=4)
    tx = pop.transactions(start=datetime(2011, 1, 1), days=365)
    with open_store(str(path)) as store:
        track(store, tx, as_of=date(2011, 6, 30))
        track(store, tx, as_of=date(2011, 9, 30))
    return path


def _stored_hold(path: Path) -> tuple[dict[str, object], dict[str, int]]:
    """The stored Q3 hold-rate row and the segment sizes of its run, read from the store."""
    with open_store(str(path)) as store:
        rows = kpi_table(store)
        assert set(rows["metric"]) == {"segment_hold"}  # no accuracy was ever measured
        row = rows.filter(pl.col("period") == "2011Q3").row(0, named=True)
        seg = run_assignments(store, int(row["run_id"]))  # type: ignore[call-overload]
    sizes = {str(s): int(n) for s, n in seg.group_by("segment").len().iter_rows()}
    return row, sizes


def test_cli_label_free_review_html_and_json(label_free_db: Path, tmp_path: Path) -> None:
    out, js = tmp_path / "review.html", tmp_path / "review.json"
    res = CliRunner().invoke(
        app, ["report", "--db", str(label_free_db), "-o", str(out), "--json", str(js)]
    )
    assert res.exit_code == 0, res.output
    hold, sizes = _stored_hold(label_free_db)
    plans = {m: plan_audit(dict(sorted(sizes.items())), margin_pct=m) for m in (5.0, 3.0)}
    flat = " ".join(res.output.split())  # the console wraps long lines
    first, monitoring = flat.split(" monitoring ", 1)
    assert first.startswith("2011Q3: Segmentation accuracy not measured (n = 0)")
    assert "%" not in first and "RED" not in flat and "GREEN" not in flat
    assert f"{plans[5.0].total:,} labels for ±5 points" in first
    assert f"{plans[3.0].total:,} labels for ±3 points" in first
    assert monitoring.startswith("(label-free, not the KPI): held (out of time)")
    page = out.read_text("utf-8")
    root = check_label_free_review(page, segment_sizes=sizes)
    # The stored hold rate is a monitoring row with its n and calibrated caveat, nothing more.
    data = snapshot_to_dict(read_snapshot(js))
    assert data == embedded_json(page)
    proxies = check_label_free_json(data)
    assert [(p["name"], p["n"]) for p in proxies] == [("held (out of time)", hold["n"])]
    assert proxies[0]["value"] == pytest.approx(float(hold["value"]) / 100)  # type: ignore[arg-type]
    assert proxies[0]["caveat"] == proxy_caveat("out_of_time_held")
    # The accuracy trend has no measured point to draw, so there is no target line at all.
    assert not root.find(data_chart="trend")
    # The saved snapshot renders the same label-free review without the store.
    again = tmp_path / "again.html"
    res2 = CliRunner().invoke(app, ["report", "--snapshot", str(js), "-o", str(again)])
    assert res2.exit_code == 0, res2.output
    check_label_free_review(again.read_text("utf-8"), segment_sizes=sizes)


def test_the_attributes_agree_with_an_unmeasured_headline(label_free_db: Path) -> None:
    with open_store(str(label_free_db)) as store:
        snap = collect_from_store(store)
    assert snap.accuracy is None and snap.status is None and snap.change is None
    text = {
        a.key: " | ".join([a.summary, *(i.text for i in a.items)]) for a in compute_attributes(snap)
    }
    total5 = plan_audit(
        dict(sorted((s.name, s.customers) for s in snap.segments)), margin_pct=5.0
    ).total
    assert "not measured" in text["definition"] and "(n = 0)" in text["definition"]
    assert "not measured" in text["business_insights"]
    # No accuracy is computed from a proxy; the formula shown is the audit plan's.
    assert "not computed" in text["formula"] and f"n = {total5:,}" in text["formula"]
    assert re.search(r"\d+ / \d+ × 100", text["formula"]) is None
    assert "No action needed" not in text["improvement_tips"]
    assert "Measure the KPI first" in text["improvement_tips"]
    assert "no traffic light" in text["visualization"]
    assert "not-measured" in {r.kind for r in risks(snap)}
    # The stored hold-rate alerts are monitoring notes, not coloured KPI risks.
    assert all(
        i.severity == "info"
        for a in compute_attributes(snap)
        if a.key == "risk_warnings"
        for i in a.items
        if "Monitoring" in i.text
    )


def test_a_proxy_cannot_head_the_review(label_free_db: Path, tmp_path: Path) -> None:
    res = CliRunner().invoke(
        app,
        [
            "report",
            "--db",
            str(label_free_db),
            "--metric",
            "segment_hold",
            "-o",
            str(tmp_path / "x"),
        ],
    )
    assert (
        res.exit_code == 2
        and "monitoring signal, not the Segmentation Accuracy KPI" in " ".join(res.output.split())
    )


def test_the_trend_plots_measured_periods_only() -> None:
    snap = build_label_free()
    assert [p.period for p in snap.trend] == ["2011Q1", "2011Q2"]
    trend = next(c for c in make_charts(snap) if c.key == "trend")
    rows = trend.spec["data"]["values"]
    assert [r["period"] for r in rows] == ["2011Q1", "2011Q2"]
    assert [r["value"] for r in rows] == [85.0, 90.0]
    targets = [layer for layer in trend.spec["layer"] if "target" in str(layer.get("encoding"))]
    assert targets  # the target rule is drawn, against measured periods only
    page = render_html(snap)
    check_label_free_review(page, segment_sizes={"Loyal": 600, "New": 300, "Lost": 90})
    for shown in ("39.7", "0.397", "61.2", "0.612"):  # the hold rate and the ARI
        assert shown not in trend.svg
    text = {a.key: a.summary for a in compute_attributes(snap)}
    assert "Only" not in text["trend_analysis"] and "2 measured periods" in text["trend_analysis"]


def test_a_trend_point_must_be_measured() -> None:
    with pytest.raises(DataError, match="trend point must be a measured accuracy"):
        PeriodKPI("2011Q2", Estimate.from_counts(54, 136), method="unmeasured")
    with pytest.raises(DataError, match="does not fit"):
        ReviewSnapshot("2011Q3", Estimate.from_counts(54, 136), (), method="unmeasured")
    with pytest.raises(DataError, match="does not fit"):
        ReviewSnapshot("2011Q3", None, ())


def test_version_1_proxy_snapshots_are_read_as_unmeasured() -> None:
    """The issue's review (hold rate 54 / 136 as the headline) read from a v1 JSON file."""
    v1 = snapshot_to_dict(
        ReviewSnapshot(
            "2011Q3",
            Estimate.from_counts(54, 136),
            (SegmentStat("Loyal", 600), SegmentStat("New", 300)),
            history=(PeriodKPI("2011Q2", Estimate.from_counts(50, 120)),),
        )
    )
    v1["schema_version"] = 1
    v1["method"] = "proxy"
    v1["history"][0]["method"] = "proxy"
    snap = snapshot_from_dict(v1)
    assert snap.accuracy is None and snap.method == "unmeasured" and snap.history == ()
    assert [(p.name, p.n) for p in snap.proxies] == [("held (out of time)", 136)]
    assert snap.proxies[0].value == pytest.approx(54 / 136)
    check_label_free_review(render_html(snap), segment_sizes={"Loyal": 600, "New": 300})
    # A labelled v1 snapshot reads unchanged; schema 2 round-trips.
    labelled = build_label_free()
    labelled = replace(labelled, accuracy=Estimate.from_counts(90, 100), method="labelled")
    old = snapshot_to_dict(labelled) | {"schema_version": 1}
    assert snapshot_from_dict(old) == labelled
    assert snapshot_from_dict(snapshot_to_dict(build_label_free())) == build_label_free()
    with pytest.raises(DataError, match="schema version 4"):
        snapshot_from_dict(snapshot_to_dict(labelled) | {"schema_version": 4})
