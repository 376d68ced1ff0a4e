"""A segmenter that learns from reviewers' labels: gradient boosting on customer features.

Clustering finds groups the data suggests; when sales or service have labelled customers with
the segment they should be in, a classifier learns *their* segmentation and applies it to every
customer. :class:`SupervisedSegmenter` wraps scikit-learn's ``HistGradientBoostingClassifier``:
numeric columns go in as they are (missing values are handled natively), text/boolean columns
as categories (native categorical splits, no one-hot), and the regularisation adapts to the
number of labels (see ``min_samples_leaf``). Why this model: ``docs/decisions.md``.
"""

# ruff: noqa: N803, N806  (X / Z for data matrices, the scikit-learn convention)

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import polars as pl
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.utils import Tags, assert_all_finite
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, column_or_1d
from threadpoolctl import threadpool_limits  # type: ignore[import-untyped]

from seglens.errors import DataError, UsageError
from seglens.segmenters._tabular import ID_COLUMN, check_input, require_columns, to_polars
from seglens.segmenters.base import SegmenterMixin

__all__ = ["SupervisedSegmenter", "columns_repeating_labels"]

FloatArray = np.ndarray[Any, np.dtype[np.float64]]
IntArray = np.ndarray[Any, np.dtype[np.int64]]
MAX_CATEGORIES = 254
"""Categories kept per column: the histogram model has 255 bins, one is for missing values."""


class LabelsRequiredError(UsageError, ValueError):
    """``fit`` was called without labels (a ``ValueError`` too, as scikit-learn expects)."""


