"""The statistics kernel: every interval, test and sample size seglens reports comes from here.

One place for the numbers behind the KPI: the :class:`Estimate` record (a percentage with its
``n`` and confidence interval), the Wilson score interval of a proportion, Newcombe's interval of
a difference of two proportions, the pooled two-proportion z-test, the stratified (weighted)
estimate of an audit, Welch's interval of a difference of means, a Poisson bootstrap, the
sample size an audit needs for a stated margin, a proportion whose variance exceeds the binomial
one (Wilson on an effective sample size), the summary of a permutation null distribution, and the
sample size at which an interval around an observed share would decide a target.

Conventions
-----------
- Percentages are on the 0-100 scale and end in ``_pct``; differences of percentages are in
  points (``_pts``).
- A difference between two groups is always **second minus first** (later minus earlier,
  treatment minus control when the control is passed first).
- Intervals are two-sided at ``confidence`` (e.g. 0.95).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy.special import ndtr, ndtri, stdtrit

from seglens.errors import DataError, UsageError

__all__ = [
    "SAMPLE_SIZE_CLAMP_PCT",
    "DifferenceTest",
    "Estimate",
    "PermutationNull",
    "ProportionChange",
    "bootstrap_interval",
    "comparison_se",
    "difference_test",
    "effective_proportion",
    "labels_needed",
    "labels_to_decide",
    "newcombe_diff",
    "permutation_null",
    "proportion",
    "stratified_proportion",
    "two_proportion_test",
    "welch_diff",
    "wilson_interval",
    "z_value",
]

FloatArray = npt.NDArray[np.float64]

SAMPLE_SIZE_CLAMP_PCT = (5.0, 95.0)
"""Range the expected percent is kept in by :func:`labels_needed` (see there why)."""


@dataclass(frozen=True)
class Estimate:
    """A percentage with its sample size and confidence interval.

    Attributes
    ----------
    value_pct
        Point estimate, in percent (0-100), or in points for a difference.
    n
        Number of units (customers, segments, respondents) it rests on.
    ci_low_pct, ci_high_pct
        Bounds of the confidence interval, on the same scale as ``value_pct``.
    confidence
        Confidence level of the interval (e.g. 0.95).
    method
        How the interval was computed (``"wilson"``, ``"stratified-wilson"``, ``"newcombe"``, ...).
    se_pct
        Standard error of ``value_pct`` in points, when known.
    successes
        Units counted as correct, when the estimate is a plain proportion (``None`` for weighted,
        proxy or difference estimates).

    Examples
    --------
    >>> e = proportion(90, 100)
    >>> print(e)
    90.0 % (n=100, 95 % CI 82.6–94.5)
    >>> round(e.se_pct, 2), round(e.half_width_pct, 2)
    (3.0, 7.44)
    """

    value_pct: float
    n: int
    ci_low_pct: float
    ci_high_pct: float
    confidence: float = 0.95
    method: str = "wilson"
    se_pct: float | None = None
    successes: float | None = None

    @classmethod
    def from_counts(cls, successes: int, n: int, *, confidence: float = 0.95) -> Estimate:
        """Like :func:`proportion`, but refuses ``n <= 0`` instead of returning NaN."""
        if n <= 0:
            raise DataError("cannot estimate a proportion from 0 units", hint="check some units")
        return proportion(successes, n, confidence)

    @property
    def half_width_pct(self) -> float:
        """Larger distance from the point estimate to an interval bound (the stated margin)."""
        return max(self.value_pct - self.ci_low_pct, self.ci_high_pct - self.value_pct)

    def to_dict(self) -> dict[str, float | int | str | None]:
        """Plain-JSON form with the documented keys."""
        return {
            "value_pct": self.value_pct,
            "n": self.n,
            "ci_low_pct": self.ci_low_pct,
            "ci_high_pct": self.ci_high_pct,
            "confidence": self.confidence,
            "method": self.method,
            "se_pct": self.se_pct,
        }

    def __str__(self) -> str:
        pct = round(self.confidence * 100)
        return (
            f"{self.value_pct:.1f} % (n={self.n:,}, {pct} % CI "
            f"{self.ci_low_pct:.1f}–{self.ci_high_pct:.1f})"
        )


def z_value(confidence: float) -> float:
    """Two-sided normal quantile for a confidence level in (0, 1).

    Examples
    --------
    >>> round(z_value(0.95), 4)
    1.96
    """
    if not 0.0 < confidence < 1.0:
        raise UsageError(
            f"confidence must be between 0 and 1 (exclusive), got {confidence}",
            hint="use e.g. 0.95 for a 95 % interval",
        )
    return float(ndtri(0.5 + confidence / 2.0))


def wilson_interval(successes: float, n: float, confidence: float = 0.95) -> tuple[float, float]:
    """Wilson score interval for a proportion, as fractions in [0, 1].

    Identical to ``scipy.stats.binomtest(k, n).proportion_ci(method="wilson")`` but closed form, so
    it costs nothing inside loops. ``n`` may be an effective (non-integer) sample size; with
    ``n <= 0`` the interval is the whole range.

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
    lo = 0.0 if successes <= 0 else min(p, max(0.0, centre - half))  # exact ends, no residue
    hi = 1.0 if successes >= n else max(p, min(1.0, centre + half))
    return (lo, hi)


