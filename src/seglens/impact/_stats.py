"""Interval estimates used by every per-segment figure (Wilson, Newcombe, Welch, bootstrap)."""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy.special import ndtri, stdtrit

from seglens.impact._mle import FloatArray

__all__ = [
    "Estimate",
    "bootstrap",
    "newcombe_diff",
    "segment_mean_table",
    "welch_diff",
    "wilson",
]


@dataclass(frozen=True)
class Estimate:
    """A figure with its uncertainty range: ``value`` in ``[low, high]`` at ``level``, from ``n``.

    Examples
    --------
    >>> wilson(15, 100)  # doctest: +ELLIPSIS
    Estimate(value=0.15, low=0.0930..., high=0.2328..., n=100, method='wilson', level=0.95)
    """

    value: float
    low: float
    high: float
    n: int
    method: str
    level: float = 0.95

    def as_dict(self, prefix: str = "") -> dict[str, float | int]:
        """``{prefix}value``/``_low``/``_high`` entries for a table row (value keyed by prefix)."""
        key = prefix or "value"
        return {key: self.value, f"{key}_low": self.low, f"{key}_high": self.high}


def _z(level: float) -> float:
    return float(ndtri(0.5 + level / 2))


def wilson(k: int, n: int, level: float = 0.95) -> Estimate:
    """Wilson score interval for a proportion ``k / n`` (NaN when ``n == 0``)."""
    if n == 0:
        return Estimate(math.nan, math.nan, math.nan, 0, "wilson", level)
    z = _z(level)
    p = k / n
    den = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / den
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / den
    low = 0.0 if k == 0 else min(p, max(0.0, centre - half))
    high = 1.0 if k == n else max(p, min(1.0, centre + half))
    return Estimate(p, low, high, n, "wilson", level)


def newcombe_diff(k1: int, n1: int, k0: int, n0: int, level: float = 0.95) -> Estimate:
    """Difference of two proportions ``k1/n1 - k0/n0`` with Newcombe's hybrid score interval."""
    if n1 == 0 or n0 == 0:
        return Estimate(math.nan, math.nan, math.nan, n1 + n0, "newcombe", level)
    a, b = wilson(k1, n1, level), wilson(k0, n0, level)
    d = a.value - b.value
    low = d - math.sqrt((a.value - a.low) ** 2 + (b.high - b.value) ** 2)
    high = d + math.sqrt((a.high - a.value) ** 2 + (b.value - b.low) ** 2)
    return Estimate(d, low, high, n1 + n0, "newcombe", level)


def welch_diff(x1: FloatArray, x0: FloatArray, level: float = 0.95) -> Estimate:
    """Difference of means ``mean(x1) - mean(x0)`` with a Welch t interval."""
    n1, n0 = x1.size, x0.size
    if n1 < 2 or n0 < 2:
        return Estimate(math.nan, math.nan, math.nan, n1 + n0, "welch", level)
    m1, m0 = float(np.mean(x1)), float(np.mean(x0))
    v1, v0 = float(np.var(x1, ddof=1)) / n1, float(np.var(x0, ddof=1)) / n0
    se = math.sqrt(v1 + v0)
    d = m1 - m0
    if se == 0:
        return Estimate(d, d, d, n1 + n0, "welch", level)
    dof = (v1 + v0) ** 2 / ((v1**2 / (n1 - 1)) + (v0**2 / (n0 - 1)))
    t = float(stdtrit(dof, 0.5 + level / 2))
    return Estimate(d, d - t * se, d + t * se, n1 + n0, "welch", level)


def bootstrap(
    statistic: Callable[[FloatArray], FloatArray],
    n: int,
    *,
    n_resamples: int = 1000,
    level: float = 0.95,
    seed: int = 0,
    chunk: int = 100,
) -> tuple[FloatArray, FloatArray]:
    """Percentile interval of ``statistic(weights)`` over Poisson(1) bootstrap weights.

    ``statistic`` receives a ``(reps, n)`` weight matrix and returns ``(reps, k)`` values; the
    result is the ``(k,)`` lower and upper bounds. Poisson weights approximate resampling with
    replacement and vectorise well.
    """
    rng = np.random.default_rng(seed)
    parts = []
    done = 0
    while done < n_resamples:
        reps = min(chunk, n_resamples - done)
        w = rng.poisson(1.0, size=(reps, n)).astype(np.float64)
        parts.append(np.atleast_2d(statistic(w)))
        done += reps
    values = np.vstack(parts)
    alpha = (1 - level) / 2
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN columns give NaN bounds
        low = np.nanquantile(values, alpha, axis=0)
        high = np.nanquantile(values, 1 - alpha, axis=0)
    return np.asarray(low, dtype=np.float64), np.asarray(high, dtype=np.float64)


def segment_mean_table(
    segments: npt.NDArray[np.str_],
    values: dict[str, FloatArray],
    *,
    n_resamples: int = 1000,
    level: float = 0.95,
    seed: int = 0,
) -> list[dict[str, object]]:
    """Per segment (and ``(all)``): n, and each value's mean and total with bootstrap intervals."""
    names = ["(all)", *sorted(set(segments.tolist()))]
    onehot = np.column_stack(
        [np.ones(segments.size)] + [(segments == s).astype(np.float64) for s in names[1:]]
    )
    rows: list[dict[str, object]] = [
        {"segment": s, "customers": int(onehot[:, i].sum())} for i, s in enumerate(names)
    ]
    for key, v in values.items():

        def stat(w: FloatArray, v: FloatArray = v) -> FloatArray:
            tot = (w * v) @ onehot
            cnt = w @ onehot
            with np.errstate(invalid="ignore", divide="ignore"):
                return np.hstack([tot / cnt, tot])

        point = stat(np.ones((1, v.size)))[0]
        lo, hi = bootstrap(stat, v.size, n_resamples=n_resamples, level=level, seed=seed)
        k = len(names)
        for i, row in enumerate(rows):
            row[f"{key}_mean"] = float(point[i])
            row[f"{key}_mean_low"] = float(lo[i])
            row[f"{key}_mean_high"] = float(hi[i])
            row[f"{key}_total"] = float(point[k + i])
            row[f"{key}_total_low"] = float(lo[k + i])
            row[f"{key}_total_high"] = float(hi[k + i])
    return rows
