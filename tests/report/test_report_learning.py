"""Improvement tips from learning from labels: every figure is a measurement the snapshot holds.

The summaries are built from real :func:`seglens.segmenters.out_of_fold` and
:func:`seglens.segmenters.learning_curve` runs on generated customers; the tests recompute the
quoted figures from those results, not from the report's text.
"""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import polars as pl
import pytest
from scipy.stats import norm

from seglens.errors import DataError
from seglens.report import (
    Estimate,
    LearningSummary,
    ReviewSnapshot,
    SegmentStat,
    compute_attributes,
    render_html,
    snapshot_from_dict,
    snapshot_to_dict,
    summarize_learning,
)
from seglens.report.diagnose import learning_gain, missing_data, risks
from seglens.report.serialize import SCHEMA_VERSION
from seglens.report.text import fmt_est
from seglens.segmenters import SupervisedSegmenter, learning_curve, out_of_fold


def _customers(n: int, noise: float, seed: int) -> tuple[pl.DataFrame, list[str]]:
    """Two behavioural inputs; the label is a diagonal boundary of both (hard for trees with few
    labels), flipped with probability ``noise``."""
    rng = np.random.default_rng(seed)
    orders, recency = rng.uniform(0, 10, n), rng.uniform(0, 10, n)
    y = np.where(orders + recency >= 10, "frequent", "rare")
    flip = rng.random(n) < noise
    y = np.where(flip, np.where(y == "frequent", "rare", "frequent"), y)
    x = pl.DataFrame({"n_orders": orders, "days_since_last_purchase": 36.5 * recency})
    return x, [str(v) for v in y]


def _learnt(noise: float, sizes: tuple[int, ...], n: int) -> tuple[object, object]:
    x, y = _customers(n, noise, seed=3)
    est = SupervisedSegmenter(random_state=0)
    oof = out_of_fold(est, x, y, random_state=0)
    curve = learning_curve(est, x, y, sizes=sizes, n_draws=3, final=oof.accuracy, random_state=0)
    return oof, curve


@pytest.fixture(scope="module")
def rising() -> tuple[object, object]:
    """A curve still climbing over 25..400 labels."""
    return _learnt(0.0, (25, 50, 100, 200), n=400)


@pytest.fixture(scope="module")
def flat() -> tuple[object, object]:
    """Labels that ignore the inputs half the time: the curve is flat."""
    return _learnt(0.5, (20, 40), n=200)


def _snap(learning: LearningSummary | None) -> ReviewSnapshot:
    return ReviewSnapshot(
        "2011Q3",
        Estimate.from_counts(55, 80),
        (SegmentStat("frequent", 100), SegmentStat("rare", 100)),
        learning=learning,
    )


def _tips(snap: ReviewSnapshot) -> str:
    tips = next(a for a in compute_attributes(snap) if a.key == "improvement_tips")
    return " | ".join(i.text for i in tips.items)


BEFORE = Estimate.from_counts(55, 80)
AFTER = Estimate.from_counts(51, 59)


def _summary(pair: tuple[object, object], **kw: object) -> LearningSummary:
    oof, curve = pair
    base: dict[str, object] = {
        "before": BEFORE,
        "before_run_id": "2",
        "before_metric": "accuracy_audit",
        "after": AFTER,
        "after_run_id": "3",
        "after_metric": "accuracy",
        "after_fresh": True,
        "overlap": 0,
    }
    return summarize_learning(oof, curve, **(base | kw))  # type: ignore[arg-type]


def test_summary_copies_the_measurements_and_round_trips(rising: tuple[object, object]) -> None:
    oof, curve = rising
    lrn = _summary(rising)
    assert [p.n_labels for p in lrn.curve] == [p.n_labels for p in curve.points]  # type: ignore[attr-defined]
    assert [p.agreement for p in lrn.curve] == [p.accuracy for p in curve.points]  # type: ignore[attr-defined]
    assert lrn.agreement == oof.accuracy and lrn.n_labels == 400  # type: ignore[attr-defined]
    assert lrn.projection == curve.projection.message  # type: ignore[attr-defined]
    assert lrn.share_pct("behavioural") == pytest.approx(oof.share_pct("behavioural"))  # type: ignore[attr-defined]
    snap = _snap(lrn)
    data = snapshot_to_dict(snap)
    assert data["schema_version"] == SCHEMA_VERSION == 3
    assert data["learning"]["after"]["n"] == 59
    assert snapshot_from_dict(data) == snap
    # a schema-2 file (no learning) still reads
    old = snapshot_to_dict(_snap(None)) | {"schema_version": 2}
    del old["learning"]
    assert snapshot_from_dict(old) == _snap(None)


