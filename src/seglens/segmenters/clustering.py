"""Clustering segmenters: k-means (full Lloyd or mini-batch) and Gaussian mixtures.

Each estimator carries its fitted :class:`FeaturePreprocessor`, so ``predict`` on raw
feature tables applies the same log/scale/encoding. With ``n_clusters="auto"`` the number of
segments is chosen by :func:`choose_k` and the evidence is kept in ``k_selection_``.
"""

# ruff: noqa: N803, N806  (X / Z for data matrices, the scikit-learn convention)

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar, Literal

import numpy as np
import polars as pl
from sklearn.base import BaseEstimator, ClusterMixin, TransformerMixin
from sklearn.cluster import KMeans, MiniBatchKMeans
from sklearn.mixture import GaussianMixture
from sklearn.utils import Tags, check_random_state
from sklearn.utils.validation import check_is_fitted

from seglens.accuracy.metrics import customer_accuracy
from seglens.errors import UsageError
from seglens.segmenters._tabular import ID_COLUMN, check_input, to_polars
from seglens.segmenters.base import SegmenterMixin
from seglens.segmenters.choose_k import KSelection, choose_k
from seglens.segmenters.naming import auto_names, effect_sizes
from seglens.segmenters.preprocessing import FeaturePreprocessor

__all__ = ["GaussianMixtureSegmenter", "KMeansSegmenter", "nearest_centers"]

FloatArray = np.ndarray[Any, np.dtype[np.float64]]
IntArray = np.ndarray[Any, np.dtype[np.int64]]
_MEDIAN_COLUMNS = ("n_orders", "frequency")
_NAMING_SAMPLE = 200_000


def nearest_centers(Z: FloatArray, centers: FloatArray) -> tuple[IntArray, FloatArray, FloatArray]:
    """Label, distance to the nearest centre and to the second nearest, for each row.

    Examples
    --------
    >>> import numpy as np
    >>> lab, d1, d2 = nearest_centers(np.array([[0.0, 1.0]]), np.array([[0.0, 0.0], [3.0, 1.0]]))
    >>> lab.tolist(), d1.tolist(), d2.tolist()
    ([0], [1.0], [3.0])
    """
    d = Z @ (-2.0 * centers.T)
    d += (centers * centers).sum(1)
    rows = np.arange(Z.shape[0])
    lab = d.argmin(1)
    d1 = d[rows, lab]
    if centers.shape[0] > 1:
        d[rows, lab] = np.inf
        d2 = d.min(1)
    else:
        d2 = np.full(Z.shape[0], np.inf)
    xx = np.einsum("ij,ij->i", Z, Z)
    d1 += xx
    d2 += xx
    np.maximum(d1, 0.0, out=d1)
    np.maximum(d2, 0.0, out=d2)
    return lab.astype(np.int64), np.sqrt(d1), np.sqrt(d2)


def segmentation_score(y: Any, segments: IntArray) -> float:
    """Cross-fitted Hungarian-matched accuracy of ``segments`` against ``y``, as a fraction."""
    if y is None:
        raise UsageError(
            "score needs the labels y (each customer's true segment)",
            hint="call score(X, y), or pass y to GridSearchCV.fit(X, y)",
        )
    # The point estimate does not depend on the resamples (they only widen the interval).
    est = customer_accuracy(y, segments, match="hungarian", n_resamples=0)
    return est.value_pct / 100.0


