"""How well a segmenter learnt from labels reproduces them: out-of-fold figures.

Every figure here comes from K-fold cross-fitting: each labelled customer is predicted by a model
fitted on the *other* folds, never by one that saw its label. The result is the model's
cross-validated agreement with the labels — an estimate of how often it would put a new
customer where a reviewer would, *not* the KPI of a deployed segmentation (that is measured on
fresh audit labels, see ``seglens.tracking``).
"""

# ruff: noqa: N803  (X for data matrices, the scikit-learn convention)

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import polars as pl
from sklearn.base import clone
from sklearn.model_selection import KFold, StratifiedKFold

from seglens.errors import DataError
from seglens.segmenters._tabular import ID_COLUMN, to_polars
from seglens.stats import Estimate, proportion

__all__ = [
    "ConfusedPair",
    "InputImportance",
    "OutOfFold",
    "SegmentQuality",
    "fold_indices",
    "out_of_fold",
]

IntArray = np.ndarray[Any, np.dtype[np.int64]]
Labels = Sequence[Any] | np.ndarray[Any, Any]
"""Labels, one per customer (any values; compared as text)."""
Kind = Literal["behavioural", "demographic"]


@dataclass(frozen=True)
class SegmentQuality:
    """One segment's out-of-fold precision and recall.

    ``precision``: of the customers the model put in the segment, the share labelled so;
    ``recall``: of the customers labelled so, the share the model put there.
    """

    segment: str
    labelled: int
    predicted: int
    precision: Estimate
    recall: Estimate


@dataclass(frozen=True)
class ConfusedPair:
    """Customers labelled ``labelled`` whom the model put in ``predicted`` (out of fold)."""

    labelled: str
    predicted: str
    customers: int
    share_pct: float
    """Share of the customers labelled ``labelled``, in percent."""


@dataclass(frozen=True)
class InputImportance:
    """What one input column carries: the accuracy lost when its values are shuffled.

    Permutation importance on the held-out fold of each fold's model (points; mean over folds
    and repeats). Near 0 or negative: the model does not need the column.
    """

    column: str
    kind: Kind
    drop_pts: float

    def sentence(self) -> str:
        """The figure in plain words."""
        if self.drop_pts <= 0.05:
            return f"{self.column}: the model does not rely on it (shuffling it costs nothing)"
        return (
            f"{self.column}: shuffling it costs {self.drop_pts:.1f} points of agreement "
            "with the labels"
        )


