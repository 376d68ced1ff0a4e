"""What more labels buy: a learning curve and a projection of labels needed for more accuracy.

The curve draws ``n`` labelled customers at random (several draws per size), fits the model on
them and scores it on the labelled customers it did not see; the last point uses every label,
scored out of fold. The projection fits a saturating curve through the points and says how many
labels the next few points of agreement would take — or that the curve is flat, so more labels
will not help.
"""

# ruff: noqa: N803  (X for data matrices, the scikit-learn convention)

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import polars as pl
from scipy.optimize import curve_fit
from sklearn.base import clone

from seglens.errors import DataError
from seglens.segmenters._tabular import to_polars
from seglens.segmenters.evaluation import Labels, out_of_fold
from seglens.stats import (
    Estimate,
    comparison_se,
    difference_test,
    effective_proportion,
)

__all__ = ["CurvePoint", "LearningCurve", "Projection", "learning_curve", "project"]

FloatArray = np.ndarray[Any, np.dtype[np.float64]]
Status = Literal["rising", "flat", "too few points"]
PROJECTION_METHOD = (
    "inverse power law acc(n) = a - b * n^(-c), weighted least squares on the curve points "
    "(scipy curve_fit, sigma = each point's standard error); flat when the last point is not "
    "significantly above the point with a quarter of its labels (normal test, p < 0.05)"
)


@dataclass(frozen=True)
class CurvePoint:
    """Agreement with held-out labels of a model fitted on ``n_labels`` random labels.

    ``accuracy`` is the mean over the draws, its interval a Wilson interval on the effective
    sample size given the spread between draws; ``draws_pct`` holds each draw's figure.
    ``n_train`` is how many labels each model saw (fewer than ``n_labels`` out of fold).
    """

    n_labels: int
    n_train: int
    accuracy: Estimate
    draws_pct: tuple[float, ...]
    method: Literal["held-out", "out-of-fold"]


@dataclass(frozen=True)
class Projection:
    """What more labels would buy, read off the fitted learning curve.

    ``labels_for_gain`` maps a gain in points (over the fitted value at today's labels) to the
    total labels the fitted curve needs for it (``None``: beyond the fitted ceiling).
    """

    status: Status
    message: str
    method: str = PROJECTION_METHOD
    ceiling_pct: float | None = None
    current_pct: float | None = None
    labels_for_gain: tuple[tuple[float, int | None], ...] = ()
    params: tuple[float, float, float] | None = None


