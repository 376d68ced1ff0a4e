"""Bootstrap stability: does the segmentation come back when the customers are resampled?

Hennig's *clusterboot*: draw customers with replacement, re-fit the segmenter on the resample, and
for each original segment find the most similar new segment among the resampled customers (Jaccard
= shared / either). Averaged over resamples, a segment with Jaccard < 0.5 "dissolves", >= 0.75 is
stable, >= 0.85 highly stable. The overall bootstrap ARI compares the two partitions of the
resampled customers.

Caveat: stability is not accuracy. A segmenter can reproduce the *same wrong* boundaries every time
(e.g. k-means splitting one elongated true segment), and well-separated but mislabelled segments are
perfectly stable. See the calibration table in ``docs/accuracy.md``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
from sklearn.utils.validation import has_fit_parameter

from seglens.accuracy._core import contingency
from seglens.accuracy._estimators import (
    as_matrix,
    default_segmenter,
    fit_labels,
    seeded_clone,
)
from seglens.accuracy._inputs import encode
from seglens.accuracy.metrics import ari_from
from seglens.errors import UsageError

__all__ = ["StabilityResult", "bootstrap_stability"]


@dataclass(frozen=True)
class StabilityResult:
    """Bootstrap stability of a segmentation.

    Attributes
    ----------
    jaccard
        Mean bootstrap Jaccard per segment (0-1).
    dissolved_share
        Per segment, the share of resamples in which its Jaccard fell below 0.5.
    mean_jaccard
        Mean of the per-segment values (unweighted).
    ari
        Mean bootstrap ARI.
    ari_low, ari_high
        2.5 % and 97.5 % quantiles of the bootstrap ARI.
    n
        Customers.
    n_resamples
        Bootstrap resamples drawn.
    """

    jaccard: dict[str, float]
    dissolved_share: dict[str, float]
    mean_jaccard: float
    ari: float
    ari_low: float
    ari_high: float
    n: int
    n_resamples: int

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON form."""
        return {
            "jaccard": self.jaccard,
            "dissolved_share": self.dissolved_share,
            "mean_jaccard": self.mean_jaccard,
            "ari": self.ari,
            "ari_low": self.ari_low,
            "ari_high": self.ari_high,
            "n": self.n,
            "n_resamples": self.n_resamples,
        }


def _labels_on_unique(
    est: Any,
    x: npt.NDArray[np.float64],
    idx: npt.NDArray[np.int64],
    counts: npt.NDArray[np.int64],
    uniq: npt.NDArray[np.int64],
) -> npt.NDArray[Any]:
    """Fit on the resample; labels of its distinct customers.

    A segmenter whose ``fit`` takes ``sample_weight`` (k-means) is fitted on the distinct customers
    weighted by how often they were drawn — the same objective as the duplicated resample, on
    about 63 % of the rows. Others are fitted on the duplicated resample.
    """
    if hasattr(est, "predict") and has_fit_parameter(est, "sample_weight"):
        est.fit(x[uniq], sample_weight=counts[uniq].astype(np.float64))
        return np.asarray(est.predict(x[uniq]))
    if hasattr(est, "predict"):
        est.fit(x[idx])
        return np.asarray(est.predict(x[uniq]))
    labels = fit_labels(est, x[idx])
    first = np.full(x.shape[0], -1, dtype=np.int64)
    first[idx[::-1]] = np.arange(idx.size - 1, -1, -1)
    return labels[first[uniq]]


def bootstrap_stability(
    x: object,
    segmenter: Any = None,
    *,
    labels: object = None,
    n_segments: int | None = None,
    n_resamples: int = 20,
    random_state: int = 0,
) -> StabilityResult:
    """Per-segment bootstrap Jaccard and overall bootstrap ARI (refit on each resample).

    Parameters
    ----------
    x
        Feature matrix, one row per customer (ndarray, pandas or Polars DataFrame).
    segmenter
        Any scikit-learn clusterer (``fit`` + ``predict`` or ``fit_predict``); cloned, never
        modified. Default ``KMeans(n_segments, n_init=1)``.
    labels
        The segmentation being judged; default: ``segmenter`` fitted on all of ``x``.
    n_segments
        Number of segments for the default k-means.
    n_resamples
        Bootstrap resamples (Hennig uses 100; 20 gives the mean Jaccard to about +-0.02).
    random_state
        Seed for resampling and for each refit.

    Examples
    --------
    >>> from seglens.synthetic import make_population
    >>> pop = make_population(600, n_segments=3, separation=6.0, seed=2)
    >>> res = bootstrap_stability(pop.features, n_segments=3, n_resamples=5)
    >>> res.mean_jaccard > 0.9, res.n_resamples
    (True, 5)
    """
    if n_resamples < 1:
        raise UsageError(f"n_resamples must be at least 1, got {n_resamples}")
    xm = as_matrix(x)
    n = xm.shape[0]
    if segmenter is None:
        segmenter = default_segmenter(n_segments, random_state)
    if labels is None:
        labels = fit_labels(seeded_clone(segmenter, random_state), xm)
    ref = encode(labels, "labels")
    if ref.codes.size != n:
        raise UsageError(f"labels has {ref.codes.size} entries but x has {n} rows")
    rng = np.random.default_rng(random_state)
    jac = np.zeros((n_resamples, ref.k))
    aris = np.zeros(n_resamples)
    for b in range(n_resamples):
        idx = np.asarray(rng.integers(0, n, size=n), dtype=np.int64)
        counts = np.bincount(idx, minlength=n)
        uniq = np.flatnonzero(counts)
        est = seeded_clone(segmenter, int(rng.integers(2**31 - 1)))
        new = encode(_labels_on_unique(est, xm, idx, counts, uniq), "bootstrap labels")
        c = contingency(ref.codes[uniq], ref.k, new.codes, new.k).astype(np.float64)
        union = c.sum(axis=1)[:, None] + c.sum(axis=0)[None, :] - c
        ratio = np.divide(c, union, out=np.zeros_like(c), where=union > 0)
        jac[b] = ratio.max(axis=1)
        aris[b] = ari_from(c.astype(np.int64))
    names = [str(v) for v in ref.values]
    per = jac.mean(axis=0)
    return StabilityResult(
        jaccard={s: float(v) for s, v in zip(names, per, strict=True)},
        dissolved_share={s: float(v) for s, v in zip(names, (jac < 0.5).mean(axis=0), strict=True)},
        mean_jaccard=float(per.mean()),
        ari=float(aris.mean()),
        ari_low=float(np.quantile(aris, 0.025)),
        ari_high=float(np.quantile(aris, 0.975)),
        n=n,
        n_resamples=n_resamples,
    )
