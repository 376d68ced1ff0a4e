"""Out-of-time validity: do segments hold in the period after the one they were built on?

Two checks.

*Segment hold* (:func:`out_of_time_validity`): segment customers on their behaviour up to a cut-off
with a fitted segmenter, re-segment them with the *same* fitted segmenter on the following period,
and report the share whose segment held (with Wilson CI), per segment, and the migration matrix.
Caveat: customers do change; a low hold rate can be real migration, not a wrong segmentation, and
a segmentation on slow-moving features holds even when it is wrong.

*Behavioural validity* (:func:`behavioural_validity`): each segment promises a behaviour (purchase
probability, spend) measured before the cut-off; does the ranking of segments by that behaviour
show up in the holdout period? Caveat: it checks that segments *differ as promised*, not that each
customer is in the right one.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
import numpy.typing as npt
import polars as pl
from scipy.stats import spearmanr

from seglens.accuracy._core import contingency
from seglens.accuracy._estimators import as_matrix, default_segmenter, is_fitted, seeded_clone
from seglens.accuracy._inputs import encode, to_numpy
from seglens.errors import DataError, UsageError
from seglens.stats import Estimate, proportion

__all__ = [
    "BehaviouralResult",
    "OutOfTimeResult",
    "behaviour_from_transactions",
    "behavioural_validity",
    "out_of_time_validity",
]


@dataclass(frozen=True)
class OutOfTimeResult:
    """Share of customers whose segment held from one period to the next."""

    held: Estimate
    per_segment: dict[str, Estimate]
    segments: tuple[str, ...]
    migration: npt.NDArray[np.int64]
    """Counts, rows = segment before the cut-off, columns = segment after."""

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON form."""
        return {
            "held_pct": self.held.value_pct,
            "ci_low_pct": self.held.ci_low_pct,
            "ci_high_pct": self.held.ci_high_pct,
            "n": self.held.n,
            "per_segment": {s: e.to_dict() for s, e in self.per_segment.items()},
            "migration": {"segments": list(self.segments), "matrix": self.migration.tolist()},
        }


def out_of_time_validity(
    x_before: object,
    x_after: object,
    segmenter: Any = None,
    *,
    n_segments: int | None = None,
    confidence: float = 0.95,
    random_state: int = 0,
) -> OutOfTimeResult:
    """Segment on the period before a cut-off, re-segment on the period after, count who held.

    Parameters
    ----------
    x_before, x_after
        Feature matrices of the same customers (same row order) for the two periods.
    segmenter
        A fitted scikit-learn segmenter with ``predict`` (used as is), or an unfitted one
        (a clone is fitted on ``x_before``). Default ``KMeans(n_segments)``.
    n_segments
        Segments for the default k-means.
    confidence
        Level of the intervals.
    random_state
        Seed when a segmenter has to be fitted.

    Examples
    --------
    >>> from seglens.synthetic import make_population
    >>> pop = make_population(500, n_segments=2, separation=8.0, seed=1)
    >>> res = out_of_time_validity(pop.features, pop.holdout_features, n_segments=2)
    >>> res.held.value_pct > 95, res.migration.shape
    (True, (2, 2))
    """
    xb, xa = as_matrix(x_before, "x_before"), as_matrix(x_after, "x_after")
    if xb.shape != xa.shape:
        raise DataError(
            f"x_before has shape {xb.shape} but x_after has {xa.shape}",
            hint="both periods must describe the same customers with the same features, in the "
            "same row order",
        )
    if segmenter is None:
        segmenter = default_segmenter(n_segments, random_state)
    if not hasattr(segmenter, "predict"):
        raise UsageError(
            f"{type(segmenter).__name__} cannot assign new data to segments (no predict)",
            hint="use a segmenter with predict, e.g. KMeans or GaussianMixture",
        )
    est = segmenter if is_fitted(segmenter) else seeded_clone(segmenter, random_state).fit(xb)
    before = np.asarray(est.predict(xb))
    after = np.asarray(est.predict(xa))
    both = encode(np.concatenate([before, after]), "segments")
    b, a = both.codes[: before.size], both.codes[before.size :]
    mig = contingency(b, both.k, a, both.k)
    names = tuple(str(v) for v in both.values)
    per = {
        s: proportion(int(mig[i, i]), int(mig[i].sum()), confidence) for i, s in enumerate(names)
    }
    return OutOfTimeResult(
        held=proportion(int(np.trace(mig)), int(b.size), confidence),
        per_segment=per,
        segments=names,
        migration=mig,
    )