class _ClusterSegmenter(SegmenterMixin, ClusterMixin, BaseEstimator):  # type: ignore[misc]
    """Shared fitting flow: preprocess, choose k, fit, name the segments."""

    _method: ClassVar[Literal["kmeans", "gmm", "mixed"]] = "kmeans"
    n_clusters: int | str
    k_range: tuple[int, int]
    features: Sequence[str] | None
    categorical: Sequence[str] | None
    log_transform: Any
    sample_size: int
    random_state: Any

    def __sklearn_tags__(self) -> Tags:
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        return tags

    def _make_preprocessor(self) -> FeaturePreprocessor:
        return FeaturePreprocessor(
            numeric=self.features,
            categorical=self.categorical,
            log_transform=self.log_transform,
            id_column=self.id_column,
        )

    def _as_frame(self, X: Any) -> pl.DataFrame:
        names = None if hasattr(X, "columns") else getattr(self, "input_columns_", None)
        return to_polars(X, numeric_only=not self.categorical, names=names)

    def _prepare(self, df: pl.DataFrame) -> tuple[FloatArray, Any]:
        return self.preprocessor_.transform(df), None

    def _requested_k(self) -> int | str:
        return self.n_clusters

    def _resolve_k(self, Z: FloatArray, codes: Any, rs: np.random.RandomState) -> int:
        k = self._requested_k()
        if k == "auto":
            lo, hi = self.k_range
            hi = min(hi, Z.shape[0] - 1)
            self.k_selection_: KSelection | None = choose_k(
                Z,
                method=self._method,
                k_values=range(lo, hi + 1),
                codes=codes,
                random_state=int(rs.randint(2**31 - 1)),
                **self._choose_k_options(),
            )
            return self.k_selection_.k
        if isinstance(k, bool) or not isinstance(k, int | np.integer) or k < 1:
            raise UsageError(f"n_clusters must be a positive integer or 'auto', not {k!r}")
        if k > Z.shape[0]:
            raise ValueError(f"n_samples={Z.shape[0]} should be >= n_clusters={k}.")
        self.k_selection_ = None
        return int(k)

    def _choose_k_options(self) -> dict[str, Any]:
        return {}

    def fit(self, X: Any, y: Any = None) -> _ClusterSegmenter:
        """Fit preprocessing and clusters on the customers in ``X``; returns ``self``."""
        X = check_input(self, X, reset=True)
        df = self._as_frame(X)
        self.input_columns_ = df.columns
        self.preprocessor_ = self._make_preprocessor().fit(df)
        Z, codes = self._prepare(df)
        rs = check_random_state(self.random_state)
        k = self._resolve_k(Z, codes, rs)
        labels = self._fit_k(Z, codes, k, rs)
        self.n_clusters_ = k
        self.labels_ = labels if labels is not None else self._label(Z, codes)[0]
        self._name_segments(df, Z, rs)
        return self

    def _fit_k(
        self, Z: FloatArray, codes: Any, k: int, rs: np.random.RandomState
    ) -> IntArray | None:
        """Fit k segments; return the training labels when the fit already computed them."""
        raise NotImplementedError

    def _label(self, Z: FloatArray, codes: Any) -> tuple[IntArray, dict[str, Any]]:
        raise NotImplementedError

    def _name_segments(self, df: pl.DataFrame, Z: FloatArray, rs: np.random.RandomState) -> None:
        pre = self.preprocessor_
        num = pre.numeric_columns_
        k = self.n_clusters_
        n = Z.shape[0]
        # effect sizes for naming: a sample of 200k customers describes a segment well enough
        idx = np.sort(rs.choice(n, _NAMING_SAMPLE, replace=False)) if n > _NAMING_SAMPLE else None
        zs = Z[:, : len(num)] if idx is None else Z[idx, : len(num)]
        eff = effect_sizes(zs, self.labels_ if idx is None else self.labels_[idx], k)
        medians: list[dict[str, float]] = [{} for _ in range(k)]
        wanted = [c for c in _MEDIAN_COLUMNS if c in num]
        if wanted:
            meds = (
                df.select(wanted)
                .with_columns(pl.Series("_lab", self.labels_))
                .group_by("_lab")
                .median()
            )
            for row in meds.iter_rows(named=True):
                medians[int(row["_lab"])] = {c: row[c] for c in wanted}
        self.effect_sizes_ = eff
        self.segment_names_ = auto_names(num, eff, medians=medians)

    def _assign_frame(self, df: pl.DataFrame) -> tuple[IntArray, dict[str, Any]]:
        Z, codes = self._prepare(df)
        return self._label(Z, codes)

    def predict(self, X: Any) -> IntArray:
        """Cluster index of each customer (``segment_names_[i]`` is its name)."""
        check_is_fitted(self, "preprocessor_")
        X = check_input(self, X, reset=False)
        return self._assign_frame(self._as_frame(X))[0]

    def score(self, X: Any, y: Any) -> float:
        """Segmentation accuracy of the segments of ``X`` against the labels ``y`` (0-1).

        Higher is better, so ``GridSearchCV`` and ``cross_val_score`` need no custom scorer. The
        value is :func:`seglens.accuracy.customer_accuracy` with ``match="hungarian"`` as a
        fraction: each segment is matched to one label and the mapping is cross-fitted (learnt on
        other folds of ``X``), so it is not flattered by being learnt from the labels it is
        scored on.

        Parameters
        ----------
        X
            Customer features (as for :meth:`predict`).
        y
            Each customer's true segment (the labels), same order as ``X``.

        Returns
        -------
        float
            Share of customers whose segment is matched to their label.

        Examples
        --------
        >>> import numpy as np
        >>> X = np.vstack([np.zeros((6, 2)), np.full((6, 2), 10.0)])
        >>> y = ["new"] * 6 + ["loyal"] * 6
        >>> KMeansSegmenter(n_clusters=2, random_state=0).fit(X).score(X, y)
        1.0
        """
        return segmentation_score(y, self.predict(X))