def auto_min_samples_leaf(n: int) -> int:
    """Least labelled customers per leaf: a fifth of the labels, at least 5, at most 60.

    Few labels need simple trees; with thousands a leaf of 60 still resolves fine structure.

    Examples
    --------
    >>> auto_min_samples_leaf(100), auto_min_samples_leaf(400), auto_min_samples_leaf(8000)
    (20, 60, 60)
    """
    return int(min(60, max(5, n // 5)))


class SupervisedSegmenter(ClassifierMixin, SegmenterMixin, BaseEstimator):  # type: ignore[misc]
    """Segments learnt from labelled customers (gradient boosting with native categories).

    ``fit(X, y)`` takes the labelled customers' features (a Polars or pandas table with
    ``customer_id`` and feature columns, or an array) and their segments; ``predict`` /
    ``assign`` segment every customer. Numeric columns keep their missing values (the trees
    learn where they go); text and boolean columns (or those named in ``categorical``) are
    categories: the ``max_categories`` most frequent of each are kept, the rest and categories
    never seen in ``fit`` are treated as missing.

    Parameters
    ----------
    features : list of str, optional
        Columns to learn from (default: every column except ``id_column``).
    categorical : list of str, optional
        Columns to treat as categories besides text/boolean ones (e.g. coded regions).
    learning_rate, max_iter, max_leaf_nodes, l2_regularization
        Passed to ``HistGradientBoostingClassifier``; the defaults are deliberately
        conservative (small trees, shrinkage, L2) because labels are few and noisy.
    min_samples_leaf : int or "auto"
        Least customers per leaf; ``"auto"`` uses a fifth of the labels, between 5 and 60.
    max_categories : int
        Categories kept per categorical column (at most 254).
    n_threads : int, optional
        OpenMP threads for growing and applying the trees; ``None`` uses every core. One by
        default: on 2 shared, busy cores a 100,000-customer fit took 2.9 s on one thread and
        37 s on two (the threads wait for each other after every tree).
    random_state : int, optional
        Seed of the boosting model (used only for tie-breaking and subsampling of bins).
    id_column : str
        Customer id column, never used as a feature.

    Attributes
    ----------
    classes_ : ndarray
        The segments seen in the labels (sorted); ``predict`` returns them.
    segment_names_ : list of str
        The same segments as text (``assign`` returns them; ``rename_segments`` changes them).
    numeric_columns_, categorical_columns_ : list of str
        The columns used, by kind.
    categories_ : list of list of str
        The categories kept per categorical column (code = position).
    model_ : HistGradientBoostingClassifier
        The fitted model on the encoded inputs (numeric columns, then category codes).
    n_iter_ : int
        Boosting iterations run.

    Notes
    -----
    ``score(X, y)`` is scikit-learn's mean accuracy of ``predict(X)`` against ``y``. On the
    customers the model was fitted on it is optimistic (the model saw those labels); use
    :func:`~seglens.segmenters.out_of_fold` for an honest figure.

    Examples
    --------
    >>> import polars as pl
    >>> X = pl.DataFrame({"customer_id": [str(i) for i in range(40)],
    ...                   "spend": [float(i % 10) for i in range(40)],
    ...                   "region": ["north", "south"] * 20})
    >>> y = ["big" if i % 10 >= 5 else "small" for i in range(40)]
    >>> seg = SupervisedSegmenter(random_state=0).fit(X, y)
    >>> seg.assign(X).head(2).select("customer_id", "segment").rows()
    [('0', 'small'), ('1', 'small')]
    >>> seg.score(X, y)
    1.0
    """

    def __init__(
        self,
        *,
        features: Sequence[str] | None = None,
        categorical: Sequence[str] | None = None,
        learning_rate: float = 0.05,
        max_iter: int = 150,
        max_leaf_nodes: int = 8,
        min_samples_leaf: int | str = "auto",
        l2_regularization: float = 1.0,
        max_categories: int = MAX_CATEGORIES,
        n_threads: int | None = 1,
        random_state: int | None = None,
        id_column: str = ID_COLUMN,
    ) -> None:
        self.features = features
        self.categorical = categorical
        self.learning_rate = learning_rate
        self.max_iter = max_iter
        self.max_leaf_nodes = max_leaf_nodes
        self.min_samples_leaf = min_samples_leaf
        self.l2_regularization = l2_regularization
        self.max_categories = max_categories
        self.n_threads = n_threads
        self.random_state = random_state
        self.id_column = id_column

    def __sklearn_tags__(self) -> Tags:
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        tags.input_tags.categorical = True
        tags.input_tags.string = True
        return tags

    def _threads(self) -> Any:
        return threadpool_limits(limits=self.n_threads, user_api="openmp")

    # -- inputs --------------------------------------------------------------------------------
    def _as_frame(self, X: Any) -> pl.DataFrame:
        names = None if hasattr(X, "columns") else getattr(self, "input_columns_", None)
        numeric_only = not self.categorical and not (
            isinstance(X, np.ndarray) and X.dtype == object
        )
        return to_polars(X, numeric_only=numeric_only, names=names)

    def _pick_columns(self, df: pl.DataFrame) -> tuple[list[str], list[str]]:
        cols = [c for c in (self.features or df.columns) if c != self.id_column]
        require_columns(df, cols, what="the supervised segmenter")
        named = set(self.categorical or ())
        unknown = sorted(named - set(cols))
        if unknown:
            raise UsageError(
                f"categorical column(s) {', '.join(map(repr, unknown))} are not among the features"
            )
        cat = [c for c in cols if c in named or not df.schema[c].is_numeric()]
        num = [c for c in cols if c not in cat]
        if not cols:
            raise DataError(
                "the table has no feature columns to learn from",
                hint="give a table with feature columns besides the customer id",
            )
        return num, cat

    def _fit_categories(self, df: pl.DataFrame, cat: list[str]) -> list[list[str]]:
        keep = min(int(self.max_categories), MAX_CATEGORIES)
        out = []
        for c in cat:
            counts = df.get_column(c).cast(pl.String).drop_nulls().value_counts(name="n")
            top = counts.sort(["n", c], descending=[True, False]).get_column(c).head(keep)
            out.append(top.to_list())
        return out

    def encode(self, X: Any) -> FloatArray:
        """The model's input matrix: numeric columns, then category codes (missing: NaN)."""
        check_is_fitted(self, "model_")
        return self._encode(self._as_frame(check_input(self, X, reset=False)))

    def _encode(self, df: pl.DataFrame) -> FloatArray:
        require_columns(
            df, self.numeric_columns_ + self.categorical_columns_, what="the fitted segmenter"
        )
        exprs = [pl.col(c).cast(pl.Float64).fill_nan(None) for c in self.numeric_columns_]
        for c, cats in zip(self.categorical_columns_, self.categories_, strict=True):
            exprs.append(
                pl.col(c)
                .cast(pl.String)
                .replace_strict(cats, list(range(len(cats))), default=None, return_dtype=pl.Int32)
                .cast(pl.Float64)
                .alias(c)
            )
        if not exprs:
            return np.empty((df.height, 0))
        return np.ascontiguousarray(df.select(exprs).to_numpy(), dtype=np.float64)

    # -- fitting -------------------------------------------------------------------------------
    def _make_model(self, n: int) -> HistGradientBoostingClassifier:
        msl = self.min_samples_leaf
        if msl == "auto":
            msl = auto_min_samples_leaf(n)
        elif isinstance(msl, str) or int(msl) < 1:
            raise UsageError(f"min_samples_leaf must be a positive integer or 'auto', not {msl!r}")
        mask = [False] * len(self.numeric_columns_) + [True] * len(self.categorical_columns_)
        return HistGradientBoostingClassifier(
            learning_rate=self.learning_rate,
            max_iter=self.max_iter,
            max_leaf_nodes=self.max_leaf_nodes,
            min_samples_leaf=int(msl),
            l2_regularization=self.l2_regularization,
            categorical_features=mask if any(mask) else None,
            early_stopping=False,
            random_state=self.random_state,
        )

    def fit(self, X: Any, y: Any = None) -> SupervisedSegmenter:
        """Learn the labelled segments ``y`` from the customers' features ``X``; returns self."""
        if y is None:
            raise LabelsRequiredError(
                "requires y to be passed, but the target y is None: a supervised segmenter "
                "learns from labelled customers",
                hint="fit it on the labelled customers and their segments (CLI: seglens segment "
                "--method supervised --labels FILE); seglens track --model refits its model "
                "each period without labels, so give it a clustering or RFM model",
            )
        X = check_input(self, X, reset=True)
        df = self._as_frame(X)
        y_arr = column_or_1d(np.asarray(y), warn=True)
        if y_arr.dtype.kind in "fc":
            assert_all_finite(y_arr, input_name="y")
        check_classification_targets(y_arr)
        if y_arr.shape[0] != df.height:
            raise ValueError(
                f"X has {df.height} rows but y has {y_arr.shape[0]} labels (one per customer)"
            )
        self.input_columns_ = df.columns
        self.numeric_columns_, self.categorical_columns_ = self._pick_columns(df)
        self.categories_ = self._fit_categories(df, self.categorical_columns_)
        Z = self._encode(df)
        with self._threads():
            self.model_ = self._make_model(Z.shape[0]).fit(Z, y_arr)
        self.classes_ = self.model_.classes_
        self.n_iter_ = int(self.model_.n_iter_)
        self.segment_names_ = [str(c) for c in self.classes_]
        return self

    # -- predicting ----------------------------------------------------------------------------
    def predict_proba(self, X: Any) -> FloatArray:
        """Probability of each segment (columns in ``classes_`` order) for each customer."""
        Z = self.encode(X)
        with self._threads():
            proba: FloatArray = self.model_.predict_proba(Z)
        return proba

    def predict(self, X: Any) -> np.ndarray[Any, Any]:
        """The most probable segment of each customer (values of ``classes_``)."""
        best = self.predict_proba(X).argmax(1)
        out: np.ndarray[Any, Any] = self.classes_[best]
        return out

    def _assign_frame(self, df: pl.DataFrame) -> tuple[IntArray, dict[str, Any]]:
        Z = self._encode(df)
        with self._threads():
            proba = self.model_.predict_proba(Z)
        labels = proba.argmax(1).astype(np.int64)
        top = np.sort(proba, axis=1)
        margin = top[:, -1] - top[:, -2] if proba.shape[1] > 1 else np.ones(len(labels))
        return labels, {
            "probability": pl.Series("probability", top[:, -1], dtype=pl.Float64),
            "margin": pl.Series("margin", margin, dtype=pl.Float64),
        }


def columns_repeating_labels(
    table: pl.DataFrame, labels: Sequence[Any] | np.ndarray[Any, Any], *, threshold: float = 0.99
) -> list[str]:
    """Columns of ``table`` that equal the labels for at least ``threshold`` of the customers.

    Such a column is the label itself (e.g. the sales team's segment left in the feature file):
    a model would copy it and look perfect. Compared as text, ignoring case and spaces.

    Examples
    --------
    >>> t = pl.DataFrame({"age": [30, 40, 50], "Segmentation": ["A", "B", "C"]})
    >>> columns_repeating_labels(t, ["A", "B", "C"])
    ['Segmentation']
    """
    if table.height == 0:
        return []
    want = pl.Series("_y", [str(v) for v in labels]).str.strip_chars().str.to_lowercase()
    out = []
    for c in table.columns:
        got = table.get_column(c).cast(pl.String).str.strip_chars().str.to_lowercase()
        same = int((got == want).fill_null(False).sum())
        if same >= threshold * table.height:
            out.append(c)
    return out