def proportion(successes: float, n: int, confidence: float = 0.95) -> Estimate:
    """A binomial proportion as an :class:`Estimate` with its Wilson interval and binomial se.

    With ``n == 0`` the value and se are NaN and the interval is 0-100.

    Examples
    --------
    >>> print(proportion(15, 100))
    15.0 % (n=100, 95 % CI 9.3–23.3)
    """
    lo, hi = wilson_interval(successes, n, confidence)
    if n > 0:
        p = successes / n
        value, se = 100.0 * successes / n, 100.0 * math.sqrt(p * (1.0 - p) / n)
    else:
        value = se = float("nan")
    return Estimate(
        value, int(n), 100.0 * lo, 100.0 * hi, confidence, "wilson", se, successes=successes
    )


def newcombe_diff(x1: float, n1: int, x2: float, n2: int, *, confidence: float = 0.95) -> Estimate:
    """Difference ``x2/n2 - x1/n1`` in points with Newcombe's hybrid score interval.

    Newcombe (1998), method 10: combines the two Wilson intervals, so it behaves at small ``n``
    and near 0 or 100 %. NaN when either group is empty; ``n`` of the result is ``n1 + n2``.

    Examples
    --------
    >>> d = newcombe_diff(90, 100, 75, 100)
    >>> round(d.value_pct, 1), round(d.ci_low_pct, 2), round(d.ci_high_pct, 2)
    (-15.0, -25.33, -4.47)
    """
    if n1 <= 0 or n2 <= 0:
        nan = float("nan")
        return Estimate(nan, n1 + n2, nan, nan, confidence, "newcombe")
    p1, p2 = x1 / n1, x2 / n2
    l1, u1 = wilson_interval(x1, n1, confidence)
    l2, u2 = wilson_interval(x2, n2, confidence)
    d = p2 - p1
    low = d - math.sqrt((p2 - l2) ** 2 + (u1 - p1) ** 2)
    high = d + math.sqrt((u2 - p2) ** 2 + (p1 - l1) ** 2)
    se = math.sqrt(p1 * (1 - p1) / n1 + p2 * (1 - p2) / n2)
    return Estimate(100 * d, n1 + n2, 100 * low, 100 * high, confidence, "newcombe", 100 * se)


