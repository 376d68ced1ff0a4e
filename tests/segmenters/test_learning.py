"""What more labels buy: the learning curve and its projection (known answers and both cases:
a rising curve priced in labels, a flat one that says more labels will not help)."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from seglens.segmenters import CurvePoint, SupervisedSegmenter, learning_curve
from seglens.segmenters.learning import default_sizes, project
from seglens.stats import proportion


def _on_curve(a: float, b: float, c: float, sizes: list[int], scored: int) -> list[CurvePoint]:
    return [
        CurvePoint(n, n, proportion((a - b * n**-c) / 100 * scored, scored), (), "held-out")
        for n in sizes
    ]


def test_projection_prices_gains_on_a_known_power_law() -> None:
    # acc(n) = 60 - 80 / sqrt(n): at 1,600 labels 58 %; 59 % needs (80 / 1)^2 = 6,400 labels,
    # 60 % is the ceiling and cannot be reached
    pts = _on_curve(60.0, 80.0, 0.5, [100, 200, 400, 800, 1600], scored=1_000_000)
    pr = project(pts, n_labels=1600, gains=(1.0, 2.0))
    assert pr.status == "rising"
    assert pr.ceiling_pct == pytest.approx(60.0, abs=0.05)
    assert pr.current_pct == pytest.approx(58.0, abs=0.05)
    (g1, n1), (g2, n2) = pr.labels_for_gain
    assert (g1, g2, n2) == (1.0, 2.0, None)
    assert n1 == pytest.approx(6400, rel=0.03)
    assert "about 6," in pr.message and "beyond the curve's ceiling" in pr.message
    assert "inverse power law" in pr.method


def test_projection_is_flat_when_the_slope_is_within_noise() -> None:
    pts = _on_curve(50.0, 0.0, 0.5, [100, 200, 400, 800], scored=2_000)
    pr = project(pts, n_labels=800)
    assert pr.status == "flat" and pr.labels_for_gain == ()
    assert pr.message.startswith(
        "flat: more labels will not help — the features do not separate these segments"
    )


def test_too_few_points_say_so() -> None:
    pts = _on_curve(60.0, 80.0, 0.5, [100], scored=1_000)
    assert project(pts, n_labels=100).status == "too few points"


def test_default_sizes_double_while_a_fifth_stays_unseen() -> None:
    assert default_sizes(8068) == [100, 200, 400, 800, 1600, 3200, 6400]
    assert default_sizes(500) == [100, 200, 400]


def test_curve_rises_on_learnable_segments_and_is_flat_on_noise() -> None:
    rng = np.random.default_rng(0)
    n = 3000
    x = rng.normal(0, 1, (n, 3))
    df = pl.DataFrame({"a": x[:, 0], "b": x[:, 1], "c": x[:, 2]})
    # a boundary that needs data: a wiggly function of two features
    y = np.where(np.sin(3 * x[:, 0]) + x[:, 1] > 0, "p", "q")
    lc = learning_curve(SupervisedSegmenter(random_state=0), df, y, n_draws=3)
    values = [p.accuracy.value_pct for p in lc.points]
    assert [p.n_labels for p in lc.points] == [100, 200, 400, 800, 1600, 3000]
    assert values[-1] > values[0] + 5
    assert lc.points[-1].method == "out-of-fold" and lc.points[-1].n_train == 2400
    assert all(p.accuracy.ci_low_pct <= p.accuracy.value_pct <= p.accuracy.ci_high_pct
               for p in lc.points)  # fmt: skip
    assert lc.projection.status == "rising"
    noise = rng.choice(["p", "q"], n)
    flat = learning_curve(SupervisedSegmenter(random_state=0), df, noise, n_draws=3)
    assert flat.projection.status == "flat"
    frame = flat.to_frame()
    assert frame.columns[:3] == ["n_labels", "n_train", "accuracy_pct"]
    assert flat.to_dict()["projection"]["status"] == "flat"
