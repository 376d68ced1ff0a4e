"""Which customers to label next: the ones whose labels would teach the model most.

Margin sampling (uncertainty sampling): the model learnt from the labels so far scores every
unlabelled customer, and the customers whose two most probable segments are closest (smallest
margin) are asked for first. To keep a batch from piling up on one boundary, the picks are
spread over the predicted segments: among the ``shortlist`` × n least sure customers, round
robin over the segments they are predicted in, smallest margin first in each. Until the
labels cover two segments there is no model to ask: the first batch is drawn at random, spread
over the run's segments.

Labels asked for this way are *teaching* labels: they are chosen because the model is unsure,
so they are not a random sample and must never count in the KPI (they are stored with
``purpose="teach"``, which every KPI selection drops).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import polars as pl

from seglens.errors import DataError, UsageError
from seglens.segmenters._tabular import ID_COLUMN

__all__ = ["Suggestions", "latest_labels", "suggest_labels", "teaching_sheet"]

MIN_LABELS = 20
"""Labelled customers (with features) needed before the model picks; fewer: a random batch."""


@dataclass(frozen=True)
class Suggestions:
    """The customers to label next, best first, and how they were chosen.

    ``customers`` has ``customer_id``, ``predicted_segment`` and ``margin`` (top probability
    minus the second; null for a random pick) and ``rank``.
    """

    customers: pl.DataFrame
    method: Literal["margin", "random"]
    reason: str
    n_labelled: int
    n_candidates: int


def latest_labels(events: pl.DataFrame) -> pl.DataFrame:
    """One label per customer: the latest (by ``labeled_at``, ``id``, then row) of any purpose.

    Teaching and KPI labels both teach the model. ``events`` as
    :func:`seglens.store.label_events` returns them.

    Examples
    --------
    >>> from datetime import datetime as dt
    >>> ev = pl.DataFrame({"id": [1, 2, 3], "customer_id": ["a", "a", "b"],
    ...     "segment": ["x", "y", "x"], "labeled_at": [dt(2024, 1, 1), dt(2024, 2, 1), None]})
    >>> latest_labels(ev).rows()
    [('a', 'y'), ('b', 'x')]
    """
    order = [c for c in ("labeled_at", "id") if c in events.columns]
    ev = events.with_row_index("_row").sort([*order, "_row"], nulls_last=False)
    return (
        ev.group_by("customer_id", maintain_order=True)
        .last()
        .select(pl.col("customer_id").cast(pl.String), pl.col("segment").cast(pl.String))
        .sort("customer_id")
    )


def _round_robin(order: np.ndarray[Any, Any], groups: np.ndarray[Any, Any], n: int) -> list[int]:
    """Take ``order`` (best first) alternately from each group until ``n`` are taken."""
    queues = [list(order[groups[order] == g]) for g in np.unique(groups)]
    picked: list[int] = []
    depth = 0
    while len(picked) < n and any(depth < len(q) for q in queues):
        for q in queues:
            if depth < len(q) and len(picked) < n:
                picked.append(int(q[depth]))
        depth += 1
    return picked


def suggest_labels(
    features: pl.DataFrame,
    labels: pl.DataFrame,
    n: int,
    *,
    assigned: pl.DataFrame | None = None,
    estimator: Any = None,
    shortlist: float = 3.0,
    random_state: int | None = 0,
    id_column: str = ID_COLUMN,
) -> Suggestions:
    """Pick ``n`` unlabelled customers whose labels would help the model most.

    Parameters
    ----------
    features
        One row per customer: ``id_column`` plus the model's input columns.
    labels
        ``customer_id`` and ``segment`` of the customers labelled so far (one row each, e.g.
        :func:`latest_labels`).
    n
        How many customers to suggest.
    assigned
        ``customer_id`` and ``segment`` of the run: spreads a random first batch over its
        segments.
    estimator
        The model to ask (default :class:`~seglens.segmenters.SupervisedSegmenter`).
    shortlist
        The batch is spread over predicted segments within the ``shortlist * n`` customers
        with the smallest margins (1: plain margin sampling).

    Examples
    --------
    Labels are mixed for spend 160-239 (the model cannot be sure there):

    >>> feats = pl.DataFrame({"customer_id": [str(i) for i in range(400)],
    ...                       "spend": [float(i) for i in range(400)]})
    >>> ids = range(0, 400, 4)
    >>> mixed = [i < 160 or (i < 240 and i % 8 == 0) for i in ids]
    >>> labs = pl.DataFrame({"customer_id": [str(i) for i in ids],
    ...                      "segment": ["low" if m else "high" for m in mixed]})
    >>> s = suggest_labels(feats, labs, 6)
    >>> s.method, all(160 <= int(c) < 240 for c in s.customers["customer_id"])
    ('margin', True)
    """
    if n < 1:
        raise UsageError(f"ask for at least one customer, not {n}")
    if id_column not in features.columns:
        raise DataError(f"the features have no {id_column!r} column", column=id_column)
    feats = features.with_columns(pl.col(id_column).cast(pl.String))
    lab = labels.select(
        pl.col("customer_id").cast(pl.String).alias(id_column), pl.col("segment").cast(pl.String)
    ).unique(id_column, keep="last")
    known = feats.join(lab, on=id_column, how="inner")
    pool = feats.join(lab, on=id_column, how="anti")
    if pool.height == 0:
        raise DataError("every customer of the run is labelled already: nothing to suggest")
    rng = np.random.default_rng(random_state)
    if known.height < MIN_LABELS or known["segment"].n_unique() < 2:
        return _random_batch(pool, n, assigned, rng, known.height, id_column)
    if estimator is None:
        from seglens.segmenters.supervised import SupervisedSegmenter

        estimator = SupervisedSegmenter(random_state=random_state, id_column=id_column)
    model = estimator.fit(known.drop("segment"), known["segment"].to_numpy())
    proba = np.asarray(model.predict_proba(pool))
    top = np.sort(proba, axis=1)
    margin = top[:, -1] - top[:, -2]
    order = rng.permutation(pool.height)  # random tie-breaking among equal margins
    order = order[np.argsort(margin[order], kind="stable")][: max(n, int(shortlist * n))]
    picked = _round_robin(order, proba.argmax(1), n)
    classes = np.asarray(model.classes_).astype(str)
    out = pl.DataFrame(
        {
            id_column: pool.get_column(id_column).gather(picked),
            "predicted_segment": classes[proba.argmax(1)[picked]].tolist(),
            "margin": margin[picked],
            "rank": np.arange(1, len(picked) + 1),
        },
        schema_overrides={"predicted_segment": pl.String, "margin": pl.Float64},
    )
    return Suggestions(
        out,
        "margin",
        f"a model learnt from {known.height:,} labels picked the customers it is least sure "
        "about (smallest margin between its two most probable segments), spread over the "
        "segments it predicts",
        known.height,
        pool.height,
    )


def _random_batch(
    pool: pl.DataFrame,
    n: int,
    assigned: pl.DataFrame | None,
    rng: np.random.Generator,
    n_labelled: int,
    id_column: str,
) -> Suggestions:
    groups = np.zeros(pool.height, dtype=np.int64)
    if assigned is not None:
        seg = pool.select(id_column).join(
            assigned.select(pl.col("customer_id").cast(pl.String).alias(id_column), "segment"),
            on=id_column,
            how="left",
        )
        groups = seg["segment"].fill_null("").cast(pl.Categorical).to_physical().to_numpy()
    picked = _round_robin(rng.permutation(pool.height), groups, n)
    out = pl.DataFrame(
        {
            id_column: pool.get_column(id_column).gather(picked),
            "predicted_segment": pl.Series([None] * len(picked), dtype=pl.String),
            "margin": pl.Series([None] * len(picked), dtype=pl.Float64),
            "rank": np.arange(1, len(picked) + 1),
        }
    )
    return Suggestions(
        out,
        "random",
        f"only {n_labelled:,} labelled customers with features (a model needs {MIN_LABELS} "
        "covering two segments): a random batch spread over the run's segments",
        n_labelled,
        pool.height,
    )


def teaching_sheet(
    suggestions: Suggestions, assigned: pl.DataFrame, run_id: int, *, id_column: str = ID_COLUMN
) -> pl.DataFrame:
    """The sheet reviewers fill in, like an audit sheet but flagged ``purpose = teach``.

    Columns: ``customer_id``, ``assigned_segment`` (the run's segment), ``run_id``,
    ``purpose`` (``teach``), blank ``reviewer_segment`` and ``note``. The model's guess is left
    out on purpose: reviewers who see it tend to agree with it.

    Examples
    --------
    >>> s = Suggestions(pl.DataFrame({"customer_id": ["7"], "predicted_segment": ["x"],
    ...                               "margin": [0.1], "rank": [1]}), "margin", "", 5, 9)
    >>> sheet = teaching_sheet(s, pl.DataFrame({"customer_id": ["7"], "segment": ["Loyal"]}), 3)
    >>> sheet.row(0)
    ('7', 'Loyal', 3, 'teach', None, None)
    """
    run = assigned.select(
        pl.col("customer_id").cast(pl.String).alias(id_column),
        pl.col("segment").cast(pl.String).alias("assigned_segment"),
    )
    return (
        suggestions.customers.select(id_column)
        .join(run, on=id_column, how="left", maintain_order="left")
        .select(
            pl.col(id_column).alias("customer_id"),
            "assigned_segment",
            pl.lit(run_id, pl.Int64).alias("run_id"),
            pl.lit("teach").alias("purpose"),
            pl.lit(None, pl.String).alias("reviewer_segment"),
            pl.lit(None, pl.String).alias("note"),
        )
    )
