"""Separation and reproducibility: how crisp are the segment boundaries?

*Separation* (:func:`separation`): the silhouette (-1..1; mean over customers of
``(b - a) / max(a, b)``, ``a`` = mean distance to the own segment, ``b`` = to the nearest other) on
a random sample whose size is stated, and the Davies–Bouldin index (>= 0, lower is better) on
all customers. Caveat: both reward round, equally sized, far-apart groups; real customer segments
are often none of these, and a high silhouette says nothing about whether the groups are the ones
the business means.

*Reproducibility* (:func:`reproducibility_score`): cross-validated accuracy of a classifier
predicting the segment from the features. Near 100 % means the segments are a crisp function of the
features. Caveat: any segmentation that *is* a function of the features (k-means, RFM rules) is
reproducible by construction; it measures crispness, not correctness.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
from sklearn.model_selection import StratifiedKFold, cross_val_predict
from sklearn.neighbors import KNeighborsClassifier

from seglens.accuracy._estimators import as_matrix, default_segmenter, fit_labels, seeded_clone
from seglens.accuracy._inputs import encode
from seglens.errors import DataError, UsageError
from seglens.stats import Estimate, proportion

__all__ = ["SeparationResult", "reproducibility_score", "separation", "silhouette_sample"]

_CHUNK = 512


@dataclass(frozen=True)
class SeparationResult:
    """Separation figures with the sample size they rest on."""

    silhouette: float
    silhouette_sample_size: int
    per_segment_silhouette: dict[str, float]
    davies_bouldin: float
    n: int

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON form."""
        return {
            "silhouette": self.silhouette,
            "silhouette_sample_size": self.silhouette_sample_size,
            "per_segment_silhouette": self.per_segment_silhouette,
            "davies_bouldin": self.davies_bouldin,
            "n": self.n,
        }


def silhouette_sample(
    x: npt.NDArray[np.float64], codes: npt.NDArray[np.int64], k: int
) -> npt.NDArray[np.float64]:
    """Silhouette of every row of ``x`` (exact, all pairs, chunked: memory ~ 40 MB per 10 k rows).

    Squared distances come from one matrix product of augmented rows ``[x, |x|^2, 1]`` and
    ``[-2x, 1, |y|^2]``, so each chunk costs one product, one square root and one product with
    the segment indicator matrix.
    """
    m = x.shape[0]
    onehot = np.zeros((m, k))
    onehot[np.arange(m), codes] = 1.0
    sizes = onehot.sum(axis=0)
    sq = np.einsum("ij,ij->i", x, x)
    left = np.hstack([x, sq[:, None], np.ones((m, 1))])
    right = np.ascontiguousarray(np.hstack([-2.0 * x, np.ones((m, 1)), sq[:, None]]).T)
    out = np.zeros(m)
    buf = np.empty((min(_CHUNK, m), m))
    for lo in range(0, m, _CHUNK):
        hi = min(lo + _CHUNK, m)
        d = buf[: hi - lo]
        np.matmul(left[lo:hi], right, out=d)
        np.maximum(d, 0.0, out=d)
        sums = np.sqrt(d, out=d) @ onehot
        own = codes[lo:hi]
        rows = np.arange(hi - lo)
        own_size = sizes[own]
        a = np.divide(sums[rows, own], own_size - 1, out=np.zeros(hi - lo), where=own_size > 1)
        means = sums / np.where(sizes > 0, sizes, np.inf)
        means[rows, own] = np.inf
        means[:, sizes == 0] = np.inf
        b = means.min(axis=1)
        s = np.divide(b - a, np.maximum(a, b), out=np.zeros(hi - lo), where=np.maximum(a, b) > 0)
        out[lo:hi] = np.where(own_size > 1, s, 0.0)
    return out


def _davies_bouldin(x: npt.NDArray[np.float64], codes: npt.NDArray[np.int64], k: int) -> float:
    counts = np.bincount(codes, minlength=k).astype(np.float64)
    centres = (
        np.stack(
            [np.bincount(codes, weights=x[:, j], minlength=k) for j in range(x.shape[1])], axis=1
        )
        / counts[:, None]
    )
    dist = np.sqrt(((x - centres[codes]) ** 2).sum(axis=1))
    spread = np.bincount(codes, weights=dist, minlength=k) / counts
    gap = np.sqrt(((centres[:, None, :] - centres[None, :, :]) ** 2).sum(axis=-1))
    if np.allclose(spread, 0) or np.allclose(gap, 0):
        return 0.0
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = (spread[:, None] + spread[None, :]) / gap
    ratio[~np.isfinite(ratio)] = np.inf
    np.fill_diagonal(ratio, -np.inf)
    return float(np.mean(ratio.max(axis=1)))


