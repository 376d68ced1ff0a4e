"""Shared numerics: the contingency table (via ``np.bincount``) and the Wilson interval."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy.special import ndtri

from seglens.errors import UsageError

__all__ = ["Estimate", "contingency", "wilson_interval", "z_value"]


@dataclass(frozen=True)
class Estimate:
    """A percentage with its sample size and confidence interval.

    Attributes
    ----------
    value_pct
        Point estimate, in percent (0-100).
    n
        Number of customers (or segments) it rests on.
    ci_low_pct, ci_high_pct
        Bounds of the confidence interval, in percent.
    confidence
        Confidence level of the interval (e.g. 0.95).
    method
        How the interval was computed (``"wilson"``, ``"stratified-wilson"``, ...).
    """

    value_pct: float
    n: int
    ci_low_pct: float
    ci_high_pct: float
    confidence: float = 0.95
    method: str = "wilson"

    def to_dict(self) -> dict[str, float | int | str]:
        """Plain-JSON form with the documented keys."""
        return {
            "value_pct": self.value_pct,
            "n": self.n,
            "ci_low_pct": self.ci_low_pct,
            "ci_high_pct": self.ci_high_pct,
            "confidence": self.confidence,
            "method": self.method,
        }

    def __str__(self) -> str:
        pct = round(self.confidence * 100)
        return (
            f"{self.value_pct:.1f} % (n={self.n:,}, {pct} % CI "
            f"{self.ci_low_pct:.1f}–{self.ci_high_pct:.1f})"
        )


def z_value(confidence: float) -> float:
    """Two-sided normal quantile for a confidence level in (0, 1)."""
    if not 0.0 < confidence < 1.0:
        raise UsageError(
            f"confidence must be between 0 and 1 (exclusive), got {confidence}",
            hint="use e.g. 0.95 for a 95 % interval",
        )
    return float(ndtri(0.5 + confidence / 2.0))


def wilson_interval(successes: float, n: float, confidence: float = 0.95) -> tuple[float, float]:
    """Wilson score interval for a proportion, as fractions in [0, 1].

    Identical to ``scipy.stats.binomtest(k, n).proportion_ci(method="wilson")`` but closed form, so
    it costs nothing inside loops. ``n`` may be an effective (non-integer) sample size.

    Examples
    --------
    >>> lo, hi = wilson_interval(90, 100)
    >>> round(lo, 4), round(hi, 4)
    (0.8256, 0.9448)
    """
    if n <= 0:
        return (0.0, 1.0)
    z = z_value(confidence)
    p = successes / n
    z2 = z * z
    denom = 1.0 + z2 / n
    centre = (p + z2 / (2.0 * n)) / denom
    half = z * math.sqrt(max(p * (1.0 - p) / n + z2 / (4.0 * n * n), 0.0)) / denom
    lo = 0.0 if successes <= 0 else max(0.0, centre - half)  # exact ends, no rounding residue
    hi = 1.0 if successes >= n else min(1.0, centre + half)
    return (lo, hi)


def proportion(successes: int, n: int, confidence: float = 0.95) -> Estimate:
    """A binomial proportion as an :class:`Estimate` with its Wilson interval."""
    lo, hi = wilson_interval(successes, n, confidence)
    value = 100.0 * successes / n if n else float("nan")
    return Estimate(value, int(n), 100.0 * lo, 100.0 * hi, confidence, "wilson")


def contingency(
    a: npt.NDArray[np.int64], ka: int, b: npt.NDArray[np.int64], kb: int
) -> npt.NDArray[np.int64]:
    """Counts ``C[i, j]`` of customers with code ``i`` in ``a`` and ``j`` in ``b``; ``O(n)``."""
    flat = np.bincount(a * kb + b, minlength=ka * kb)
    return flat.reshape(ka, kb).astype(np.int64, copy=False)