class KMeansSegmenter(TransformerMixin, _ClusterSegmenter):  # type: ignore[misc]
    """k-means segments on preprocessed customer features.

    With ``algorithm="lloyd"`` (default) the centres are found on a sample of up to
    ``sample_size`` customers (``n_init`` k-means++ starts), then refined with at most
    ``full_iter`` Lloyd iterations over all customers. ``"minibatch"`` runs scikit-learn's
    ``MiniBatchKMeans`` over everyone.

    Parameters
    ----------
    n_clusters : int or "auto"
        Number of segments, or ``"auto"`` to choose within ``k_range`` (see
        :func:`~seglens.segmenters.choose_k.choose_k`; the evidence is in ``k_selection_``).
    algorithm : {"lloyd", "minibatch"}
    k_range : (int, int)
        Smallest and largest k considered by ``"auto"``.
    features, categorical : list of str, optional
        Numeric / categorical columns (default: all numeric / all string columns).
        Categorical columns are one-hot encoded.
    log_transform : "auto", bool or list of str
        Signed log1p of skewed columns (see :class:`FeaturePreprocessor`).
    n_init, max_iter, full_iter, tol, batch_size, sample_size
        Fitting controls.
    random_state : int, RandomState or None
    id_column : str

    Examples
    --------
    >>> import numpy as np
    >>> X = np.vstack([np.zeros((5, 2)), np.full((5, 2), 10.0)])
    >>> seg = KMeansSegmenter(n_clusters=2, random_state=0).fit(X)
    >>> sorted(np.bincount(seg.labels_).tolist())
    [5, 5]
    """

    _method = "kmeans"

    def __init__(
        self,
        n_clusters: int | str = 8,
        *,
        algorithm: Literal["lloyd", "minibatch"] = "lloyd",
        k_range: tuple[int, int] = (2, 12),
        features: Sequence[str] | None = None,
        categorical: Sequence[str] | None = None,
        log_transform: Any = "auto",
        n_init: int = 3,
        max_iter: int = 300,
        full_iter: int = 5,
        tol: float = 1e-4,
        batch_size: int = 4096,
        sample_size: int = 100_000,
        random_state: Any = None,
        id_column: str = ID_COLUMN,
    ) -> None:
        self.n_clusters = n_clusters
        self.algorithm = algorithm
        self.k_range = k_range
        self.features = features
        self.categorical = categorical
        self.log_transform = log_transform
        self.n_init = n_init
        self.max_iter = max_iter
        self.full_iter = full_iter
        self.tol = tol
        self.batch_size = batch_size
        self.sample_size = sample_size
        self.random_state = random_state
        self.id_column = id_column

    def _fit_k(
        self, Z: FloatArray, codes: Any, k: int, rs: np.random.RandomState
    ) -> IntArray | None:
        seed = int(rs.randint(2**31 - 1))
        n = Z.shape[0]
        km: KMeans | MiniBatchKMeans
        if self.algorithm == "minibatch":
            km = MiniBatchKMeans(
                k,
                batch_size=self.batch_size,
                n_init=self.n_init,
                random_state=seed,
                max_iter=self.max_iter,
                tol=self.tol,
            ).fit(Z)
        elif self.algorithm == "lloyd":
            if n > self.sample_size:
                # centres from a sample (several k-means++ starts), then a few Lloyd
                # iterations over everyone to settle them on the full data
                idx = rs.choice(n, self.sample_size, replace=False)
                start = KMeans(
                    k, n_init=self.n_init, max_iter=self.max_iter, tol=self.tol, random_state=seed
                ).fit(Z[idx])
                km = KMeans(
                    k,
                    init=start.cluster_centers_,
                    n_init=1,
                    max_iter=self.full_iter,
                    tol=self.tol,
                    random_state=seed,
                ).fit(Z)
            else:
                km = KMeans(
                    k, n_init=self.n_init, max_iter=self.max_iter, tol=self.tol, random_state=seed
                ).fit(Z)
        else:
            raise UsageError(f"algorithm must be 'lloyd' or 'minibatch', not {self.algorithm!r}")
        self.kmeans_ = km
        self.cluster_centers_ = km.cluster_centers_
        self.n_iter_ = int(km.n_iter_)
        if self.algorithm == "minibatch":
            return None  # MiniBatchKMeans labels come from the last pass; recompute exactly
        return np.asarray(km.labels_, dtype=np.int64)

    def predict(self, X: Any) -> IntArray:
        """Cluster index of each customer: preprocessing, then scikit-learn's nearest centre."""
        check_is_fitted(self, "kmeans_")
        X = check_input(self, X, reset=False)
        Z, _ = self._prepare(self._as_frame(X))
        return np.asarray(self.kmeans_.predict(Z), dtype=np.int64)

    def _label(self, Z: FloatArray, codes: Any) -> tuple[IntArray, dict[str, Any]]:
        lab, d1, d2 = nearest_centers(Z, self.cluster_centers_)
        return lab, {
            "distance": pl.Series(d1, dtype=pl.Float64),
            "margin": pl.Series(d2 - d1, dtype=pl.Float64),
        }

    def transform(self, X: Any) -> FloatArray:
        """Euclidean distance of each customer to every centre (preprocessed space)."""
        check_is_fitted(self, "cluster_centers_")
        X = check_input(self, X, reset=False)
        Z, _ = self._prepare(self._as_frame(X))
        C = self.cluster_centers_
        d = (Z * Z).sum(1)[:, None] - 2 * Z @ C.T + (C * C).sum(1)[None, :]
        out: FloatArray = np.sqrt(np.maximum(d, 0.0))
        return out


