"""Synthetic customer populations with *planted* true segments.

Real labels are noisy and rare; a population whose true segment is known lets seglens check its
own accuracy figures (and calibrate the label-free proxies, see ``docs/accuracy.md``).

The model
---------
Segment ``s`` has a centre ``mu_s`` in a ``n_features``-dimensional behaviour space; the centres are
placed at random and scaled so that the closest two are ``separation`` apart. Customer ``i`` of
segment ``s`` has a persistent profile ``z_i = mu_s + noise * e_i`` (``e_i`` standard normal). What
we observe in a period is ``x_i = z_i + period_noise * u_i`` with fresh ``u_i`` each period, so
:attr:`SyntheticPopulation.features` (the reference period) and
:attr:`SyntheticPopulation.holdout_features` (the following period) differ the way two quarters of
one customer's behaviour do. Segment sizes follow a geometric progression whose largest / smallest
ratio is ``imbalance``.

Raw transactions (the TRANSACTIONS table of :mod:`seglens.tables`) follow from the profile: the
first two behaviour dimensions drive the order rate and the order value (log-linear), so segments
differ in frequency and spend the way RFM segments do.

Knobs: ``separation`` (distance between closest centres, in units of the within-segment spread; 4
is crisp, 1 is blurred), ``noise`` (within-segment spread), ``period_noise`` (period-to-period
wobble), ``n_segments``, ``imbalance``, ``label_noise`` (share of customers whose *observed*
label is wrong, to mimic human labels), ``seed``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np
import numpy.typing as npt
import polars as pl

from seglens.errors import UsageError
from seglens.tables import TRANSACTIONS

__all__ = ["SyntheticPopulation", "make_population"]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True)
class SyntheticPopulation:
    """A generated population and the truth planted in it.

    Attributes
    ----------
    customer_id
        Customer ids ``"C000001"`` ... (strings, as in every canonical table).
    truth
        True segment code per customer (``0 .. n_segments-1``).
    segment_names
        Name of each segment code (``"S1"`` ...).
    features
        ``n_customers x n_features`` behaviour in the reference period.
    holdout_features
        The same customers' behaviour in the following period.
    observed_labels
        Truth with ``label_noise`` of it replaced by a wrong segment (what a sales team would say).
    centres
        Segment centres, ``n_segments x n_features``.
    seed
        The seed everything was drawn from.
    """

    customer_id: npt.NDArray[np.object_]
    truth: IntArray
    segment_names: tuple[str, ...]
    features: FloatArray
    holdout_features: FloatArray
    observed_labels: IntArray
    centres: FloatArray
    seed: int

    @property
    def n_customers(self) -> int:
        """Number of customers."""
        return int(self.truth.size)

    def true_segments(self) -> npt.NDArray[np.object_]:
        """Planted segment name per customer."""
        return np.asarray(self.segment_names, dtype=object)[self.truth]

    def customers(self) -> pl.DataFrame:
        """CUSTOMERS-shaped table: ``customer_id``, ``true_segment`` and ``f1..fd`` features."""
        cols = {f"f{j + 1}": self.features[:, j] for j in range(self.features.shape[1])}
        return pl.DataFrame(
            {"customer_id": self.customer_id, "true_segment": self.true_segments(), **cols},
            schema_overrides={"customer_id": pl.String, "true_segment": pl.String},
        )

    def labels(self, *, observed: bool = True, source: str = "synthetic") -> pl.DataFrame:
        """LABELS-shaped table (``customer_id``, ``segment``, ``source``) of every customer."""
        codes = self.observed_labels if observed else self.truth
        return pl.DataFrame(
            {
                "customer_id": self.customer_id,
                "segment": np.asarray(self.segment_names, dtype=object)[codes],
                "source": [source] * self.n_customers,
            },
            schema={"customer_id": pl.String, "segment": pl.String, "source": pl.String},
        )

    def transactions(
        self,
        *,
        start: datetime = datetime(2024, 1, 1),
        days: int = 365,
        base_orders: float = 4.0,
        base_value: float = 40.0,
        holdout: bool = False,
    ) -> pl.DataFrame:
        """Raw order lines in the canonical TRANSACTIONS shape.

        Expected orders per customer over ``days`` are ``base_orders * exp(0.5 * x1)`` and the
        mean order value is ``base_value * exp(0.4 * x2)`` (``x`` = the period's behaviour), so
        segments differ in frequency and spend. ``holdout=True`` draws the following period
        (starting at ``start + days``) from :attr:`holdout_features`.

        Examples
        --------
        >>> pop = make_population(50, n_segments=2, seed=1)
        >>> tx = pop.transactions()
        >>> tx.columns[:4]
        ['customer_id', 'order_id', 'timestamp', 'amount']
        >>> bool((tx["amount"] > 0).all())
        True
        """
        x = self.holdout_features if holdout else self.features
        offset = 1 if holdout else 0
        rng = np.random.default_rng([self.seed, 7, offset])
        x1 = x[:, 0]
        x2 = x[:, 1] if x.shape[1] > 1 else np.zeros_like(x1)
        rate = base_orders * np.exp(0.5 * np.clip(x1, -6, 6))
        counts = rng.poisson(rate)
        idx = np.repeat(np.arange(self.n_customers), counts)
        n = idx.size
        begin = start + timedelta(days=days * offset)
        seconds = rng.integers(0, days * 86_400, size=n)
        mean_value = base_value * np.exp(0.4 * np.clip(x2[idx], -6, 6))
        amount = np.round(mean_value * rng.lognormal(-0.02, 0.2, size=n), 2)
        ts = np.datetime64(begin, "us") + seconds.astype("timedelta64[s]").astype("timedelta64[us]")
        order_ids = [f"O{offset}{i:08d}" for i in range(n)]
        return pl.DataFrame(
            {
                "customer_id": self.customer_id[idx],
                "order_id": order_ids,
                "timestamp": ts,
                "amount": amount,
                "quantity": np.ones(n),
                "is_return": np.zeros(n, dtype=bool),
            },
            schema={
                name: dtype
                for name, dtype in TRANSACTIONS.schema().items()
                if name
                in ("customer_id", "order_id", "timestamp", "amount", "quantity", "is_return")
            },
        ).sort("timestamp")


def _sizes(n: int, k: int, imbalance: float) -> IntArray:
    """Segment sizes, largest / smallest = imbalance, summing to n (largest remainder)."""
    ratio = imbalance ** (1.0 / (k - 1)) if k > 1 else 1.0
    w = ratio ** -np.arange(k, dtype=np.float64)
    raw = n * w / w.sum()
    sizes = np.floor(raw).astype(np.int64)
    short = n - int(sizes.sum())
    sizes[np.argsort(-(raw - sizes), kind="stable")[:short]] += 1
    out: IntArray = sizes
    return out


def _centres(rng: np.random.Generator, k: int, d: int, separation: float) -> FloatArray:
    """``k`` random centres in ``d`` dims whose closest pair is exactly ``separation`` apart."""
    pts = rng.normal(size=(k, d))
    if k == 1:
        return np.zeros((1, d))
    diff = pts[:, None, :] - pts[None, :, :]
    dist = np.sqrt((diff**2).sum(axis=-1))
    closest = dist[np.triu_indices(k, 1)].min()
    out: FloatArray = (pts - pts.mean(axis=0)) * (separation / closest)
    return out


def make_population(
    n_customers: int = 10_000,
    *,
    n_segments: int = 4,
    n_features: int = 4,
    separation: float = 3.0,
    noise: float = 1.0,
    period_noise: float = 0.3,
    imbalance: float = 1.0,
    label_noise: float = 0.0,
    seed: int = 0,
) -> SyntheticPopulation:
    """Generate customers with planted true segments.

    Parameters
    ----------
    n_customers
        Number of customers.
    n_segments
        Number of true segments (>= 1).
    n_features
        Behaviour dimensions (>= 2 so transactions can use frequency and spend).
    separation
        Distance between the two closest segment centres, in units of ``noise = 1``.
    noise
        Within-segment spread of the persistent profile.
    period_noise
        Spread of the period-to-period change (reference vs holdout).
    imbalance
        Largest segment size / smallest (1 = equal sizes).
    label_noise
        Share of customers whose observed label is a wrong segment.
    seed
        Random seed; the same arguments give the same population.

    Examples
    --------
    >>> pop = make_population(1000, n_segments=3, imbalance=4.0, seed=0)
    >>> np.bincount(pop.truth).tolist()
    [571, 286, 143]
    >>> pop.features.shape
    (1000, 4)
    """
    if n_customers < 1 or n_segments < 1 or n_customers < n_segments:
        raise UsageError(
            f"need at least one customer per segment (got {n_customers} customers, "
            f"{n_segments} segments)"
        )
    if n_features < 2:
        raise UsageError(f"n_features must be at least 2, got {n_features}")
    if imbalance < 1.0 or not math.isfinite(imbalance):
        raise UsageError(f"imbalance is largest/smallest size and must be >= 1, got {imbalance}")
    if not 0.0 <= label_noise <= 1.0:
        raise UsageError(f"label_noise is a share in 0-1, got {label_noise}")
    if separation < 0 or noise < 0 or period_noise < 0:
        raise UsageError("separation, noise and period_noise must be non-negative")
    rng = np.random.default_rng(seed)
    centres = _centres(rng, n_segments, n_features, separation)
    truth = np.repeat(
        np.arange(n_segments, dtype=np.int64), _sizes(n_customers, n_segments, imbalance)
    )
    truth = truth[rng.permutation(n_customers)]
    profile = centres[truth] + noise * rng.normal(size=(n_customers, n_features))
    features = profile + period_noise * rng.normal(size=profile.shape)
    holdout = profile + period_noise * rng.normal(size=profile.shape)
    observed = truth.copy()
    flip = rng.random(n_customers) < label_noise
    if n_segments > 1 and flip.any():
        shift = rng.integers(1, n_segments, size=int(flip.sum()))
        observed[flip] = (truth[flip] + shift) % n_segments
    ids = np.array([f"C{i + 1:06d}" for i in range(n_customers)], dtype=object)
    names = tuple(f"S{s + 1}" for s in range(n_segments))
    return SyntheticPopulation(ids, truth, names, features, holdout, observed, centres, seed)
