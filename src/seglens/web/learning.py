"""What more labels buy, for the dashboard and ``GET /api/learning`` (issue 18 item 2).

The latest run's learning curve: :func:`seglens.segmenters.learning_curve` fitted on the run's
stored features (:func:`seglens.store.run_features`) and the KPI-purpose labels that count for
the run (:func:`seglens.tracking.run_labels` ``.counted``: fresh and carried; teach labels never
count). The points are a quarter, a half and three quarters of those labels (each at least
:data:`MIN_PER_POINT`, drawn :data:`N_DRAWS` times and scored on the labels not drawn) and all of
them (out of fold). Every figure is the model's out-of-fold agreement with the labels — not the
KPI of the deployed segmentation.

Fitting takes seconds, so the result is cached per store, run and label state (as the teach
queue is, :mod:`seglens.web.queue`): a page view does not refit until a label is stored.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

import polars as pl

from seglens.segmenters import (
    LearningCurve,
    SupervisedSegmenter,
    columns_repeating_labels,
    learning_curve,
)
from seglens.settings import Settings
from seglens.store import RunInfo, Store, label_events, latest_run, run_features
from seglens.tracking import run_labels

__all__ = [
    "FRACTIONS",
    "MIN_LABELS",
    "MIN_PER_POINT",
    "N_DRAWS",
    "N_SPLITS",
    "RunLearning",
    "curve_sizes",
    "run_learning",
]

MIN_PER_POINT = 20
"""Fewest labels a curve point is drawn from."""
FRACTIONS = (0.25, 0.5, 0.75)
"""Shares of the counted labels the held-out points use (the last point uses all, out of fold)."""
MIN_LABELS = 2 * MIN_PER_POINT
"""Fewest counted labels for a curve: half of them make the first point of at least 20."""
N_DRAWS = 3
"""Random draws per held-out point."""
N_SPLITS = 5
"""Folds of the out-of-fold point."""

_lock = threading.Lock()
_cache: OrderedDict[tuple[Any, ...], RunLearning] = OrderedDict()
_CACHE_SIZE = 16


@dataclass(frozen=True)
class RunLearning:
    """The latest run's learning curve, or why there is none yet.

    ``curve`` is ``None`` when it cannot be drawn; ``reason`` then says why in plain words.
    ``sizes`` are the held-out sizes passed to :func:`learning_curve`.
    """

    run: RunInfo
    n_labels: int
    sizes: tuple[int, ...]
    curve: LearningCurve | None
    reason: str


def curve_sizes(n_labels: int) -> list[int]:
    """Held-out sizes for ``n_labels`` labels: 25, 50, 75 % of them, each at least 20.

    Examples
    --------
    >>> curve_sizes(200)
    [50, 100, 150]
    >>> curve_sizes(40)
    [20, 30]
    >>> curve_sizes(30)  # below MIN_LABELS the panel draws no curve at all
    [22]
    """
    out = {round(n_labels * f) for f in FRACTIONS}
    return sorted(n for n in out if MIN_PER_POINT <= n < n_labels)


def learning_inputs(store: Store, run_id: int) -> tuple[pl.DataFrame, list[str]]:
    """Features (with ``customer_id``) and labels of the run's counted, featured customers."""
    feats = run_features(store, run_id)
    counted = run_labels(store, run_id).counted.select(
        pl.col("customer_id").cast(pl.String), pl.col("segment").alias("__label")
    )
    known = feats.join(counted, on="customer_id", how="inner").sort("customer_id")
    y = [str(v) for v in known.get_column("__label").to_list()]
    X = known.drop("__label")  # noqa: N806
    dropped = [c for c in columns_repeating_labels(X, y) if c != "customer_id"]
    return X.drop(dropped), y


def run_learning(store: Store, settings: Settings) -> RunLearning | None:
    """The latest run's learning curve (cached per store, run and label state); ``None``: no run."""
    run = latest_run(store)
    if run is None:
        return None
    events = label_events(store)
    ids = events.get_column("id")
    state = (events.height, ids.max(), ids.sum()) if events.height else (0, None, None)
    key = (store.url, id(store), run.id, state, settings.confidence)
    with _lock:
        hit = _cache.get(key)
        if hit is not None:
            _cache.move_to_end(key)
            return hit
        made = _fit(store, run, settings)
        _cache[key] = made
        while len(_cache) > _CACHE_SIZE:
            _cache.popitem(last=False)
    return made


def _fit(store: Store, run: RunInfo, settings: Settings) -> RunLearning:
    X, y = learning_inputs(store, run.id)  # noqa: N806
    n = len(y)
    if X.width < 2:
        reason = f"Run {run.id} stored no customer features, so there is no model to fit."
        return RunLearning(run, n, (), None, reason)
    if n < MIN_LABELS or len(set(y)) < 2:
        reason = (
            f"The curve needs at least {MIN_LABELS} labels that count for run {run.id}, "
            f"naming two segments or more; there are {n:,}"
            f"{f' naming {len(set(y))} segment' if n and len(set(y)) < 2 else ''}. "
            f"Its first point fits a model on half of them (at least {MIN_PER_POINT}) and "
            "scores it on the rest; fewer labels give intervals too wide to read a trend from."
        )
        return RunLearning(run, n, (), None, reason)
    sizes = tuple(curve_sizes(n))
    curve = learning_curve(
        SupervisedSegmenter(random_state=run.id),
        X,
        y,
        sizes=sizes,
        n_draws=N_DRAWS,
        n_splits=N_SPLITS,
        random_state=run.id,
        confidence=settings.confidence,
    )
    reason = (
        f"A model fitted on the run's stored features and {n:,} labels that count for it "
        "(fresh and carried, kpi purpose)."
    )
    return RunLearning(run, n, sizes, curve, reason)