@dataclass(frozen=True)
class LearningCurve:
    """Points of agreement vs number of labels, and the projection drawn from them."""

    points: tuple[CurvePoint, ...]
    projection: Projection

    def to_frame(self) -> pl.DataFrame:
        """One row per point: labels, labels seen per model, value, interval, draws, method."""
        return pl.DataFrame(
            {
                "n_labels": [p.n_labels for p in self.points],
                "n_train": [p.n_train for p in self.points],
                "accuracy_pct": [p.accuracy.value_pct for p in self.points],
                "ci_low_pct": [p.accuracy.ci_low_pct for p in self.points],
                "ci_high_pct": [p.accuracy.ci_high_pct for p in self.points],
                "draws": [len(p.draws_pct) for p in self.points],
                "method": [p.method for p in self.points],
            }
        )

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON form."""
        pr = self.projection
        return {
            "points": self.to_frame().to_dicts(),
            "projection": {
                "status": pr.status,
                "message": pr.message,
                "method": pr.method,
                "ceiling_pct": pr.ceiling_pct,
                "current_pct": pr.current_pct,
                "labels_for_gain": [{"gain_pts": g, "labels": n} for g, n in pr.labels_for_gain],
            },
        }


def _power_law(n: FloatArray, a: float, b: float, c: float) -> FloatArray:
    out: FloatArray = a - b * np.power(n, -c)
    return out


def default_sizes(n_labels: int, *, start: int = 100) -> list[int]:
    """100, 200, 400, ... while at least a fifth of the labels stays unseen for scoring.

    Examples
    --------
    >>> default_sizes(8068)
    [100, 200, 400, 800, 1600, 3200, 6400]
    >>> default_sizes(100)
    []
    """
    out, n = [], start
    while n <= 0.8 * n_labels:
        out.append(n)
        n *= 2
    return out


def _draw_point(
    estimator: Any,
    frame: pl.DataFrame,
    y: np.ndarray[Any, Any],
    n: int,
    n_draws: int,
    max_scored: int,
    rng: np.random.Generator,
    confidence: float,
) -> CurvePoint:
    accs, n_scored = [], 0
    for _ in range(n_draws):
        order = rng.permutation(y.size)
        train, rest = order[:n], order[n:]
        scored = rest[:max_scored]
        model = clone(estimator).fit(frame[train], y[train])
        pred = np.asarray(model.predict(frame[scored])).astype(str)
        accs.append(float(np.mean(pred == y[scored])))
        n_scored = scored.size
    mean = float(np.mean(accs))
    var = float(np.var(accs, ddof=1)) / len(accs) if len(accs) > 1 else 0.0
    est, _ = effective_proportion(
        mean * n_scored, n_scored, var, confidence=confidence, method="draws-wilson"
    )
    return CurvePoint(n, n, est, tuple(100.0 * a for a in accs), "held-out")


def learning_curve(
    estimator: Any,
    X: Any,
    y: Labels,
    *,
    sizes: Sequence[int] | None = None,
    n_draws: int = 5,
    n_splits: int = 5,
    gains: Sequence[float] = (1.0, 2.0, 5.0),
    max_scored: int = 50_000,
    final: Estimate | None = None,
    random_state: int | None = 0,
    confidence: float = 0.95,
) -> LearningCurve:
    """Agreement with the labels vs number of labels, and what more labels would buy.

    Parameters
    ----------
    estimator
        An unfitted classifier (e.g. :class:`SupervisedSegmenter`); cloned for every fit.
    X, y
        The labelled customers' features and labels.
    sizes
        Label counts to try (default 100, 200, 400, ... while a fifth of the labels stays
        unseen); each is drawn ``n_draws`` times at random and scored on up to ``max_scored``
        labelled customers the model did not see. A last point uses all labels, out of fold
        (``n_splits`` folds).
    gains
        Gains in points the projection prices in labels.
    final
        The out-of-fold accuracy on all labels, when already computed (:func:`out_of_fold`).

    Examples
    --------
    >>> import polars as pl
    >>> from seglens.segmenters import SupervisedSegmenter
    >>> X = pl.DataFrame({"n_orders": [float(i % 10) for i in range(300)]})
    >>> y = ["frequent" if i % 10 >= 5 else "rare" for i in range(300)]
    >>> lc = learning_curve(SupervisedSegmenter(random_state=0), X, y, sizes=[50, 100])
    >>> [(p.n_labels, round(p.accuracy.value_pct)) for p in lc.points]
    [(50, 100), (100, 100), (300, 100)]
    >>> lc.projection.status  # 100 % already: more labels will not help
    'flat'
    """
    frame = to_polars(X, numeric_only=False)
    y_arr = np.asarray([str(v) for v in y], dtype=object)
    if y_arr.size != frame.height:
        raise DataError(f"{frame.height} customers but {y_arr.size} labels (one per customer)")
    rng = np.random.default_rng(random_state)
    wanted = default_sizes(y_arr.size) if sizes is None else sorted(set(sizes))
    points = [
        _draw_point(estimator, frame, y_arr, int(n), n_draws, max_scored, rng, confidence)
        for n in wanted
        if 2 <= n < y_arr.size
    ]
    if final is None:
        final = out_of_fold(
            estimator, frame, y_arr, n_splits=n_splits, random_state=random_state,
            importance=False, confidence=confidence,
        ).accuracy  # fmt: skip
    n_train = y_arr.size - math.ceil(y_arr.size / n_splits)
    points.append(CurvePoint(y_arr.size, n_train, final, (final.value_pct,), "out-of-fold"))
    return LearningCurve(tuple(points), project(points, n_labels=y_arr.size, gains=gains))


def _se(p: CurvePoint) -> float:
    e = p.accuracy
    return max(comparison_se(e.se_pct, e.ci_low_pct, e.ci_high_pct, e.confidence), 1e-3)


def _is_flat(points: Sequence[CurvePoint]) -> tuple[bool, str]:
    last = points[-1]
    earlier = [p for p in points[:-1] if p.n_train <= last.n_train / 4]
    if not earlier:
        return False, ""
    ref = earlier[-1]
    test = difference_test((ref.accuracy.value_pct, _se(ref)), (last.accuracy.value_pct, _se(last)))
    flat = test.diff_pts <= 0 or test.p_value >= 0.05
    p = "p < 0.001" if test.p_value < 0.001 else f"p = {test.p_value:.3f}"
    return (
        flat,
        f"{test.diff_pts:+.1f} points from {ref.n_labels:,} to {last.n_labels:,} labels, {p}",
    )


def _priced(gain: float, labels: int | None, n_labels: int) -> str:
    what = f"+{gain:g} point{'' if gain == 1 else 's'}"
    if labels is None:
        return f"{what}: beyond the curve's ceiling"
    if labels > 100 * n_labels:
        return f"{what}: more than 100 times today's {n_labels:,} labels"
    return f"{what}: about {labels:,} labels ({max(labels - n_labels, 0):,} more)"


def project(
    points: Sequence[CurvePoint], *, n_labels: int, gains: Sequence[float] = (1.0, 2.0, 5.0)
) -> Projection:
    """Fit the saturating curve through ``points`` and price ``gains`` in labels.

    Examples
    --------
    Points on 60 - 80·n^(-0.5) (a rising curve, a ceiling of 60 %):

    >>> from seglens.stats import proportion
    >>> pts = [CurvePoint(n, n, proportion((60 - 80 * n**-0.5) * 50, 5000), (), "held-out")
    ...        for n in (100, 200, 400, 800, 1600)]
    >>> pr = project(pts, n_labels=1600, gains=(1.0,))
    >>> pr.status, round(pr.ceiling_pct), pr.labels_for_gain[0][1] > 1600
    ('rising', 60, True)
    """
    if len(points) < 2:
        return Projection("too few points", "too few points to tell whether more labels help")
    flat, why = _is_flat(points)
    last = points[-1]
    if flat:
        return Projection(
            "flat",
            "flat: more labels will not help — the features do not separate these segments "
            f"beyond about {last.accuracy.value_pct:.0f} % ({why})",
            current_pct=last.accuracy.value_pct,
        )
    if len(points) < 4:
        return Projection("too few points", "too few points to fit a curve (need 4 sizes)")
    n = np.array([p.n_train for p in points], dtype=np.float64)
    v = np.array([p.accuracy.value_pct for p in points], dtype=np.float64)
    sigma = np.array([_se(p) for p in points])
    try:
        (a, b, c), _ = curve_fit(
            _power_law, n, v, p0=(min(v.max() + 5, 100.0), 50.0, 0.5), sigma=sigma,
            bounds=([0.0, 0.0, 0.05], [100.0, np.inf, 2.0]), maxfev=20_000,
        )  # fmt: skip
    except (RuntimeError, ValueError):
        return Projection("too few points", "the curve could not be fitted to the points")
    now = float(_power_law(np.array([float(n_labels)]), a, b, c)[0])
    priced = []
    for g in gains:
        gap = a - now - g
        priced.append((float(g), None if gap <= 0 else math.ceil((b / gap) ** (1.0 / c))))
    shown = "; ".join(_priced(g, k, n_labels) for g, k in priced)
    why = f": {why}" if why else ""
    return Projection(
        "rising",
        f"rising{why}; fitted ceiling {a:.1f} %, now about {now:.1f} % — {shown} "
        "(extrapolated, a planning figure)",
        ceiling_pct=float(a),
        current_pct=now,
        labels_for_gain=tuple(priced),
        params=(float(a), float(b), float(c)),
    )
