"""The twelve attributes reason from the numbers: known answers on hand-built snapshots."""

from __future__ import annotations

from dataclasses import replace

import pytest
from scipy.stats import binomtest

from seglens.report import (
    ATTRIBUTE_KEYS,
    ConfusionTable,
    Estimate,
    Finding,
    MigrationTable,
    PeriodKPI,
    ReviewSnapshot,
    SegmentStat,
    compute_attributes,
)
from seglens.report.diagnose import confused_pairs, label_shortfalls, risks, weakest_segments
from seglens.report.impact import misdirected_revenue
from seglens.settings import DEFAULT_SETTINGS
from seglens.stats import labels_needed, two_proportion_test, wilson_interval
from tests.report.report_builders import Built


def _by_key(snap: ReviewSnapshot) -> dict[str, str]:
    """Each attribute's summary and items joined into one text."""
    return {
        a.key: " | ".join([a.summary, *(i.text for i in a.items)]) for a in compute_attributes(snap)
    }


def _two_mixed_segments() -> ReviewSnapshot:
    """X and Y swap many customers; Z is clean. Rows: true labels; columns: segments."""
    conf = ConfusionTable(
        ("X", "Y", "Z"),
        ("X", "Y", "Z"),
        ((60, 30, 0), (40, 70, 2), (0, 0, 98)),
    )
    segs = []
    for j, name in enumerate(conf.segments):
        col = [row[j] for row in conf.counts]
        segs.append(
            SegmentStat(
                name,
                sum(col) * 10,
                precision=Estimate.from_counts(col[j], sum(col)),
                stability=0.9 if name != "Y" else 0.6,
                revenue=1000.0 * (j + 1),
            )
        )
    correct = sum(conf.counts[i][i] for i in range(3))
    return ReviewSnapshot(
        "2011Q3",
        Estimate.from_counts(correct, conf.total),
        tuple(segs),
        confusion=conf,
        history=(PeriodKPI("2011Q2", Estimate.from_counts(270, 300)),),
    )


def test_diagnostics_name_the_weakest_segment_and_where_its_customers_belong() -> None:
    snap = _two_mixed_segments()
    weak = weakest_segments(snap)
    assert [s.name for s in weak] == ["X", "Y", "Z"]  # 60/100, 70/102, 98/100
    text = _by_key(snap)["diagnostics"]
    assert text.startswith("Lowest precision: “X” at 60.0 %")
    # 40 of X's 100 labelled customers are really Y.
    assert "really belong to “Y” 40 % (40)" in text


def test_improvement_tips_follow_the_diagnostics() -> None:
    snap = _two_mixed_segments()
    pairs = confused_pairs(snap)
    assert pairs[0].a == "X" and pairs[0].b == "Y" and pairs[0].mutual
    tips = _by_key(snap)["improvement_tips"]
    assert "Merge “X” and “Y”" in tips
    assert "“Y” is unstable under resampling (Jaccard 0.60)" in tips
    # Labels to reach the default ±5 points on X's 60 % precision: z² p(1-p)/m², closed form.
    assert snap.margin_pct == DEFAULT_SETTINGS.margin_pts == 5.0
    need = labels_needed(5.0, expected_pct=60.0)
    assert f"in segment “X” (100 → {need:,})" in tips
    assert "“Z”" not in tips.split("Collect")[0]  # no merge advice for the clean segment


def test_trend_states_the_significance_of_each_move() -> None:
    snap = _two_mixed_segments()
    acc = snap.accuracy
    p = two_proportion_test(270, 300, acc.value_pct / 100 * acc.n, acc.n).p_value
    assert p < 0.05  # 228/300 against 270/300 is a real drop
    trend = _by_key(snap)["trend_analysis"]
    assert "2011Q2 → 2011Q3: 90.0 % → 76.0 %" in trend and "significant" in trend
    assert snap.change is not None and snap.change.significant
    kinds = [r.kind for r in risks(snap)]
    assert "significant-drop" in kinds and "below-target" in kinds