@dataclass(frozen=True)
class ProportionChange:
    """Change from proportion 1 (earlier) to proportion 2 (later), in percentage points.

    ``z`` and ``p_value`` come from the pooled two-proportion z-test (two-sided; equal to a
    2x2 chi-square test without continuity correction). The interval of the difference is
    Newcombe's hybrid score interval at ``1 - alpha``.
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
    x1: float, n1: int, x2: float, n2: int, *, alpha: float = 0.05
) -> ProportionChange:
    """Compare ``x1/n1`` (earlier) with ``x2/n2`` (later); ``z > 0`` means the later is higher.

    Successes may be non-integer (a weighted estimate times its ``n``). With no variance (both
    proportions 0 or both 1) ``z`` is 0 and the p-value 1.

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
    diff = newcombe_diff(x1, n1, x2, n2, confidence=1 - alpha)
    return ProportionChange(
        p1_pct=100 * p1,
        n1=n1,
        p2_pct=100 * p2,
        n2=n2,
        diff_pts=diff.value_pct,
        ci_low_pts=diff.ci_low_pct,
        ci_high_pts=diff.ci_high_pct,
        z=z,
        p_value=float(2 * ndtr(-abs(z))),
        alpha=alpha,
    )


def stratified_proportion(
    successes: npt.ArrayLike,
    n: npt.ArrayLike,
    sizes: npt.ArrayLike,
    *,
    confidence: float = 0.95,
) -> tuple[Estimate, float]:
    """Population proportion from a stratified sample, and the effective sample size.

    With strata ``h`` of ``N_h`` units (``sizes``), ``n_h`` sampled and ``c_h`` successes
    (``p_h = c_h / n_h``), the estimate is ``p = sum_h W_h p_h`` with ``W_h = N_h / N`` and
    variance ``V = sum_h W_h^2 (1 - n_h/N_h) p_h (1 - p_h) / (n_h - 1)`` (unbiased within-stratum
    variance with finite-population correction; a stratum of one sampled unit counts as
    variance 0.25). The interval is a Wilson interval on the effective sample size
    ``n_eff = p(1-p)/V``, capped at ``sum n_h`` (Korn & Graubard, 1998): unlike ``p ± z·sqrt(V)``
    it never leaves 0-100 % and does not collapse when every sampled unit succeeded. When every
    stratum was sampled in full, ``n_eff`` is infinite and the interval is the point.

    Returns the :class:`Estimate` (``method="stratified-wilson"``, ``se_pct = 100·sqrt(V)``) and
    ``n_eff``. Every stratum needs ``1 <= n_h <= N_h``.

    Examples
    --------
    Stratum a (9,000 units): 45 of 50 sampled succeed; b (1,000): 25 of 50.

    >>> est, n_eff = stratified_proportion([45, 25], [50, 50], [9000, 1000])
    >>> round(est.value_pct, 1), round(est.se_pct, 2), round(n_eff, 1)  # naive mean: 70.0
    (86.0, 3.91, 78.8)
    """
    c_h = np.asarray(successes, dtype=np.float64)
    n_h = np.asarray(n, dtype=np.float64)
    big_n = np.asarray(sizes, dtype=np.float64)
    if not c_h.shape == n_h.shape == big_n.shape or c_h.ndim != 1 or c_h.size == 0:
        raise DataError("successes, n and sizes must be equal-length, non-empty 1-d sequences")
    if np.any(n_h < 1) or np.any(n_h > big_n) or np.any(c_h < 0) or np.any(c_h > n_h):
        raise DataError("every stratum needs 0 <= successes <= n and 1 <= n <= size")
    w = big_n / big_n.sum()
    p_h = c_h / n_h
    p = float((w * p_h).sum())
    var_h = np.where(n_h > 1, p_h * (1 - p_h) / np.maximum(n_h - 1, 1), 0.25)
    var = float((w**2 * (1.0 - n_h / big_n) * var_h).sum())
    total = int(n_h.sum())
    if var > 0 and 0 < p < 1:
        n_eff = min(p * (1 - p) / var, float(total))
        lo, hi = wilson_interval(p * n_eff, n_eff, confidence)
    elif 0 < p < 1:  # every stratum sampled in full: no sampling error left
        n_eff, lo, hi = float("inf"), p, p
    else:
        n_eff = float(total)
        lo, hi = wilson_interval(p * total, total, confidence)
    est = Estimate(
        100 * p, total, 100 * lo, 100 * hi, confidence, "stratified-wilson", 100 * math.sqrt(var)
    )
    return est, n_eff


