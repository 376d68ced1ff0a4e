"""Is the change between two periods' KPI real? The two-proportion z-test."""

from __future__ import annotations

import math
from dataclasses import dataclass

from scipy.special import ndtr

from seglens.accuracy import wilson_interval
from seglens.errors import UsageError

__all__ = ["ProportionChange", "two_proportion_test"]


@dataclass(frozen=True)
class ProportionChange:
    """Change from proportion 1 (earlier) to proportion 2 (later), in percentage points.

    ``z`` and ``p_value`` come from the pooled two-proportion z-test (two-sided; equal to a
    2x2 chi-square test without continuity correction). The interval of the difference is
    Newcombe's hybrid score interval, which behaves at small n and near 0 or 100 %.
    """

    p1_pct: float
    n1: int
    p2_pct: float
    n2: int
    diff_pts: float
    ci_low_pts: float
    ci_high_pts: float
    z: float
    p_value: float
    alpha: float

    @property
    def significant(self) -> bool:
        """Whether the change is significant at level ``alpha``."""
        return self.p_value < self.alpha


def two_proportion_test(
    x1: int, n1: int, x2: int, n2: int, *, alpha: float = 0.05
) -> ProportionChange:
    """Compare ``x1/n1`` (earlier) with ``x2/n2`` (later).

    Examples
    --------
    >>> r = two_proportion_test(90, 100, 75, 100)
    >>> round(r.diff_pts, 1), round(r.z, 3), round(r.p_value, 4), r.significant
    (-15.0, -2.791, 0.0052, True)
    """
    for x, n in ((x1, n1), (x2, n2)):
        if n <= 0 or not 0 <= x <= n:
            raise UsageError(f"need 0 <= successes <= n and n > 0, got {x} of {n}")
    p1, p2 = x1 / n1, x2 / n2
    pooled = (x1 + x2) / (n1 + n2)
    se = math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
    z = (p2 - p1) / se if se > 0 else 0.0
    p_value = float(2 * ndtr(-abs(z)))
    confidence = 1 - alpha
    l1, u1 = wilson_interval(x1, n1, confidence)
    l2, u2 = wilson_interval(x2, n2, confidence)
    d = p2 - p1
    low = d - math.sqrt((p2 - l2) ** 2 + (u1 - p1) ** 2)
    high = d + math.sqrt((u2 - p2) ** 2 + (p1 - l1) ** 2)
    return ProportionChange(
        p1_pct=100 * p1,
        n1=n1,
        p2_pct=100 * p2,
        n2=n2,
        diff_pts=100 * d,
        ci_low_pts=100 * low,
        ci_high_pts=100 * high,
        z=z,
        p_value=p_value,
        alpha=alpha,
    )