def test_status_follows_the_interval_against_the_target() -> None:
    base = ReviewSnapshot("Q", Estimate.from_counts(990, 1000), (SegmentStat("A", 1),))
    assert base.status == "green"
    assert replace(base, accuracy=Estimate.from_counts(86, 100)).status == "amber"
    assert replace(base, accuracy=Estimate.from_counts(70, 100)).status == "red"
    # A significant drop (the alert rule: >= 5 points, p < 0.05) turns green into amber even
    # above target; a significant 1-point dip is not a drop the alerts would raise.
    before = (PeriodKPI("P", Estimate.from_counts(2000, 2000)),)
    dipped = replace(base, history=before)
    assert dipped.change is not None and dipped.change.significant
    assert not dipped.change.significant_drop and dipped.status == "green"
    fell = replace(base, accuracy=Estimate.from_counts(940, 1000), history=before)
    assert fell.change is not None and fell.change.significant_drop
    assert fell.status == "amber"


def test_wilson_interval_agrees_with_scipy() -> None:
    for k, n in [(0, 10), (9, 10), (341, 400), (1, 1)]:
        ci = binomtest(k, n).proportion_ci(method="wilson")
        assert wilson_interval(k, n) == pytest.approx((ci.low, ci.high), abs=1e-12)
        e = Estimate.from_counts(k, n)
        assert e.ci_low_pct == pytest.approx(100 * ci.low)


def test_change_impact_relates_revenue_and_migration() -> None:
    snap = replace(
        _two_mixed_segments(),
        migration=MigrationTable(
            "2011Q2",
            "2011Q3",
            ("X", "Y"),
            ("X", "Y"),
            ((80, 20), (5, 95)),
            ((8.0, 2.0), (0.5, 9.5)),
        ),
        currency="GBP",
    )
    amount, share = misdirected_revenue(snap) or (0.0, 0.0)
    expect = sum(
        s.revenue * (1 - s.precision.value_pct / 100)
        for s in snap.segments
        if s.revenue is not None and s.precision is not None
    )
    assert amount == pytest.approx(expect)
    text = _by_key(snap)["change_impact"]
    assert f"About GBP {expect:,.0f} of revenue ({share:.1f} %)" in text
    assert "25 of 200 customers (12.5 %) changed segment" in text
    assert "“X” → “Y”: 20 customers, revenue GBP 2." in text


def test_risk_warnings_cover_samples_stability_and_data_quality() -> None:
    snap = replace(
        _two_mixed_segments(),
        segments=(
            *_two_mixed_segments().segments,
            SegmentStat("Tiny", 7, precision=Estimate.from_counts(5, 7), stability=0.3),
        ),
        findings=(Finding("warning", "12 rows with negative quantity", "orders.csv"),),
    )
    found = {(r.kind, r.severity) for r in risks(snap)}
    assert ("instability", "critical") in found  # Jaccard 0.3 < 0.5: dissolved
    assert ("instability", "warning") in found  # Y at 0.6
    assert ("small-sample", "warning") in found  # Tiny has 7 labels
    assert ("data-quality", "warning") in found
    assert label_shortfalls(snap)[0].segment is None  # the overall interval is too wide


def test_real_review_has_twelve_non_empty_computed_attributes(automobile: Built) -> None:
    attrs = compute_attributes(automobile.snapshot)
    assert [a.key for a in attrs] == list(ATTRIBUTE_KEYS) and len(attrs) == 12
    for a in attrs:
        assert a.summary and (a.items or a.key == "trend_analysis"), a.key
    text = _by_key(automobile.snapshot)
    acc = automobile.snapshot.accuracy
    assert (
        f"{acc.successes:,.0f} / {acc.n:,} × 100 = {automobile.accuracy_pct:.2f} %"
        in text["formula"]
    )
    weakest = min(automobile.precision_pct, key=lambda k: automobile.precision_pct[k])
    assert text["diagnostics"].startswith(f"Lowest precision: “{weakest}”")