def welch_diff(
    x1: FloatArray, x2: FloatArray, *, confidence: float = 0.95
) -> tuple[float, float, float]:
    """Difference of means ``mean(x2) - mean(x1)`` with a Welch t interval: ``(diff, low, high)``.

    Values are in the data's own unit (money, counts). NaN when either group has fewer than two
    values; a zero-width interval when both groups are constant.

    Examples
    --------
    >>> d, lo, hi = welch_diff(np.array([1.0, 2.0, 3.0]), np.array([4.0, 5.0, 6.0, 7.0]))
    >>> d, round(lo, 3), round(hi, 3)
    (3.5, 1.268, 5.732)
    """
    n1, n2 = x1.size, x2.size
    if n1 < 2 or n2 < 2:
        return (math.nan, math.nan, math.nan)
    m1, m2 = float(np.mean(x1)), float(np.mean(x2))
    v1, v2 = float(np.var(x1, ddof=1)) / n1, float(np.var(x2, ddof=1)) / n2
    se = math.sqrt(v1 + v2)
    d = m2 - m1
    if se == 0:
        return (d, d, d)
    dof = (v1 + v2) ** 2 / ((v1**2 / (n1 - 1)) + (v2**2 / (n2 - 1)))
    t = float(stdtrit(dof, 0.5 + confidence / 2))
    return (d, d - t * se, d + t * se)