@dataclass(frozen=True)
class BehaviouralResult:
    """Whether each segment's promised behaviour shows up after the cut-off.

    Attributes
    ----------
    per_metric
        For each behaviour (e.g. ``purchased``, ``spend``): per segment the expected value
        (before the cut-off), the observed value (after) and its n.
    rank_correlation
        Per behaviour, Spearman correlation across segments of expected vs observed.
    order_preserved_pct
        Per behaviour, the share of segment pairs whose order (by expected value) holds in the
        holdout period.
    validity_pct
        Mean of ``order_preserved_pct`` over behaviours: the headline figure.
    """

    per_metric: dict[str, dict[str, dict[str, float]]]
    rank_correlation: dict[str, float]
    order_preserved_pct: dict[str, float]
    validity_pct: float

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON form."""
        return {
            "per_metric": self.per_metric,
            "rank_correlation": self.rank_correlation,
            "order_preserved_pct": self.order_preserved_pct,
            "validity_pct": self.validity_pct,
        }


def _order_preserved(expected: npt.NDArray[np.float64], observed: npt.NDArray[np.float64]) -> float:
    i, j = np.triu_indices(expected.size, 1)
    de, do = np.sign(expected[i] - expected[j]), np.sign(observed[i] - observed[j])
    keep = de != 0
    if not keep.any():
        return 100.0
    return float(100.0 * np.mean(de[keep] == do[keep]))


def behavioural_validity(
    segments: object,
    before: Mapping[str, object],
    after: Mapping[str, object],
) -> BehaviouralResult:
    """Compare each segment's behaviour before the cut-off with the same customers' after it.

    Parameters
    ----------
    segments
        Segment per customer at the cut-off.
    before, after
        Behaviour per customer in each period, by name (same names, same customer order), e.g.
        ``{"purchased": bool array, "spend": float array}`` from
        :func:`behaviour_from_transactions`.

    Examples
    --------
    >>> seg = ["a", "a", "b", "b"]
    >>> res = behavioural_validity(seg, {"spend": [10, 12, 50, 60]}, {"spend": [11, 9, 40, 70]})
    >>> res.validity_pct, res.per_metric["spend"]["b"]["observed"]
    (100.0, 55.0)
    """
    seg = encode(segments, "segments")
    if set(before) != set(after) or not before:
        raise UsageError(
            "before and after must name the same behaviours (e.g. purchased, spend)",
            hint=f"got {sorted(before)} and {sorted(after)}",
        )
    counts = np.bincount(seg.codes, minlength=seg.k).astype(np.float64)
    names = [str(v) for v in seg.values]
    per_metric: dict[str, dict[str, dict[str, float]]] = {}
    corr: dict[str, float] = {}
    order: dict[str, float] = {}
    for metric in before:
        vals = []
        for period in (before, after):
            v = to_numpy(period[metric], metric).astype(np.float64)
            if v.size != seg.codes.size:
                raise DataError(f"{metric!r} has {v.size} values for {seg.codes.size} customers")
            vals.append(np.bincount(seg.codes, weights=v, minlength=seg.k) / counts)
        exp, obs = vals
        per_metric[metric] = {
            s: {"expected": float(e), "observed": float(o), "n": float(c)}
            for s, e, o, c in zip(names, exp, obs, counts, strict=True)
        }
        rho = spearmanr(exp, obs).statistic if seg.k > 2 and np.ptp(exp) and np.ptp(obs) else np.nan
        corr[metric] = float(rho)
        order[metric] = _order_preserved(exp, obs)
    return BehaviouralResult(per_metric, corr, order, float(np.mean(list(order.values()))))


def behaviour_from_transactions(
    transactions: pl.DataFrame,
    customer_ids: object,
    *,
    start: datetime,
    end: datetime,
) -> dict[str, npt.NDArray[np.float64]]:
    """Per customer, whether they bought and how much they spent in ``[start, end)``.

    ``transactions`` is the canonical TRANSACTIONS table; customers without orders in the window
    get ``purchased = 0`` and ``spend = 0``. Order follows ``customer_ids``.

    Examples
    --------
    >>> import polars as pl
    >>> from datetime import datetime
    >>> tx = pl.DataFrame({"customer_id": ["1", "1", "2"], "amount": [5.0, 7.0, 3.0],
    ...                    "timestamp": [datetime(2024, 1, 2), datetime(2024, 3, 1),
    ...                                  datetime(2023, 1, 1)]})
    >>> b = behaviour_from_transactions(tx, ["1", "2"], start=datetime(2024, 1, 1),
    ...                                 end=datetime(2025, 1, 1))
    >>> b["purchased"].tolist(), b["spend"].tolist()
    ([1.0, 0.0], [12.0, 0.0])
    """
    ids = pl.DataFrame({"customer_id": to_numpy(customer_ids, "customer_ids").astype(str)})
    window = (
        transactions.filter((pl.col("timestamp") >= start) & (pl.col("timestamp") < end))
        .group_by("customer_id")
        .agg(pl.col("amount").sum().alias("spend"))
    )
    out = ids.join(window, on="customer_id", how="left", maintain_order="left").fill_null(0.0)
    spend = out["spend"].to_numpy().astype(np.float64)
    purchased = (
        out.join(
            window.select("customer_id", pl.lit(1.0).alias("p")),
            on="customer_id",
            how="left",
            maintain_order="left",
        )["p"]
        .fill_null(0.0)
        .to_numpy()
    )
    return {"purchased": purchased.astype(np.float64), "spend": spend}