def separation(
    x: object, labels: object, *, sample_size: int = 10_000, random_state: int = 0
) -> SeparationResult:
    """Silhouette on a random sample (size stated) and Davies–Bouldin on every customer.

    Parameters
    ----------
    x
        Feature matrix, one row per customer.
    labels
        Segment per customer (at least 2 segments).
    sample_size
        Customers drawn (without replacement) for the silhouette, which costs ``O(sample_size^2)``;
        all customers when there are fewer.
    random_state
        Seed for the sample.

    Examples
    --------
    >>> x = [[0.0], [0.1], [5.0], [5.1]]
    >>> res = separation(x, ["a", "a", "b", "b"])
    >>> round(res.silhouette, 3), res.silhouette_sample_size, round(res.davies_bouldin, 3)
    (0.98, 4, 0.02)
    """
    xm = as_matrix(x)
    seg = encode(labels, "labels")
    n = xm.shape[0]
    if seg.codes.size != n:
        raise DataError(f"labels has {seg.codes.size} entries but x has {n} rows")
    if not 2 <= seg.k < n:
        raise DataError(
            f"separation needs between 2 and n-1 segments, got {seg.k} for {n} customers"
        )
    if sample_size < 2:
        raise UsageError(f"sample_size must be at least 2, got {sample_size}")
    rng = np.random.default_rng(random_state)
    pick = np.sort(rng.choice(n, size=sample_size, replace=False)) if n > sample_size else None
    xs, cs = (xm, seg.codes) if pick is None else (xm[pick], seg.codes[pick])
    sil = silhouette_sample(xs, cs, seg.k)
    per = np.bincount(cs, weights=sil, minlength=seg.k) / np.maximum(
        np.bincount(cs, minlength=seg.k), 1
    )
    return SeparationResult(
        silhouette=float(sil.mean()),
        silhouette_sample_size=int(cs.size),
        per_segment_silhouette={str(v): float(p) for v, p in zip(seg.values, per, strict=True)},
        davies_bouldin=_davies_bouldin(xm, seg.codes, seg.k),
        n=n,
    )


def reproducibility_score(
    x: object,
    labels: object = None,
    *,
    segmenter: Any = None,
    n_segments: int | None = None,
    classifier: Any = None,
    cv: int = 5,
    confidence: float = 0.95,
    random_state: int = 0,
) -> Estimate:
    """Cross-validated accuracy (%) of a classifier predicting the segment from the features.

    Parameters
    ----------
    x
        Feature matrix.
    labels
        Segment per customer; default: ``segmenter`` (or ``KMeans(n_segments)``) fitted on ``x``.
    segmenter, n_segments
        Used only when ``labels`` is not given.
    classifier
        Any scikit-learn classifier; default ``KNeighborsClassifier(15)`` on the features as
        given (the same geometry the segmenter saw), so the figure is the share of customers
        whose neighbourhood agrees with their segment.
    cv
        Stratified folds.
    confidence
        Level of the Wilson interval over the ``n`` out-of-fold predictions.
    random_state
        Seed for the folds.

    Examples
    --------
    >>> from seglens.synthetic import make_population
    >>> pop = make_population(400, n_segments=2, separation=8.0, seed=3)
    >>> reproducibility_score(pop.features, pop.truth).value_pct > 95
    True
    """
    xm = as_matrix(x)
    if labels is None:
        if segmenter is None:
            segmenter = default_segmenter(n_segments, random_state)
        labels = fit_labels(seeded_clone(segmenter, random_state), xm)
    seg = encode(labels, "labels")
    if seg.codes.size != xm.shape[0]:
        raise DataError(f"labels has {seg.codes.size} entries but x has {xm.shape[0]} rows")
    smallest = int(np.bincount(seg.codes).min())
    folds = min(cv, smallest)
    if folds < 2 or seg.k < 2:
        raise DataError(
            "reproducibility needs at least 2 segments with at least 2 customers each",
            hint=f"the smallest segment has {smallest} customer(s)",
        )
    clf = classifier if classifier is not None else KNeighborsClassifier(n_neighbors=15)
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=random_state)
    pred = cross_val_predict(clf, xm, seg.codes, cv=splitter)
    return proportion(int(np.sum(pred == seg.codes)), int(seg.codes.size), confidence)