def bootstrap_interval(
    statistic: Callable[[FloatArray], FloatArray],
    n: int,
    *,
    n_resamples: int = 1000,
    confidence: float = 0.95,
    seed: int = 0,
    chunk: int = 100,
) -> tuple[FloatArray, FloatArray]:
    """Percentile interval of ``statistic(weights)`` over Poisson(1) bootstrap weights.

    ``statistic`` receives a ``(reps, n)`` weight matrix and returns ``(reps, k)`` values; the
    result is the ``(k,)`` lower and upper bounds. Poisson weights approximate resampling with
    replacement and vectorise well.

    Examples
    --------
    >>> x = np.arange(100.0)
    >>> lo, hi = bootstrap_interval(lambda w: (w @ x / w.sum(axis=1))[:, None], x.size)
    >>> bool(lo[0] < 49.5 < hi[0])
    True
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
    tail = (1 - confidence) / 2
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN columns give NaN bounds
        low = np.nanquantile(values, tail, axis=0)
        high = np.nanquantile(values, 1 - tail, axis=0)
    return np.asarray(low, dtype=np.float64), np.asarray(high, dtype=np.float64)


def comparison_se(
    se_pct: float | None, ci_low_pct: float, ci_high_pct: float, confidence: float = 0.95
) -> float:
    """The standard error (points) to compare an estimate with: its own, but never below its
    interval's half-width over ``z``.

    A binomial or stratified standard error collapses to 0 at 0 % or 100 % (every audited
    customer right) although the Wilson interval does not; using the larger of the two keeps a
    perfect small sample from claiming certainty in a change test.

    Examples
    --------
    >>> round(comparison_se(0.0, 91.2, 100.0), 2), round(comparison_se(3.0, 80.0, 90.0), 2)
    (2.24, 3.0)
    """
    half = (ci_high_pct - ci_low_pct) / 2 / z_value(confidence)
    return max(se_pct or 0.0, half)


@dataclass(frozen=True)
class DifferenceTest:
    """The difference ``after − before`` of two estimates (in points) and its normal test."""

    diff_pts: float
    se_pts: float
    ci_low_pts: float
    ci_high_pts: float
    p_value: float
    confidence: float


def difference_test(
    before: tuple[float, float],
    after: tuple[float, float],
    *,
    covariance: float = 0.0,
    confidence: float = 0.95,
) -> DifferenceTest:
    """Test ``after − before`` for two estimates given as ``(value_pts, se_pts)``.

    The variance of the difference is ``se_before² + se_after² − 2·covariance`` (points²): the
    covariance is what customers counted in both estimates share (zero for independent samples),
    so each estimate's own standard error — binomial or stratified — is used and paired data is
    not treated as independent. The p-value is two-sided (normal); the interval is
    ``diff ± z·se``. With no variance left the p-value is 1 for no difference, else 0.

    Examples
    --------
    >>> t = difference_test((90.0, 1.5), (60.0, 2.45))
    >>> round(t.diff_pts, 1), round(t.se_pts, 2), t.p_value < 1e-20
    (-30.0, 2.87, True)
    >>> round(difference_test((80.0, 3.0), (78.0, 3.0), covariance=8.0).se_pts, 2)
    1.41
    """
    diff = after[0] - before[0]
    var = before[1] ** 2 + after[1] ** 2 - 2.0 * covariance
    se = math.sqrt(var) if var > 0 else 0.0
    no_variance_p = 1.0 if diff == 0 else 0.0
    p = float(2 * ndtr(-abs(diff) / se)) if se > 0 else no_variance_p
    half = z_value(confidence) * se
    return DifferenceTest(diff, se, diff - half, diff + half, p, confidence)


def labels_needed(
    margin_pts: float, *, expected_pct: float = 50.0, confidence: float = 0.95
) -> int:
    """Labelled customers needed for a ± ``margin_pts`` interval around ``expected_pct``.

    The normal approximation ``z² p (1 − p) / margin²``. ``expected_pct`` is kept within
    :data:`SAMPLE_SIZE_CLAMP_PCT` (5-95 %): an observed 100 % from a small sample is no reason to
    plan as if a handful of labels were enough, and near the ends the normal approximation
    understates the Wilson interval's width anyway.

    Examples
    --------
    >>> labels_needed(5.0), labels_needed(5.0, expected_pct=85), labels_needed(3, expected_pct=85)
    (385, 196, 545)
    """
    if not margin_pts > 0:
        raise UsageError(f"margin must be positive, got {margin_pts}")
    lo, hi = SAMPLE_SIZE_CLAMP_PCT
    p = min(max(expected_pct, lo), hi) / 100
    z = z_value(confidence)
    return math.ceil(z * z * p * (1 - p) / (margin_pts / 100) ** 2)


def effective_proportion(
    successes: float,
    n: int,
    variance: float,
    *,
    confidence: float = 0.95,
    method: str = "effective-wilson",
) -> tuple[Estimate, float]:
    """A proportion whose sampling variance is known to exceed the binomial one.

    ``variance`` is the variance of the share (fraction², e.g. from replicates). The interval is
    a Wilson interval on the effective sample size ``n_eff = p(1-p)/variance``, capped at ``n``
    (the device :func:`stratified_proportion` uses): with ``variance <= p(1-p)/n`` it is exactly
    :func:`proportion`'s interval, and it widens as the variance grows. Returns the
    :class:`Estimate` (``se_pct`` = the larger of ``100·sqrt(variance)`` and the binomial se) and
    ``n_eff``.

    Examples
    --------
    Twice the binomial variance halves the effective sample size:

    >>> est, n_eff = effective_proportion(30, 120, 2 * 0.25 * 0.75 / 120)
    >>> n_eff, round(est.ci_low_pct, 1), round(est.ci_high_pct, 1)
    (60.0, 15.8, 37.2)
    >>> plain = effective_proportion(30, 120, 0.0)[0]
    >>> ref = proportion(30, 120)
    >>> (plain.ci_low_pct, plain.ci_high_pct) == (ref.ci_low_pct, ref.ci_high_pct)
    True
    """
    if n <= 0:
        raise DataError("cannot estimate a proportion from 0 units", hint="check some units")
    p = successes / n
    binomial = p * (1.0 - p) / n
    n_eff = float(n)
    if variance > binomial and 0.0 < p < 1.0:
        n_eff = min(p * (1.0 - p) / variance, float(n))
    lo, hi = wilson_interval(p * n_eff, n_eff, confidence)
    se = 100.0 * math.sqrt(max(variance, binomial))
    est = Estimate(100.0 * p, n, 100.0 * lo, 100.0 * hi, confidence, method, se, successes)
    return est, n_eff


@dataclass(frozen=True)
class PermutationNull:
    """Where an observed statistic falls in its permutation (null) distribution.

    Attributes
    ----------
    observed
        The statistic on the real data.
    threshold
        The ``quantile`` of the null distribution: what chance alone reaches in
        ``1 - quantile`` of shuffles (the figure to beat).
    mean
        Mean of the null distribution (what chance gives on average).
    quantile
        The quantile ``threshold`` is (e.g. 0.95).
    p_value
        One-sided ``(1 + #{null >= observed}) / (B + 1)``: never 0, valid for a finite ``B``.
    n_permutations
        Number of shuffles ``B``.
    """

    observed: float
    threshold: float
    mean: float
    quantile: float
    p_value: float
    n_permutations: int


def permutation_null(
    observed: float, null_values: npt.ArrayLike, *, quantile: float = 0.95
) -> PermutationNull:
    """Summarise ``B`` values of a statistic recomputed on shuffled data.

    The threshold is the ``quantile`` of the null values (``numpy.quantile``, ``method="higher"``:
    a value some shuffle really reached). The one-sided p-value counts the observed statistic as
    one of the permutations (Phipson & Smyth, 2010), so it is never 0.

    Examples
    --------
    >>> null = permutation_null(0.9, np.linspace(0.0, 1.0, 101))
    >>> round(null.threshold, 2), round(null.mean, 2), round(null.p_value, 3)
    (0.95, 0.5, 0.118)
    """
    values = np.asarray(null_values, dtype=np.float64)
    if values.ndim != 1 or values.size == 0:
        raise UsageError("need a non-empty 1-d sequence of null values")
    if not 0.0 < quantile < 1.0:
        raise UsageError(f"quantile must be between 0 and 1 (exclusive), got {quantile}")
    threshold = float(np.quantile(values, quantile, method="higher"))
    p_value = (1.0 + float(np.count_nonzero(values >= observed))) / (values.size + 1.0)
    return PermutationNull(
        observed, threshold, float(values.mean()), quantile, p_value, int(values.size)
    )


def labels_to_decide(
    observed_pct: float,
    target_pct: float,
    *,
    confidence: float = 0.95,
    max_n: int = 10**9,
) -> int | None:
    """Smallest ``n`` at which a Wilson interval around ``observed_pct`` would clear ``target_pct``.

    Above the target: the lower bound reaches it (``>=``); below: the upper bound falls under it
    (``<``). It assumes the share stays at its observed value as labels are added, so it is a
    planning figure, not a promise. ``None`` when the observed share equals the target (no ``n``
    decides) or more than ``max_n`` labels would be needed. Exact (a search on the Wilson bound,
    which tightens monotonically with ``n`` at a fixed share), unlike :func:`labels_needed`.

    Examples
    --------
    92 % observed against the 85 % target; 80 % observed; 100 % observed:

    >>> labels_to_decide(92.0, 85.0), labels_to_decide(80.0, 85.0), labels_to_decide(100.0, 85.0)
    (100, 196, 22)
    >>> labels_to_decide(85.0, 85.0) is None
    True
    """
    if not 0.0 <= observed_pct <= 100.0 or not 0.0 <= target_pct <= 100.0:
        raise UsageError("observed and target must be percentages in 0-100")
    p, t = observed_pct / 100.0, target_pct / 100.0
    if p == t:
        return None

    def decided(n: int) -> bool:
        lo, hi = wilson_interval(p * n, n, confidence)
        return lo >= t if p > t else hi < t

    high = 1
    while not decided(high):
        if high > max_n:
            return None
        high *= 2
    low = high // 2  # not decided at low (or low == 0)
    while high - low > 1:
        mid = (low + high) // 2
        if decided(mid):
            high = mid
        else:
            low = mid
    return high
