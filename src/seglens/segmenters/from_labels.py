"""Learn a segmentation from labelled customers and say how well it does: one call.

:func:`learn_from_labels` joins the feature table with the labels, drops columns that merely
repeat the labels, estimates the model out of fold (agreement, per-segment precision/recall,
confusions, what the inputs carry), optionally draws the learning curve, then fits on every
label and segments every customer. ``seglens segment --method supervised`` prints its result.
"""

# ruff: noqa: N806  (X for data matrices, the scikit-learn convention)

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import polars as pl
from sklearn.base import clone

from seglens.errors import DataError
from seglens.segmenters._tabular import ID_COLUMN
from seglens.segmenters.evaluation import OutOfFold, out_of_fold
from seglens.segmenters.learning import LearningCurve, learning_curve
from seglens.segmenters.suggest import latest_labels
from seglens.segmenters.supervised import SupervisedSegmenter, columns_repeating_labels

__all__ = ["LearnedSegmentation", "learn_from_labels"]


@dataclass(frozen=True)
class LearnedSegmentation:
    """A segmentation learnt from labels, with its out-of-fold evidence.

    ``assignments`` segments every customer of the feature table (``customer_id``, ``segment``,
    ``cluster``, ``probability``, ``margin``); ``out_of_fold`` is the model's cross-validated
    agreement with the labels (not the KPI of the deployed segmentation); ``curve`` is ``None``
    unless requested. ``dropped_columns`` were left out because they repeat the labels.
    """

    model: Any
    assignments: pl.DataFrame
    out_of_fold: OutOfFold
    curve: LearningCurve | None
    n_labelled: int
    labels_without_features: int
    dropped_columns: tuple[str, ...]


def learn_from_labels(
    features: pl.DataFrame,
    labels: pl.DataFrame,
    *,
    estimator: Any = None,
    n_splits: int = 5,
    curve: bool = True,
    curve_draws: int = 5,
    random_state: int | None = 0,
    id_column: str = ID_COLUMN,
) -> LearnedSegmentation:
    """Fit a supervised segmenter on the labelled customers and segment everyone.

    Parameters
    ----------
    features
        One row per customer: ``id_column`` plus feature columns.
    labels
        ``customer_id`` and ``segment`` (several labels of one customer: the latest, by
        ``labeled_at`` when present, else the last row, counts).
    estimator
        Default :class:`SupervisedSegmenter` (gradient boosting, native categories).
    n_splits
        Folds for the out-of-fold figures.
    curve, curve_draws
        Also draw the learning curve, with this many random draws per size.

    Examples
    --------
    >>> feats = pl.DataFrame({"customer_id": [str(i) for i in range(60)],
    ...                       "n_orders": [float(i % 6) for i in range(60)]})
    >>> ids = range(0, 60, 2)
    >>> labs = pl.DataFrame({"customer_id": [str(i) for i in ids],
    ...                      "segment": ["loyal" if i % 6 >= 3 else "new" for i in ids]})
    >>> res = learn_from_labels(feats, labs, curve=False)
    >>> res.n_labelled, res.assignments.height, res.out_of_fold.accuracy.value_pct
    (30, 60, 100.0)
    """
    if id_column not in features.columns:
        raise DataError(f"the feature table has no {id_column!r} column", column=id_column)
    if "segment" not in labels.columns or "customer_id" not in labels.columns:
        raise DataError("the labels need customer_id and segment columns")
    lab = latest_labels(labels.filter(pl.col("segment").is_not_null()))
    feats = features.with_columns(pl.col(id_column).cast(pl.String))
    known = feats.join(lab.rename({"customer_id": id_column}), on=id_column, how="inner")
    if known.height < n_splits or known["segment"].n_unique() < 2:
        raise DataError(
            f"{known.height:,} labelled customers in the feature table, naming "
            f"{known['segment'].n_unique()} segment(s): a model needs labels of at least two "
            f"segments and {n_splits} labelled customers",
            hint="check that the labels' customer ids match the feature table's "
            f"{id_column!r} column",
        )
    y = known["segment"].to_numpy()
    X = known.drop("segment")
    dropped = tuple(c for c in columns_repeating_labels(X, y.tolist()) if c != id_column)
    X = X.drop(dropped)
    base = estimator if estimator is not None else SupervisedSegmenter(random_state=random_state)
    if "id_column" in base.get_params():
        base = clone(base).set_params(id_column=id_column)
    oof = out_of_fold(base, X, y, n_splits=n_splits, random_state=random_state, id_column=id_column)
    lc = None
    if curve:
        lc = learning_curve(
            base, X, y, n_draws=curve_draws, n_splits=n_splits, final=oof.accuracy,
            random_state=random_state,
        )  # fmt: skip
    model = clone(base).fit(X, y)
    return LearnedSegmentation(
        model=model,
        assignments=model.assign(feats.drop(dropped)),
        out_of_fold=oof,
        curve=lc,
        n_labelled=known.height,
        labels_without_features=lab.height - known.height,
        dropped_columns=dropped,
    )
