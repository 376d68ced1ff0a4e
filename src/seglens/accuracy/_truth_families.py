"""Planted-truth populations whose truth is *not* k-means-shaped (for the proxy calibration).

Two generators beside :func:`seglens.synthetic.make_population` (Gaussian segments, the
k-means-shaped case, which with ``label_noise`` also gives the noisy-human-labels case):

* :func:`subspace_population` — the true segments live in a few behaviour dimensions; beside them
  sit strong, slow-moving clusters unrelated to the truth (region, household type ...);
* :func:`quantile_population` — the true segments are quantile bins of a continuous latent score
  (value tiers): no gaps between segments at all.

Both return a :class:`~seglens.synthetic.SyntheticPopulation`, so transactions and the following
period come for free; the first two columns are behaviour driven by the truth, so order rate and
spend follow the true segments.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from seglens.synthetic import SyntheticPopulation

__all__ = ["quantile_population", "subspace_population"]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

NUISANCE_PERIOD_NOISE = 0.1
"""Period-to-period change of the irrelevant dimensions (demographics barely move)."""


def _sizes(n: int, k: int, imbalance: float) -> IntArray:
    """Segment sizes, largest / smallest = imbalance, summing to n."""
    w = (imbalance ** (1.0 / (k - 1)) if k > 1 else 1.0) ** -np.arange(k, dtype=np.float64)
    sizes = np.floor(n * w / w.sum()).astype(np.int64)
    sizes[: n - int(sizes.sum())] += 1
    out: IntArray = sizes
    return out


def _centres(rng: np.random.Generator, k: int, d: int, separation: float) -> FloatArray:
    """``k`` random centres in ``d`` dims whose closest pair is ``separation`` apart."""
    pts = rng.normal(size=(k, d))
    if k == 1:
        return np.zeros((1, d))
    dist = np.sqrt(((pts[:, None, :] - pts[None, :, :]) ** 2).sum(axis=-1))
    out: FloatArray = (pts - pts.mean(axis=0)) * (separation / dist[np.triu_indices(k, 1)].min())
    return out


def _population(
    truth: IntArray, k: int, profile: FloatArray, period_noise: FloatArray, seed: int
) -> SyntheticPopulation:
    rng = np.random.default_rng([seed, 1])
    features = profile + period_noise * rng.normal(size=profile.shape)
    holdout = profile + period_noise * rng.normal(size=profile.shape)
    centres = np.vstack([profile[truth == s].mean(axis=0) for s in range(k)])
    ids = np.array([f"C{i + 1:06d}" for i in range(truth.size)], dtype=object)
    names = tuple(f"S{s + 1}" for s in range(k))
    return SyntheticPopulation(ids, truth, names, features, holdout, truth.copy(), centres, seed)


def subspace_population(
    n_customers: int,
    *,
    n_segments: int,
    n_features: int,
    separation: float,
    n_nuisance_features: int,
    n_nuisance_clusters: int,
    nuisance_separation: float,
    period_noise: float,
    imbalance: float,
    seed: int,
) -> SyntheticPopulation:
    """True Gaussian segments in ``n_features`` dims beside irrelevant clusters in others.

    Features are ``[true dims | nuisance dims]``; the nuisance clusters (equal sizes, closest
    centres ``nuisance_separation`` apart, spread 1) are drawn independently of the truth and move
    little between periods (:data:`NUISANCE_PERIOD_NOISE`).

    Examples
    --------
    >>> pop = subspace_population(300, n_segments=3, n_features=2, separation=3.0,
    ...     n_nuisance_features=2, n_nuisance_clusters=4, nuisance_separation=8.0,
    ...     period_noise=0.3, imbalance=1.0, seed=0)
    >>> pop.features.shape, np.bincount(pop.truth).tolist()
    ((300, 4), [100, 100, 100])
    """
    rng = np.random.default_rng(seed)
    truth = np.repeat(
        np.arange(n_segments, dtype=np.int64), _sizes(n_customers, n_segments, imbalance)
    )
    truth = truth[rng.permutation(n_customers)]
    true_part = _centres(rng, n_segments, n_features, separation)[truth]
    nuisance = rng.integers(0, n_nuisance_clusters, size=n_customers)
    nuis_part = _centres(rng, n_nuisance_clusters, n_nuisance_features, nuisance_separation)[
        nuisance
    ]
    profile = np.hstack([true_part, nuis_part]) + rng.normal(
        size=(n_customers, n_features + n_nuisance_features)
    )
    noise = np.concatenate(
        [np.full(n_features, period_noise), np.full(n_nuisance_features, NUISANCE_PERIOD_NOISE)]
    )
    return _population(truth, n_segments, profile, noise, seed)


def quantile_population(
    n_customers: int,
    *,
    n_segments: int,
    n_features: int,
    separation: float,
    period_noise: float,
    imbalance: float,
    seed: int,
) -> SyntheticPopulation:
    """True segments are bins of a standard-normal latent score; features load on the score.

    Profile ``z_i = separation * s_i * w + e_i`` (``w`` a unit vector with positive weight on
    the first two dims, ``e_i`` standard normal); segment sizes follow the same geometric
    progression as :func:`~seglens.synthetic.make_population`, the largest segment holding the
    lowest scores (many small customers, few large ones).

    Examples
    --------
    >>> pop = quantile_population(400, n_segments=4, n_features=3, separation=3.0,
    ...     period_noise=0.3, imbalance=1.0, seed=0)
    >>> np.bincount(pop.truth).tolist()
    [100, 100, 100, 100]
    """
    rng = np.random.default_rng(seed)
    score = rng.normal(size=n_customers)
    edges = np.cumsum(_sizes(n_customers, n_segments, imbalance))[:-1]
    truth = np.zeros(n_customers, dtype=np.int64)
    truth[np.argsort(score, kind="stable")] = np.searchsorted(
        edges, np.arange(n_customers), side="right"
    )
    w = np.abs(rng.normal(size=n_features)) + 0.5
    w[2:] *= rng.choice([-1.0, 1.0], size=n_features - 2)
    w /= np.linalg.norm(w)
    profile = separation * score[:, None] * w[None, :] + rng.normal(size=(n_customers, n_features))
    return _population(truth, n_segments, profile, np.full(n_features, period_noise), seed)
