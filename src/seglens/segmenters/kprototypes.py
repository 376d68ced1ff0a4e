"""k-prototypes (Huang 1998): k-means on numeric columns + k-modes on categorical ones.

Distance = squared Euclidean on the scaled numeric block + ``gamma`` × number of mismatching
categories. Plain NumPy, vectorised over customers; deterministic for a given seed.
"""

# ruff: noqa: N803  (X / Z for data matrices, the scikit-learn convention)

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["KPrototypesResult", "kprototypes", "mixed_distances"]

FloatArray = np.ndarray[Any, np.dtype[np.float64]]
IntArray = np.ndarray[Any, np.dtype[Any]]


@dataclass
class KPrototypesResult:
    """Centres (numeric means and category modes), labels and total cost of one run."""

    means: FloatArray
    modes: IntArray
    labels: IntArray
    cost: float
    n_iter: int


def mixed_distances(
    Z: FloatArray, codes: IntArray, means: FloatArray, modes: IntArray, gamma: float
) -> FloatArray:
    """Dissimilarity of every row to every centre (n × k)."""
    d0 = (means * means).sum(1)[None, :] - 2.0 * (Z @ means.T) + (Z * Z).sum(1)[:, None]
    d: FloatArray = np.maximum(d0, 0.0)
    for j in range(codes.shape[1]):
        d += gamma * (codes[:, j, None] != modes[None, :, j])
    return d


def _init(
    Z: FloatArray, codes: IntArray, k: int, gamma: float, rng: np.random.Generator
) -> tuple[FloatArray, IntArray]:
    """k-means++ seeding on the mixed dissimilarity."""
    n = Z.shape[0]
    idx = [int(rng.integers(n))]
    dmin = mixed_distances(Z, codes, Z[idx], codes[idx], gamma)[:, 0]
    for _ in range(1, k):
        total = dmin.sum()
        nxt = int(rng.choice(n, p=dmin / total)) if total > 0 else int(rng.integers(n))
        idx.append(nxt)
        dmin = np.minimum(dmin, mixed_distances(Z, codes, Z[[nxt]], codes[[nxt]], gamma)[:, 0])
    return Z[idx].copy(), codes[idx].copy()


def _update(
    Z: FloatArray, codes: IntArray, labels: IntArray, k: int, means: FloatArray, modes: IntArray
) -> None:
    counts = np.bincount(labels, minlength=k)
    for j in range(Z.shape[1]):
        s = np.bincount(labels, weights=Z[:, j], minlength=k)
        means[:, j] = np.where(counts > 0, s / np.maximum(counts, 1), means[:, j])
    for j in range(codes.shape[1]):
        col = codes[:, j].astype(np.int64) + 1  # -1 (rare/unseen) becomes 0
        width = int(col.max()) + 1
        table = np.bincount(labels * width + col, minlength=k * width).reshape(k, width)
        modes[:, j] = np.where(counts > 0, table.argmax(1) - 1, modes[:, j])


def kprototypes(
    Z: FloatArray,
    codes: IntArray,
    k: int,
    *,
    gamma: float = 0.5,
    n_init: int = 3,
    max_iter: int = 50,
    random_state: int | np.random.Generator | None = None,
) -> KPrototypesResult:
    """Cluster mixed data; the best of ``n_init`` seeded runs (lowest cost).

    Examples
    --------
    >>> import numpy as np
    >>> Z = np.array([[0.0], [0.1], [5.0], [5.1]])
    >>> codes = np.array([[0], [0], [1], [1]])
    >>> r = kprototypes(Z, codes, 2, random_state=0)
    >>> bool(r.labels[0] == r.labels[1] != r.labels[2] == r.labels[3])
    True
    """
    rng = np.random.default_rng(random_state)
    best: KPrototypesResult | None = None
    for _ in range(max(1, n_init)):
        means, modes = _init(Z, codes, k, gamma, rng)
        labels = np.full(Z.shape[0], -1, dtype=np.int64)
        it = 0
        for it in range(1, max_iter + 1):  # noqa: B007
            d = mixed_distances(Z, codes, means, modes, gamma)
            new = d.argmin(1)
            if np.array_equal(new, labels):
                break
            labels = new
            _update(Z, codes, labels, k, means, modes)
            empty = np.flatnonzero(np.bincount(labels, minlength=k) == 0)
            if empty.size:  # re-seed empty clusters with the worst-fitted rows
                far = np.argsort(-d[np.arange(len(labels)), labels])[: empty.size]
                means[empty], modes[empty] = Z[far], codes[far]
                labels[far] = empty
        d = mixed_distances(Z, codes, means, modes, gamma)
        labels = d.argmin(1)
        cost = float(d[np.arange(len(labels)), labels].sum())
        if best is None or cost < best.cost:
            best = KPrototypesResult(means.copy(), modes.copy(), labels, cost, it)
    assert best is not None
    return best
