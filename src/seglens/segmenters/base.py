"""What every seglens segmenter shares: named segments and an ``assign`` table."""

# ruff: noqa: N803  (X / Z for data matrices, the scikit-learn convention)

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import polars as pl
from sklearn.utils.validation import check_is_fitted

from seglens.errors import UsageError
from seglens.segmenters._tabular import ID_COLUMN, ids_of, to_polars

__all__ = ["SegmenterMixin"]

IntArray = np.ndarray[Any, np.dtype[np.int64]]


class SegmenterMixin:
    """Named segments on top of integer cluster labels.

    Subclasses set ``segment_names_`` (one readable name per label) in ``fit`` and implement
    ``_assign_frame(df) -> (labels, {detail column: values})``.
    """

    id_column: str = ID_COLUMN
    segment_names_: list[str]

    def _assign_frame(self, df: pl.DataFrame) -> tuple[IntArray, dict[str, Any]]:
        raise NotImplementedError

    def _as_frame(self, X: Any) -> pl.DataFrame:
        raise NotImplementedError

    def assign(self, X: Any) -> pl.DataFrame:
        """Segment each customer: ``customer_id`` (when present), ``segment``, ``cluster``, details.

        Parameters
        ----------
        X : DataFrame or array
            Customers to score, with the columns the model was fitted on.

        Returns
        -------
        polars.DataFrame
            One row per input row, in input order.
        """
        check_is_fitted(self, "segment_names_")
        df = self._as_frame(X)
        labels, details = self._assign_frame(df)
        names = np.asarray(self.segment_names_, dtype=object)
        cols: dict[str, Any] = {}
        ids = ids_of(df, self.id_column)
        if ids is not None:
            cols[ID_COLUMN] = ids
        cols["segment"] = pl.Series("segment", names[labels].tolist(), dtype=pl.String)
        cols["cluster"] = pl.Series("cluster", labels, dtype=pl.Int32)
        cols.update(details)
        return pl.DataFrame(cols)

    def rename_segments(self, mapping: Mapping[str, str]) -> None:
        """Rename segments in place, e.g. ``{"frequent high spenders": "VIPs"}``.

        Raises :class:`UsageError` for unknown names or when two segments would share a name.
        """
        check_is_fitted(self, "segment_names_")
        unknown = [k for k in mapping if k not in self.segment_names_]
        if unknown:
            raise UsageError(
                f"no segment named {', '.join(map(repr, unknown))}",
                hint=f"segments are: {', '.join(self.segment_names_)}",
            )
        new = [mapping.get(n, n) for n in self.segment_names_]
        if len(set(new)) != len(new):
            raise UsageError("renaming would give two segments the same name")
        self.segment_names_ = new


def frame_of(X: Any, *, numeric_only: bool, names: list[str] | None) -> pl.DataFrame:
    """Shortcut used by subclasses: any input as a Polars frame."""
    return to_polars(X, numeric_only=numeric_only, names=names)
