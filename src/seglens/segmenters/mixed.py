"""Segments from numeric and categorical columns together (k-prototypes)."""

# ruff: noqa: N803  (X / Z for data matrices, the scikit-learn convention)

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import polars as pl
from sklearn.utils import Tags

from seglens.segmenters._tabular import ID_COLUMN
from seglens.segmenters.clustering import _ClusterSegmenter
from seglens.segmenters.kprototypes import kprototypes, mixed_distances

__all__ = ["MixedSegmenter"]

FloatArray = np.ndarray[Any, np.dtype[np.float64]]
IntArray = np.ndarray[Any, np.dtype[np.int64]]


class MixedSegmenter(_ClusterSegmenter):
    """k-prototypes segments for mixed data (behaviour + demographics).

    Numeric columns are imputed, logged when skewed and standardised; categorical columns
    (strings, booleans, or those named in ``categorical``) keep their categories, compared by
    match/mismatch. A centre is a vector of means plus a vector of modes; a customer's
    dissimilarity is the squared distance on the numeric block plus ``gamma`` per mismatching
    category. With standardised numerics, ``gamma = 0.5`` follows Huang's advice (half the
    average numeric standard deviation).

    Parameters
    ----------
    n_clusters : int or "auto"
        Number of segments, or ``"auto"`` (highest silhouette on the mixed dissimilarity among
        stable k; evidence in ``k_selection_``).
    gamma : float
        Weight of one categorical mismatch.
    features, categorical : list of str, optional
        Numeric and categorical columns (defaults: all numeric / all non-numeric).
    n_init, max_iter, sample_size, k_range, log_transform, random_state, id_column
        As for :class:`~seglens.segmenters.clustering.KMeansSegmenter`; the model is fitted on
        up to ``sample_size`` customers and then applied to all.

    Examples
    --------
    >>> import polars as pl
    >>> df = pl.DataFrame({"spend": [10.0, 12.0, 11.0, 500.0, 520.0, 510.0],
    ...                    "region": ["north"] * 3 + ["south"] * 3})
    >>> seg = MixedSegmenter(n_clusters=2, random_state=0).fit(df)
    >>> len(set(seg.labels_[:3].tolist())), len(set(seg.labels_.tolist()))
    (1, 2)
    """

    _method = "mixed"

    def __init__(
        self,
        n_clusters: int | str = 8,
        *,
        gamma: float = 0.5,
        k_range: tuple[int, int] = (2, 12),
        features: Sequence[str] | None = None,
        categorical: Sequence[str] | None = None,
        log_transform: Any = "auto",
        n_init: int = 3,
        max_iter: int = 50,
        sample_size: int = 100_000,
        random_state: Any = None,
        id_column: str = ID_COLUMN,
    ) -> None:
        self.n_clusters = n_clusters
        self.gamma = gamma
        self.k_range = k_range
        self.features = features
        self.categorical = categorical
        self.log_transform = log_transform
        self.n_init = n_init
        self.max_iter = max_iter
        self.sample_size = sample_size
        self.random_state = random_state
        self.id_column = id_column

    def __sklearn_tags__(self) -> Tags:
        tags = super().__sklearn_tags__()
        tags.input_tags.categorical = True
        tags.input_tags.string = True
        return tags

    def _as_frame(self, X: Any) -> pl.DataFrame:
        from seglens.segmenters._tabular import to_polars

        names = None if hasattr(X, "columns") else getattr(self, "input_columns_", None)
        numeric_only = not self.categorical and not (
            isinstance(X, np.ndarray) and X.dtype == object
        )
        return to_polars(X, numeric_only=numeric_only, names=names)

    def _prepare(self, df: pl.DataFrame) -> tuple[FloatArray, Any]:
        pre = self.preprocessor_
        return pre.transform_numeric(df), pre.transform_codes(df)

    def _choose_k_options(self) -> dict[str, Any]:
        return {"gamma": self.gamma}

    def _fit_k(
        self, Z: FloatArray, codes: Any, k: int, rs: np.random.RandomState
    ) -> IntArray | None:
        n = Z.shape[0]
        idx = rs.choice(n, self.sample_size, replace=False) if n > self.sample_size else slice(None)
        res = kprototypes(
            Z[idx],
            codes[idx],
            k,
            gamma=self.gamma,
            n_init=self.n_init,
            max_iter=self.max_iter,
            random_state=int(rs.randint(2**31 - 1)),
        )
        self.cluster_means_ = res.means
        self.cluster_modes_ = res.modes
        self.n_iter_ = res.n_iter
        return res.labels if isinstance(idx, slice) else None

    def _label(self, Z: FloatArray, codes: Any) -> tuple[IntArray, dict[str, Any]]:
        d = mixed_distances(Z, codes, self.cluster_means_, self.cluster_modes_, self.gamma)
        lab = d.argmin(1).astype(np.int64)
        return lab, {"distance": pl.Series(d[np.arange(len(lab)), lab], dtype=pl.Float64)}

    def cluster_modes(self) -> list[dict[str, str]]:
        """The modal category of each categorical column, per segment (readable)."""
        pre = self.preprocessor_
        out = []
        for row in self.cluster_modes_:
            out.append(
                {
                    c: (cats[int(code)] if code >= 0 else "(other)")
                    for c, cats, code in zip(
                        pre.categorical_columns_, pre.categories_, row, strict=True
                    )
                }
            )
        return out