class GaussianMixtureSegmenter(_ClusterSegmenter):
    """Gaussian-mixture segments with a membership probability per customer.

    The mixture is fitted on a sample of up to ``sample_size`` customers (EM on millions of
    rows adds little); every customer is then assigned to its most probable component.
    ``n_components="auto"`` chooses k by BIC (evidence in ``k_selection_``).

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> X = np.vstack([rng.normal(0, 1, (50, 2)), rng.normal(8, 1, (50, 2))])
    >>> seg = GaussianMixtureSegmenter(n_components=2, random_state=0).fit(X)
    >>> sorted(np.bincount(seg.labels_).tolist())
    [50, 50]
    """

    _method = "gmm"

    def __init__(
        self,
        n_components: int | str = 8,
        *,
        covariance_type: Literal["full", "tied", "diag", "spherical"] = "full",
        k_range: tuple[int, int] = (2, 12),
        features: Sequence[str] | None = None,
        categorical: Sequence[str] | None = None,
        log_transform: Any = "auto",
        n_init: int = 1,
        max_iter: int = 200,
        reg_covar: float = 1e-4,
        sample_size: int = 200_000,
        random_state: Any = None,
        id_column: str = ID_COLUMN,
    ) -> None:
        self.n_components = n_components
        self.covariance_type = covariance_type
        self.k_range = k_range
        self.features = features
        self.categorical = categorical
        self.log_transform = log_transform
        self.n_init = n_init
        self.max_iter = max_iter
        self.reg_covar = reg_covar
        self.sample_size = sample_size
        self.random_state = random_state
        self.id_column = id_column

    def _requested_k(self) -> int | str:
        return self.n_components

    def _choose_k_options(self) -> dict[str, Any]:
        return {"covariance_type": self.covariance_type}

    def _fit_k(
        self, Z: FloatArray, codes: Any, k: int, rs: np.random.RandomState
    ) -> IntArray | None:
        n = Z.shape[0]
        idx = rs.choice(n, self.sample_size, replace=False) if n > self.sample_size else None
        S = Z if idx is None else Z[idx]
        seed = int(rs.randint(2**31 - 1))
        # EM from a single k-means start often stalls in a poor optimum: start from the best
        # of three k-means++ runs instead.
        start = KMeans(k, n_init=3, random_state=seed).fit(S).cluster_centers_
        self.mixture_ = GaussianMixture(
            k,
            covariance_type=self.covariance_type,
            n_init=self.n_init,
            max_iter=self.max_iter,
            reg_covar=self.reg_covar,
            means_init=start,
            random_state=seed,
        ).fit(S)
        self.n_iter_ = int(self.mixture_.n_iter_)
        return None

    def _label(self, Z: FloatArray, codes: Any) -> tuple[IntArray, dict[str, Any]]:
        proba = self.mixture_.predict_proba(Z)
        lab = proba.argmax(1).astype(np.int64)
        return lab, {"probability": pl.Series(proba[np.arange(len(lab)), lab], dtype=pl.Float64)}

    def predict_proba(self, X: Any) -> FloatArray:
        """Membership probability of each customer for each segment (n × k)."""
        check_is_fitted(self, "mixture_")
        X = check_input(self, X, reset=False)
        Z, _ = self._prepare(self._as_frame(X))
        return np.asarray(self.mixture_.predict_proba(Z))

    def bic(self, X: Any) -> float:
        """Bayesian information criterion of the fitted mixture on ``X`` (lower is better)."""
        check_is_fitted(self, "mixture_")
        Z, _ = self._prepare(self._as_frame(X))
        return float(self.mixture_.bic(Z))
