"""Helpers for scikit-learn-compatible segmenters (anything with ``fit`` and ``predict``)."""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
from sklearn.base import clone
from sklearn.cluster import KMeans
from sklearn.exceptions import NotFittedError
from sklearn.utils.validation import check_is_fitted

from seglens.errors import DataError, UsageError

__all__ = ["as_matrix", "default_segmenter", "fit_labels", "is_fitted", "seeded_clone"]

FloatMatrix = npt.NDArray[np.float64]


def as_matrix(x: object, name: str = "X") -> FloatMatrix:
    """A finite 2-d float matrix from an ndarray, pandas or Polars DataFrame."""
    to_numpy = getattr(x, "to_numpy", None)
    arr = np.asarray(to_numpy() if callable(to_numpy) else x)
    if arr.ndim == 1:
        arr = arr.reshape(-1, 1)
    if arr.ndim != 2:
        raise DataError(f"{name} must be a 2-d feature matrix, got shape {arr.shape}")
    if arr.shape[0] == 0:
        raise DataError(f"{name} has no rows: there are no customers to segment")
    try:
        out = arr.astype(np.float64)
    except (TypeError, ValueError) as exc:
        raise DataError(
            f"{name} holds non-numeric values",
            hint="encode categorical features (e.g. one-hot) before measuring proxies",
        ) from exc
    bad = ~np.isfinite(out)
    if bad.any():
        rows = np.flatnonzero(bad.any(axis=1))
        raise DataError(
            f"{name} has {rows.size} row(s) with missing or infinite values",
            values=[int(r) for r in rows[:10]],
            hint="impute or drop those customers first (row positions are 0-based)",
        )
    return out


def default_segmenter(n_segments: int | None, random_state: int) -> Any:
    """``KMeans(n_segments, n_init=1)``: the reference segmenter when none is given."""
    if n_segments is None:
        raise UsageError(
            "no segmenter given and no n_segments: cannot build the default k-means",
            hint="pass segmenter=... (any scikit-learn clusterer) or n_segments=k",
        )
    return KMeans(n_clusters=n_segments, n_init=1, random_state=random_state)


def seeded_clone(segmenter: Any, seed: int) -> Any:
    """An unfitted copy (``sklearn.base.clone``) with ``random_state`` set when it has one."""
    est = clone(segmenter)
    if "random_state" in est.get_params(deep=False):
        est.set_params(random_state=seed)
    return est


def is_fitted(est: Any) -> bool:
    """Whether a scikit-learn estimator has been fitted."""
    try:
        check_is_fitted(est)
    except NotFittedError:
        return False
    return True


def fit_labels(est: Any, x: FloatMatrix) -> npt.NDArray[Any]:
    """Fit ``est`` on ``x`` and return its labels for ``x``."""
    if hasattr(est, "fit_predict"):
        return np.asarray(est.fit_predict(x))
    est.fit(x)
    labels = getattr(est, "labels_", None)
    return np.asarray(labels if labels is not None else est.predict(x))