@dataclass(frozen=True)
class OutOfFold:
    """Out-of-fold agreement of a supervised segmenter with the labels, and why.

    Attributes
    ----------
    accuracy
        Share of labelled customers whose out-of-fold prediction equals their label (Wilson
        interval over the labelled customers). The model's cross-validated agreement with the
        labels, not the KPI of a deployed segmentation.
    n_folds
        Folds used (K).
    chance_pct
        The largest segment's share of the labels: what always guessing it would score.
    segments
        Precision and recall per segment.
    confused
        The most frequent (labelled, predicted) disagreements, most customers first.
    importance
        Input columns by what they carry, most first (empty unless requested).
    predictions
        ``row`` (position in the input), ``customer_id`` (when the table has one), ``label``,
        ``predicted``, ``fold``.
    """

    accuracy: Estimate
    n_folds: int
    chance_pct: float
    segments: tuple[SegmentQuality, ...]
    confused: tuple[ConfusedPair, ...]
    importance: tuple[InputImportance, ...] = ()
    predictions: pl.DataFrame = field(default_factory=pl.DataFrame, repr=False)

    def share_pct(self, kind: Kind) -> float | None:
        """Share of the total (positive) importance carried by ``kind`` columns, in percent.

        ``None`` when no column carries anything (or importance was not computed).
        """
        total = sum(max(i.drop_pts, 0.0) for i in self.importance)
        if total <= 0:
            return None
        part = sum(max(i.drop_pts, 0.0) for i in self.importance if i.kind == kind)
        return 100.0 * part / total

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON form."""
        return {
            "metric": "out-of-fold agreement with the labels (not the KPI)",
            "accuracy": self.accuracy.to_dict(),
            "n_folds": self.n_folds,
            "chance_pct": self.chance_pct,
            "segments": [
                {
                    "segment": s.segment,
                    "labelled": s.labelled,
                    "predicted": s.predicted,
                    "precision": s.precision.to_dict(),
                    "recall": s.recall.to_dict(),
                }
                for s in self.segments
            ],
            "confused": [
                {
                    "labelled": c.labelled,
                    "predicted": c.predicted,
                    "customers": c.customers,
                    "share_pct": c.share_pct,
                }
                for c in self.confused
            ],
            "importance": [
                {"column": i.column, "kind": i.kind, "drop_pts": i.drop_pts}
                for i in self.importance
            ],
            "behavioural_share_pct": self.share_pct("behavioural"),
            "demographic_share_pct": self.share_pct("demographic"),
        }


def fold_indices(y: Labels, n_splits: int, random_state: int | None) -> list[IntArray]:
    """Test rows of each fold: stratified by segment when every segment has ``n_splits`` labels.

    Examples
    --------
    >>> folds = fold_indices(["a", "b"] * 5, 5, 0)
    >>> sorted(int(i) for f in folds for i in f) == list(range(10))
    True
    """
    y_arr = np.asarray([str(v) for v in y], dtype=object)
    if n_splits < 2:
        raise DataError(f"out-of-fold figures need at least 2 folds, not {n_splits}")
    if y_arr.size < n_splits:
        raise DataError(
            f"{y_arr.size} labelled customers cannot be split into {n_splits} folds",
            hint="label more customers or use fewer folds",
        )
    _, counts = np.unique(y_arr, return_counts=True)
    zeros = np.zeros((y_arr.size, 1))
    if counts.min() >= n_splits:
        skf = StratifiedKFold(n_splits, shuffle=True, random_state=random_state)
        return [test.astype(np.int64) for _, test in skf.split(zeros, y_arr)]
    kf = KFold(n_splits, shuffle=True, random_state=random_state)
    return [test.astype(np.int64) for _, test in kf.split(zeros)]


def _behavioural_names() -> set[str]:
    from seglens.features.catalog import CATALOG

    return {f.name for f in CATALOG}


def _used_columns(model: Any, frame: pl.DataFrame, id_column: str) -> list[str]:
    cols = getattr(model, "numeric_columns_", None)
    if cols is not None:
        return [*cols, *getattr(model, "categorical_columns_", [])]
    return [c for c in frame.columns if c != id_column]


def _permutation_drops(
    model: Any,
    test: pl.DataFrame,
    y_test: np.ndarray[Any, Any],
    columns: list[str],
    n_repeats: int,
    rng: np.random.Generator,
) -> dict[str, float]:
    """Accuracy lost (fraction) when each column is shuffled within the held-out fold."""
    base = float(np.mean(np.asarray(model.predict(test)).astype(str) == y_test))
    drops = {}
    for c in columns:
        acc = []
        for _ in range(n_repeats):
            shuffled = test.with_columns(test.get_column(c).gather(rng.permutation(test.height)))
            acc.append(np.mean(np.asarray(model.predict(shuffled)).astype(str) == y_test))
        drops[c] = base - float(np.mean(acc))
    return drops


def _segments(y: np.ndarray[Any, Any], pred: np.ndarray[Any, Any], confidence: float) -> Any:
    names = sorted(set(y.tolist()) | set(pred.tolist()))
    out = []
    for s in names:
        tp = int(np.sum((y == s) & (pred == s)))
        n_lab, n_pred = int(np.sum(y == s)), int(np.sum(pred == s))
        out.append(
            SegmentQuality(
                s,
                n_lab,
                n_pred,
                proportion(tp, n_pred, confidence),
                proportion(tp, n_lab, confidence),
            )
        )
    return tuple(out)


def _confused(y: np.ndarray[Any, Any], pred: np.ndarray[Any, Any], top: int) -> Any:
    frame = pl.DataFrame({"labelled": y.tolist(), "predicted": pred.tolist()}, strict=False)
    sizes = dict(frame.group_by("labelled").len().iter_rows())
    pairs = (
        frame.filter(pl.col("labelled") != pl.col("predicted"))
        .group_by("labelled", "predicted")
        .len()
        .sort(["len", "labelled", "predicted"], descending=[True, False, False])
        .head(top)
    )
    return tuple(ConfusedPair(a, b, int(n), 100.0 * n / sizes[a]) for a, b, n in pairs.iter_rows())


def out_of_fold(
    estimator: Any,
    X: Any,
    y: Labels,
    *,
    n_splits: int = 5,
    random_state: int | None = 0,
    importance: bool = True,
    n_repeats: int = 3,
    behavioural: Sequence[str] | None = None,
    top_confused: int = 3,
    confidence: float = 0.95,
    id_column: str = ID_COLUMN,
) -> OutOfFold:
    """Cross-fit ``estimator`` on the labelled customers and score each one out of fold.

    Parameters
    ----------
    estimator
        An unfitted classifier taking a table (e.g. :class:`SupervisedSegmenter`); cloned per
        fold.
    X, y
        The labelled customers' features (one row each) and their labels.
    n_splits
        K: folds (stratified by label when every label has at least K customers).
    random_state
        Seed of the fold split and of the shuffles.
    importance
        Also compute permutation importance of each input column on the held-out folds.
    n_repeats
        Shuffles per column and fold.
    behavioural
        Columns counted as behavioural (default: the features ``seglens features`` computes);
        every other input counts as demographic.
    top_confused
        How many confused pairs to keep.

    Examples
    --------
    >>> import polars as pl
    >>> from seglens.segmenters import SupervisedSegmenter
    >>> X = pl.DataFrame({"n_orders": [float(i % 10) for i in range(100)],
    ...                   "region": ["north", "south"] * 50})
    >>> y = ["frequent" if i % 10 >= 5 else "rare" for i in range(100)]
    >>> res = out_of_fold(SupervisedSegmenter(random_state=0), X, y)
    >>> res.accuracy.value_pct, res.importance[0].column, res.share_pct("behavioural")
    (100.0, 'n_orders', 100.0)
    """
    frame = to_polars(X, numeric_only=False)
    y_arr = np.asarray([str(v) for v in y], dtype=object)
    if y_arr.size != frame.height:
        raise DataError(f"{frame.height} customers but {y_arr.size} labels (one per customer)")
    rng = np.random.default_rng(random_state)
    folds = fold_indices(y_arr, n_splits, random_state)
    pred = np.empty(y_arr.size, dtype=object)
    fold_of = np.empty(y_arr.size, dtype=np.int64)
    drops: dict[str, float] = {}
    for f, test_idx in enumerate(folds):
        train_idx = np.setdiff1d(np.arange(y_arr.size), test_idx)
        model = clone(estimator).fit(frame[train_idx], y_arr[train_idx])
        test = frame[test_idx]
        pred[test_idx] = np.asarray(model.predict(test)).astype(str)
        fold_of[test_idx] = f
        if importance:
            cols = _used_columns(model, frame, id_column)
            for c, d in _permutation_drops(
                model, test, y_arr[test_idx], cols, n_repeats, rng
            ).items():
                drops[c] = drops.get(c, 0.0) + d * test_idx.size / y_arr.size
    correct = int(np.sum(pred == y_arr))
    beh = set(behavioural) if behavioural is not None else _behavioural_names()
    imp = tuple(
        sorted(
            (
                InputImportance(c, "behavioural" if c in beh else "demographic", 100.0 * d)
                for c, d in drops.items()
            ),
            key=lambda i: (-i.drop_pts, i.column),
        )
    )
    _, counts = np.unique(y_arr, return_counts=True)
    preds = {"row": np.arange(y_arr.size), "label": y_arr.tolist(), "predicted": pred.tolist()}
    if id_column in frame.columns:
        preds = {id_column: frame.get_column(id_column).cast(pl.String), **preds}
    return OutOfFold(
        accuracy=proportion(correct, int(y_arr.size), confidence),
        n_folds=len(folds),
        chance_pct=100.0 * float(counts.max()) / y_arr.size,
        segments=_segments(y_arr, pred, confidence),
        confused=_confused(y_arr, pred, top_confused),
        importance=imp,
        predictions=pl.DataFrame({**preds, "fold": fold_of}),
    )