def test_tips_quote_the_projection_and_the_fresh_audit_gain(
    rising: tuple[object, object],
) -> None:
    _, curve = rising
    snap = _snap(_summary(rising))
    text = _tips(snap)
    pr = curve.projection  # type: ignore[attr-defined]
    assert pr.status == "rising"
    priced = [(g, k) for g, k in pr.labels_for_gain if k is not None and k <= 100 * 400]
    assert priced
    for gain, labels in priced:
        if labels is not None:
            more = max(labels - 400, 0)
            assert (
                f"+{gain:g} point{'' if gain == 1 else 's'} would take about {more:,} more " in text
            )
    # the expected KPI is the fresh audit's, with n and CI, and the gain is their difference
    assert (
        f"expected KPI {fmt_est(AFTER)}, re-measured on a fresh audit of 59 other customers" in text
    )
    gain = learning_gain(snap)
    assert gain is not None

    # independent two-sample z-test; each SE is its own, never below its interval's half-width / z
    def se(e: Estimate) -> float:
        return max(e.se_pct or 0.0, float((e.ci_high_pct - e.ci_low_pct) / 2 / norm.ppf(0.975)))

    z = (AFTER.value_pct - BEFORE.value_pct) / math.hypot(se(BEFORE), se(AFTER))
    assert gain.delta_points == pytest.approx(AFTER.value_pct - BEFORE.value_pct)
    assert gain.p_value == pytest.approx(2 * norm.sf(abs(z)), rel=1e-6)
    assert f"+{gain.delta_points:.1f} points" in text


def test_gain_is_not_measured_on_the_labels_learnt_from(rising: tuple[object, object]) -> None:
    lrn = _summary(rising, after_fresh=False, overlap=80)
    snap = _snap(lrn)
    text = _tips(snap)
    assert lrn.expected is None and learning_gain(snap) is None
    assert "is not yet measured" in text and fmt_est(lrn.agreement) in text
    assert fmt_est(AFTER) not in text
    assert any(r.kind == "learning-unmeasured" for r in risks(snap))
    html = render_html(snap)
    assert "not yet measured on a fresh audit" in html
    with pytest.raises(DataError, match="not on a fresh audit"):
        _summary(rising, after_fresh=True, overlap=3)


def test_flat_curve_gives_the_missing_data_tip(flat: tuple[object, object]) -> None:
    _, curve = flat
    assert curve.projection.status == "flat"  # type: ignore[attr-defined]
    lrn = _summary(flat)
    found = missing_data(lrn)
    assert found is not None and found.flat
    text = _tips(_snap(lrn))
    assert curve.projection.message in text  # type: ignore[attr-defined]
    assert "Missing data: the learning curve is flat" in text
    assert "add demographic data that tells them apart rather than more labels" in text


def test_worse_after_is_a_risk(rising: tuple[object, object]) -> None:
    worse = Estimate.from_counts(20, 59)
    snap = _snap(_summary(rising, after=worse))
    assert any(r.kind == "learning-worse" and fmt_est(worse) in r.message for r in risks(snap))


def test_html_shows_before_after_with_n_and_ci_and_the_curve(
    rising: tuple[object, object],
) -> None:
    lrn = _summary(rising)
    html = render_html(_snap(lrn))
    assert 'data-testid="learning"' in html and "Learning from labels" in html
    for est in (BEFORE, AFTER):
        assert f"{est.value_pct:.1f} %</td>" in html
        assert f"{est.ci_low_pct:.1f}–{est.ci_high_pct:.1f}</td>" in html
    assert "re-measured on a fresh audit of 59 other customers (0 learnt from)" in html
    for p in lrn.curve:
        assert f"{p.agreement.ci_low_pct:.1f}–{p.agreement.ci_high_pct:.1f}" in html
    assert replace(lrn, curve=()).curve == ()
