"""Turn user label vectors (list, ndarray, pandas / Polars Series) into integer codes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
import polars as pl

from seglens.errors import DataError

__all__ = ["Codes", "encode", "encode_pair", "to_numpy"]

IntArray = npt.NDArray[np.int64]

_SMALL_INT_RANGE = 1 << 20


@dataclass(frozen=True)
class Codes:
    """Integer codes ``0..k-1`` for a label vector and the sorted original values they stand for."""

    codes: IntArray
    values: tuple[Any, ...]

    @property
    def k(self) -> int:
        """Number of distinct values."""
        return len(self.values)


def to_numpy(x: object, name: str) -> npt.NDArray[Any]:
    """A 1-d NumPy view of ``x``; raises :class:`DataError` for anything else."""
    arr: npt.NDArray[Any]
    if isinstance(x, pl.Series):
        arr = x.to_numpy()
    elif isinstance(x, pd.Series | pd.Index | pd.Categorical):
        cat = isinstance(x.dtype, pd.CategoricalDtype)
        arr = np.asarray(x, dtype=object) if cat else np.asarray(x)
    elif isinstance(x, np.ndarray):
        arr = x
    elif isinstance(x, list | tuple | range):
        arr = np.asarray(x, dtype=object if _has_str(x) else None)
    else:
        raise DataError(
            f"{name} must be a list, NumPy array, pandas Series or Polars Series, "
            f"not {type(x).__name__}",
            hint="pass one segment label per customer as a 1-d sequence",
        )
    if arr.ndim != 1:
        raise DataError(f"{name} must be one-dimensional, got shape {arr.shape}")
    if arr.size == 0:
        raise DataError(
            f"{name} is empty: there are no customers to compare",
            hint="check that the labels and the segments share customer ids",
        )
    _reject_missing(arr, name)
    return arr


def _has_str(x: list[Any] | tuple[Any, ...] | range) -> bool:
    return any(isinstance(v, str) for v in x)


def _reject_missing(arr: npt.NDArray[Any], name: str) -> None:
    if arr.dtype.kind == "f":
        bad = np.flatnonzero(np.isnan(arr))
    elif arr.dtype.kind == "O":
        bad = np.flatnonzero(pd.isna(arr))
    else:
        return
    if bad.size:
        raise DataError(
            f"{name} has {bad.size} missing value(s) (None/NaN); every customer needs a segment",
            values=[int(i) for i in bad[:10]],
            hint="drop the customers without a segment or label first (positions shown are "
            "0-based), or give them an explicit segment such as 'unassigned'",
        )


def encode(x: object, name: str = "labels") -> Codes:
    """Encode labels as integer codes in ``O(n)`` where possible (small non-negative integers)."""
    arr = to_numpy(x, name)
    if arr.dtype.kind in "iub":
        a = arr.astype(np.int64, copy=False)
        lo, hi = int(a.min()), int(a.max())
        if lo >= 0 and hi < _SMALL_INT_RANGE:
            present = np.bincount(a, minlength=hi + 1) > 0
            values = np.flatnonzero(present)
            lookup = np.full(hi + 1, -1, dtype=np.int64)
            lookup[values] = np.arange(values.size, dtype=np.int64)
            return Codes(lookup[a], tuple(int(v) for v in values))
        uniq, inv = np.unique(a, return_inverse=True)
        return Codes(inv.astype(np.int64), tuple(int(v) for v in uniq))
    if arr.dtype.kind == "f" and np.all(arr == np.round(arr)):
        return encode(arr.astype(np.int64), name)
    codes, uniques = pd.factorize(arr, sort=False)
    found: list[object] = [_plain(v) for v in uniques]
    order = sorted(range(len(found)), key=lambda i: (type(found[i]).__name__, str(found[i])))
    remap = np.empty(len(found), dtype=np.int64)
    remap[order] = np.arange(len(found), dtype=np.int64)
    return Codes(remap[codes.astype(np.int64)], tuple(found[i] for i in order))


def _plain(v: object) -> object:
    """Python scalars instead of NumPy scalars, so mappings print and serialise cleanly."""
    return v.item() if isinstance(v, np.generic) else v


def encode_pair(y_true: object, y_pred: object) -> tuple[Codes, Codes]:
    """Encode both vectors and check they describe the same customers (same length)."""
    t = encode(y_true, "y_true")
    p = encode(y_pred, "y_pred")
    if t.codes.size != p.codes.size:
        raise DataError(
            f"y_true has {t.codes.size} customers but y_pred has {p.codes.size}",
            hint="align labels and segments by customer id first (seglens.accuracy.align_labels)",
        )
    return t, p
