"""Input conversion shared by the segmenters: any table-like ``X`` becomes a Polars frame."""

# ruff: noqa: N803, N806  (X / Z for data matrices, the scikit-learn convention)

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import polars as pl
from sklearn.utils.validation import check_array, validate_data

from seglens.errors import DataError
from seglens.tables import frame_of

ID_COLUMN = "customer_id"


def is_dataframe(X: Any) -> bool:
    """Whether ``X`` carries column names (Polars or pandas frame)."""
    return isinstance(X, pl.DataFrame) or (
        hasattr(X, "columns") and hasattr(X, "dtypes") and hasattr(X, "iloc")
    )


def to_polars(X: Any, *, numeric_only: bool, names: Sequence[str] | None = None) -> pl.DataFrame:
    """Turn ``X`` (Polars/pandas frame, NumPy array, nested lists) into a Polars frame.

    Arrays get the column names ``names`` when given (the names seen in ``fit``), else ``x0..``.
    Non-numeric arrays are rejected with scikit-learn's own ``check_array`` errors when
    ``numeric_only``; NaN is allowed (segmenters impute it), infinity is not.
    """
    X = frame_of(X)
    if isinstance(X, pl.LazyFrame):
        return X.collect()
    if isinstance(X, pl.DataFrame):
        return X
    if is_dataframe(X):
        out = pl.from_pandas(X)
        assert isinstance(out, pl.DataFrame)
        return out
    arr = check_array(
        X,
        dtype=np.float64 if numeric_only else None,
        ensure_all_finite="allow-nan",
        ensure_min_samples=1,
    )
    cols = list(names) if names is not None else [f"x{i}" for i in range(arr.shape[1])]
    if len(cols) != arr.shape[1]:
        raise ValueError(
            f"X has {arr.shape[1]} features, but the model was fitted with {len(cols)} features"
        )
    if arr.dtype == object:
        return pl.DataFrame({c: arr[:, i].tolist() for i, c in enumerate(cols)}, strict=False)
    return pl.DataFrame(arr, schema=cols, orient="row")


def ensure_2d(X: Any) -> Any:
    """Reject 1-D and empty inputs with scikit-learn's messages; frames pass through."""
    if is_dataframe(X) or isinstance(X, pl.DataFrame | pl.LazyFrame):
        return X
    return check_array(X, dtype=None, ensure_all_finite="allow-nan")


def check_input(estimator: Any, X: Any, *, reset: bool) -> Any:
    """scikit-learn's input bookkeeping (``n_features_in_``, ``feature_names_in_``).

    Tables are matched to the fitted model *by column name* (extra columns are ignored,
    order does not matter, a missing column is a :class:`DataError`), so after ``fit`` only
    arrays go through scikit-learn's positional feature checks.
    """
    X = frame_of(X)  # a seglens result (FeatureTable, LoadedTable): the frame inside
    is_table = is_dataframe(X) or isinstance(X, pl.DataFrame | pl.LazyFrame)
    if not is_table:
        X = ensure_2d(X)
    if reset or not is_table:
        validate_data(estimator, X, reset=reset, skip_check_array=True)
    return X


def is_numeric(dtype: pl.DataType) -> bool:
    """Whether a Polars dtype is numeric (booleans count as categorical)."""
    return dtype.is_numeric()


def require_columns(df: pl.DataFrame, columns: Sequence[str], *, what: str) -> None:
    """Raise a :class:`DataError` naming every column of ``columns`` missing from ``df``."""
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise DataError(
            f"{what} needs the column(s) {', '.join(map(repr, missing))}, which the table lacks",
            column=missing[0],
            values=tuple(missing),
            hint=f"the table has: {', '.join(df.columns[:20])}; map or compute the missing "
            "columns (e.g. with `seglens features`) or pass the names you have",
        )


def numeric_matrix(df: pl.DataFrame, columns: Sequence[str]) -> np.ndarray[Any, np.dtype[Any]]:
    """The ``columns`` of ``df`` as a C-ordered float64 matrix (nulls become NaN)."""
    if not columns:
        return np.empty((df.height, 0), dtype=np.float64)
    sel = df.select([pl.col(c).cast(pl.Float64) for c in columns])
    return np.ascontiguousarray(sel.to_numpy(), dtype=np.float64)


def ids_of(df: pl.DataFrame, id_column: str) -> pl.Series | None:
    """The customer id column as strings, when ``df`` has it."""
    if id_column in df.columns:
        return df.get_column(id_column).cast(pl.String)
    return None
