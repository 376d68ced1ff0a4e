"""The few statistics the review needs to phrase its findings (closed forms, no data access)."""

from __future__ import annotations

import math

from scipy.stats import norm

__all__ = ["labels_for_margin", "two_proportion_test", "wilson_interval"]


def _z(confidence: float) -> float:
    return float(norm.ppf(0.5 + confidence / 2))


def wilson_interval(successes: float, n: int, *, confidence: float = 0.95) -> tuple[float, float]:
    """Wilson score interval for a proportion, as fractions (0–1).

    Examples
    --------
    >>> low, high = wilson_interval(90, 100)
    >>> round(low, 4), round(high, 4)
    (0.8256, 0.9448)
    """
    if n <= 0:
        return 0.0, 1.0
    z = _z(confidence)
    p = successes / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return max(0.0, centre - half), min(1.0, centre + half)


def two_proportion_test(p1: float, n1: int, p2: float, n2: int) -> tuple[float, float]:
    """Two-sided pooled two-proportion z-test; returns ``(z, p_value)``.

    ``p1``/``p2`` are fractions (0–1). With no variance (both 0 or both 1) the result is
    ``(0.0, 1.0)``.

    Examples
    --------
    >>> z, p = two_proportion_test(0.80, 400, 0.86, 400)
    >>> round(z, 2), round(p, 3)
    (-2.26, 0.024)
    """
    if n1 <= 0 or n2 <= 0:
        return 0.0, 1.0
    pooled = (p1 * n1 + p2 * n2) / (n1 + n2)
    se = math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
    if se == 0:
        return 0.0, 1.0
    z = (p1 - p2) / se
    return z, float(2 * norm.sf(abs(z)))


def labels_for_margin(p: float, margin: float, *, confidence: float = 0.95) -> int:
    """Labelled customers needed for a ± ``margin`` (fraction) interval around proportion ``p``.

    Uses the normal approximation ``z² p (1 − p) / margin²``, with ``p`` kept away from 0 and 1 so
    a perfect small sample does not claim it needs nothing more.

    Examples
    --------
    >>> labels_for_margin(0.85, 0.03)
    545
    """
    if margin <= 0:
        raise ValueError("margin must be positive")
    z = _z(confidence)
    p = min(max(p, 0.05), 0.95)
    return math.ceil(z * z * p * (1 - p) / (margin * margin))
