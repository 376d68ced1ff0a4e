"""Rule-based RFM segmentation: quantile (or given) score bins and a named segment map."""

# ruff: noqa: N803, N806  (X / Z for data matrices, the scikit-learn convention)

from __future__ import annotations

import itertools
import logging
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
from sklearn.base import BaseEstimator, ClusterMixin, TransformerMixin
from sklearn.utils.validation import check_array, check_is_fitted

from seglens.errors import DataError, UsageError
from seglens.segmenters._tabular import (
    ID_COLUMN,
    check_input,
    numeric_matrix,
    require_columns,
    to_polars,
)
from seglens.segmenters.base import SegmenterMixin
from seglens.segmenters.clustering import segmentation_score
from seglens.segmenters.segment_map import SegmentMap, fm_score
from seglens.tables import frame_of

__all__ = ["RFMSegmenter"]

log = logging.getLogger(__name__)
FloatArray = np.ndarray[Any, np.dtype[np.float64]]
IntArray = np.ndarray[Any, np.dtype[np.int64]]
_DIM_KEYS = {"recency": 0, "r": 0, "frequency": 1, "f": 1, "monetary": 2, "m": 2}
_DIM_NAMES = ("recency", "frequency", "monetary")


class RFMSegmenter(SegmenterMixin, TransformerMixin, ClusterMixin, BaseEstimator):  # type: ignore[misc]
    """Recency / frequency / monetary scores and the named segments they map to.

    Each of the three columns is cut into ``n_bins`` scores, 1 (worst) to ``n_bins`` (best).
    Cut points are the training quantiles (``i / n_bins``) unless ``cut_points`` gives them.
    Bins are right-closed: a value equal to a cut point gets the lower bin, so equal values
    always get equal scores (deterministic ties, independent of row order). Recency is "days
    since the last purchase": fewer days is better, so its score is reversed. The scores are
    then looked up in ``segment_map`` (default: the 11-segment map, Champions ... Lost).

    Parameters
    ----------
    recency, frequency, monetary : str
        Column names (defaults: the ``seglens features`` names).
    n_bins : int
        Scores per dimension (3-5 usual).
    cut_points : mapping, optional
        ``{"recency": [30, 90, 180, 365], ...}`` (keys recency/frequency/monetary or r/f/m):
        ``n_bins - 1`` increasing cut points per dimension given; others use quantiles.
    segment_map : SegmentMap, path to a TOML file, or None
        Score patterns -> names. The default map is on a 1-5 scale; with other ``n_bins``
        its scores are spread over 1-5 first. A custom map's ``scale`` must equal ``n_bins``.
    id_column : str
        Customer identifier column (copied to :meth:`assign` output).
    random_state : None
        Accepted for a uniform segmenter interface; RFM scoring is deterministic.

    Attributes
    ----------
    edges_ : dict of str to list of float
        Cut points per dimension used for scoring.
    labels_ : ndarray
        Segment index (into ``segment_names_``) of each training row.
    segment_names_ : list of str
        Segment names in map order.

    Examples
    --------
    >>> import polars as pl
    >>> df = pl.DataFrame({
    ...     "customer_id": ["a", "b", "c"],
    ...     "days_since_last_purchase": [5, 200, 400],
    ...     "n_orders": [12, 3, 1],
    ...     "total_spend": [900.0, 150.0, 20.0],
    ... })
    >>> seg = RFMSegmenter(n_bins=3).fit(df)
    >>> seg.assign(df).select("customer_id", "segment", "rfm_code").rows()
    [('a', 'Champions', '333'), ('b', 'Need attention', '222'), ('c', 'Lost', '111')]
    """

    def __init__(
        self,
        recency: str = "days_since_last_purchase",
        frequency: str = "n_orders",
        monetary: str = "total_spend",
        n_bins: int = 5,
        cut_points: Mapping[str, Sequence[float]] | None = None,
        segment_map: SegmentMap | str | Path | None = None,
        id_column: str = ID_COLUMN,
        random_state: Any = None,
    ) -> None:
        self.recency = recency
        self.frequency = frequency
        self.monetary = monetary
        self.n_bins = n_bins
        self.cut_points = cut_points
        self.segment_map = segment_map
        self.id_column = id_column
        self.random_state = random_state

    @property
    def columns(self) -> list[str]:
        """The recency, frequency and monetary column names."""
        return [self.recency, self.frequency, self.monetary]

    def _as_frame(self, X: Any) -> pl.DataFrame:
        X = frame_of(X)
        if not hasattr(X, "columns"):
            X = check_array(X, dtype=np.float64)  # NaN / inf refused, as scikit-learn does
        return to_polars(
            X, numeric_only=True, names=None if hasattr(X, "columns") else self.columns
        )

    def _resolve_map(self) -> SegmentMap:
        m = self.segment_map
        if m is None:
            return SegmentMap.default()
        if isinstance(m, SegmentMap):
            return m
        if isinstance(m, str | Path):
            return SegmentMap.from_toml(m)
        raise UsageError(f"segment_map must be a SegmentMap, a TOML path or None, not {m!r}")

    def _values(self, df: pl.DataFrame) -> FloatArray:
        require_columns(df, self.columns, what="RFM scoring")
        vals = numeric_matrix(df, self.columns)
        bad = ~np.isfinite(vals)
        if bad.any():
            rows, cols = np.nonzero(bad)
            raise DataError(
                f"RFM columns must be finite numbers; {int(bad.sum())} value(s) are missing "
                "or infinite",
                column=self.columns[int(cols[0])],
                lines=tuple(int(r) + 2 for r in rows[:10]),
                hint="fill or drop customers without purchases before RFM scoring",
            )
        return vals

    def fit(self, X: Any, y: Any = None) -> RFMSegmenter:
        """Learn the cut points from ``X`` and score it."""
        if not isinstance(self.n_bins, int) or not 2 <= self.n_bins <= 10:
            raise UsageError(f"n_bins must be an integer from 2 to 10, not {self.n_bins!r}")
        X = check_input(self, X, reset=True)
        df = self._as_frame(X)
        vals = self._values(df)
        smap = self._resolve_map()
        if smap.scale != self.n_bins and self.segment_map is not None:
            raise UsageError(
                f"the segment map is on a 1-{smap.scale} scale but n_bins is {self.n_bins}",
                source=smap.source,
                hint=f"use n_bins={smap.scale} or a map with scale = {self.n_bins}",
            )
        given = self._given_cut_points()
        self.edges_: dict[str, list[float]] = {}
        q = np.arange(1, self.n_bins) / self.n_bins
        for j, dim in enumerate(_DIM_NAMES):
            edges = given.get(j)
            if edges is None:
                edges = [float(e) for e in np.quantile(vals[:, j], q)]
            self.edges_[dim] = edges
            used = np.unique(np.searchsorted(edges, vals[:, j], side="left")).size
            if used < self.n_bins:
                log.info(
                    "%s: only %d of %d scores occur (ties at cut points)", dim, used, self.n_bins
                )
        self.segment_map_ = smap
        self.segment_names_ = smap.names
        spread = 1 + np.round(np.arange(self.n_bins) * (smap.scale - 1) / (self.n_bins - 1))
        self.score_to_map_ = spread.astype(np.int64)
        self.lookup_ = smap.lookup_table()
        self.labels_ = self._assign_frame(df)[0]
        return self

    def _given_cut_points(self) -> dict[int, list[float]]:
        out: dict[int, list[float]] = {}
        for key, pts in (self.cut_points or {}).items():
            if key not in _DIM_KEYS:
                raise UsageError(
                    f"unknown cut_points key {key!r}", hint="use recency, frequency or monetary"
                )
            edges = [float(p) for p in pts]
            if len(edges) != self.n_bins - 1 or any(b <= a for a, b in itertools.pairwise(edges)):
                raise UsageError(
                    f"cut_points[{key!r}] must be {self.n_bins - 1} strictly increasing numbers "
                    f"for n_bins={self.n_bins}, not {list(pts)}"
                )
            out[_DIM_KEYS[key]] = edges
        return out

    def _scores(self, vals: FloatArray) -> IntArray:
        scores = np.empty(vals.shape, dtype=np.int64)
        for j, dim in enumerate(_DIM_NAMES):
            b = np.searchsorted(np.asarray(self.edges_[dim]), vals[:, j], side="left") + 1
            scores[:, j] = self.n_bins + 1 - b if j == 0 else b
        return scores

    def _assign_frame(self, df: pl.DataFrame) -> tuple[IntArray, dict[str, Any]]:
        scores = self._scores(self._values(df))
        mapped = self.score_to_map_[scores - 1]
        labels = self.lookup_[mapped[:, 0] - 1, mapped[:, 1] - 1, mapped[:, 2] - 1].astype(np.int64)
        r, f, m = (pl.Series(scores[:, j], dtype=pl.Int8) for j in range(3))
        code = pl.DataFrame({"r": r, "f": f, "m": m}).select(
            pl.concat_str([pl.col("r"), pl.col("f"), pl.col("m")]).alias("c")
        )
        details = {
            "r_score": r,
            "f_score": f,
            "m_score": m,
            "fm_score": pl.Series(fm_score(scores[:, 1], scores[:, 2]), dtype=pl.Int8),
            "rfm_code": code.get_column("c"),
        }
        return labels, details

    def predict(self, X: Any) -> IntArray:
        """Segment index (into ``segment_names_``) of each row."""
        check_is_fitted(self, "edges_")
        X = check_input(self, X, reset=False)
        return self._assign_frame(self._as_frame(X))[0]

    def score(self, X: Any, y: Any) -> float:
        """Segmentation accuracy of the segments of ``X`` against the labels ``y`` (0-1).

        Higher is better, so ``GridSearchCV`` needs no custom scorer. The value is
        :func:`seglens.accuracy.customer_accuracy` with ``match="hungarian"`` as a fraction (the
        segment -> label mapping cross-fitted), as for the clustering segmenters.

        Examples
        --------
        >>> import polars as pl
        >>> df = pl.DataFrame({
        ...     "days_since_last_purchase": [5, 9, 400, 300] * 3,
        ...     "n_orders": [12, 10, 1, 2] * 3,
        ...     "total_spend": [900.0, 800.0, 20.0, 30.0] * 3,
        ... })
        >>> y = ["loyal", "loyal", "lapsed", "lapsed"] * 3
        >>> RFMSegmenter(n_bins=2).fit(df).score(df, y)
        1.0
        """
        return segmentation_score(y, self.predict(X))

    def transform(self, X: Any) -> IntArray:
        """The R, F and M scores of each row (n × 3 integers)."""
        check_is_fitted(self, "edges_")
        X = check_input(self, X, reset=False)
        return self._scores(self._values(self._as_frame(X)))

    def score_rules(self) -> list[dict[str, Any]]:
        """Each score as a filter on its column, e.g. R=5: ``days_since_last_purchase <= 12``."""
        check_is_fitted(self, "edges_")
        rules = []
        for j, (dim, col) in enumerate(zip(_DIM_NAMES, self.columns, strict=True)):
            e = self.edges_[dim]
            for b in range(1, self.n_bins + 1):
                lo = e[b - 2] if b > 1 else None
                hi = e[b - 1] if b <= len(e) else None
                conds = ([f"{col} > {lo:g}"] if lo is not None else []) + (
                    [f"{col} <= {hi:g}"] if hi is not None else []
                )
                score = self.n_bins + 1 - b if j == 0 else b
                rules.append({"dimension": dim, "score": score, "rule": " and ".join(conds)})
        return rules
