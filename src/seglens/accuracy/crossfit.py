"""Accuracy when the segment -> label mapping is learnt from the labels it is scored against.

Hungarian and majority matching choose the mapping that makes the labels agree most, so the share
of customers that agree with *that* mapping (the **apparent** accuracy) is biased up: four random
segments matched by Hungarian to four equal labels agree on 29-36 %, not 25 %. Here the mapping
is **cross-fitted**: customers are split at random into ``folds`` parts, the mapping is learnt on
all parts but one and scores the customers of the part left out, so no customer is scored by a
mapping that saw its own label. The cross-fitted share is the point estimate.

Its interval is a Wilson interval on an effective sample size
(:func:`seglens.stats.effective_proportion`): the binomial variance plus the extra variance that a
wavering mapping adds, measured by a bootstrap that repeats the whole procedure (customers drawn
again from the observed label x segment table, new folds, mappings learnt again). A stable mapping
adds nothing, and the interval is the plain Wilson interval of the cross-fitted count. The upper
bound is at least the apparent count's Wilson upper bound: the apparent count is never below the
count of the best mapping in the population, so that bound keeps covering the segmentation's
accuracy when the cross-fitted mapping falls short of the best one.

The **null baseline** is what segments of the same sizes, unrelated to the labels, would score
under the same procedure: labels are shuffled across customers (same folds), the cross-fitted
share recomputed ``n_permutations`` times, and the ``confidence`` quantile reported
(:func:`seglens.stats.permutation_null`). Everything works on count tables (one ``np.bincount``
per fold; shuffles and resamples drawn as tables), so it costs milliseconds at any ``n``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from functools import lru_cache
from itertools import permutations

import numpy as np
import numpy.typing as npt
from scipy.optimize import linear_sum_assignment
from scipy.stats import random_table

from seglens.accuracy._core import contingency
from seglens.accuracy._inputs import encode_pair
from seglens.accuracy.matching import FITTED_METHODS, learn_mapping
from seglens.errors import UsageError
from seglens.stats import (
    Estimate,
    PermutationNull,
    effective_proportion,
    permutation_null,
    wilson_interval,
)

__all__ = [
    "DEFAULT_FOLDS",
    "DEFAULT_PERMUTATIONS",
    "DEFAULT_RESAMPLES",
    "CrossFitted",
    "cross_fitted_accuracy",
    "cross_fitted_hits",
]

IntArray = npt.NDArray[np.int64]

DEFAULT_FOLDS = 10
"""Parts the customers are split into: each mapping is learnt on 90 % of the labels."""
DEFAULT_RESAMPLES = 200
"""Bootstrap repetitions of the cross-fit that measure the mapping's extra variance."""
DEFAULT_PERMUTATIONS = 200
"""Label shuffles behind the null baseline."""
_CHUNK_CELLS = 2_000_000
"""Largest number of table cells drawn at once (bounds memory for many labels x segments)."""
_BRUTE_FORCE_MAPS = 120
"""Up to this many one-to-one mappings, stacks of tables are matched by scoring them all."""


@dataclass(frozen=True)
class CrossFitted:
    """A cross-fitted accuracy with the figures behind it.

    Attributes
    ----------
    estimate
        Cross-fitted share with its interval (``method="cross-fitted-wilson"``).
    apparent
        Share of customers agreeing with the mapping learnt on *all* labels (plain Wilson
        interval; optimistic, shown for comparison).
    folds
        Parts the customers were split into.
    n_resamples
        Bootstrap repetitions behind the variance.
    n_effective
        Effective sample size of the interval (``n`` when the mapping was stable).
    random_state
        Seed of the folds, resamples and shuffles.
    null
        Null baseline in percent (``None`` when ``n_permutations=0``).
    """

    estimate: Estimate
    apparent: Estimate
    folds: int
    n_resamples: int
    n_effective: float
    random_state: int
    null: PermutationNull | None


def _fold_ids(n: int, folds: int, seed: int) -> IntArray:
    """Balanced random fold of each customer (``0..folds-1``)."""
    fold = np.arange(n, dtype=np.int64) % folds
    np.random.default_rng([seed, 0]).shuffle(fold)
    return fold


def _fold_tables(t: IntArray, kt: int, p: IntArray, ks: int, fold: IntArray, k: int) -> IntArray:
    """``(folds, labels, segments)`` counts."""
    return contingency(fold * kt + t, k * kt, p, ks).reshape(k, kt, ks)


@lru_cache(maxsize=32)
def _one_to_one_maps(kt: int, ks: int) -> IntArray:
    """Every one-to-one segment -> label mapping (``-1``: segment left without a label)."""
    if ks <= kt:
        return np.array(list(permutations(range(kt), ks)), dtype=np.int64).reshape(-1, ks)
    out = np.full((math.perm(ks, kt), ks), -1, dtype=np.int64)
    for row, chosen in enumerate(permutations(range(ks), kt)):
        out[row, list(chosen)] = np.arange(kt)
    return out


def _hungarian_many(train: IntArray) -> IntArray:
    """Best one-to-one mappings for a stack of small tables by scoring every mapping at once."""
    m, kt, ks = train.shape
    maps = _one_to_one_maps(kt, ks)
    take = np.where(maps >= 0, maps, 0)
    best = np.empty(m, dtype=np.int64)
    step = max(1, _CHUNK_CELLS // maps.size)
    for start in range(0, m, step):
        part = train[start : start + step]
        score = np.where(maps >= 0, part[:, take, np.arange(ks)], 0).sum(axis=2)
        best[start : start + step] = np.argmax(score, axis=1)
    return np.where(train.sum(axis=1) > 0, maps[best], -1)


def _learn_many(train: IntArray, method: str) -> IntArray:
    """Mappings ``(m, segments)`` for a stack of ``(m, labels, segments)`` training tables."""
    if method == "majority":
        maps = np.argmax(train, axis=1)
        return np.where(train.sum(axis=1) == 0, -1, maps).astype(np.int64)
    kt, ks = train.shape[1:]
    if math.perm(max(kt, ks), min(kt, ks)) <= _BRUTE_FORCE_MAPS:
        return _hungarian_many(train)
    out = np.full((train.shape[0], ks), -1, dtype=np.int64)
    full = np.all(train.sum(axis=1) > 0, axis=1)
    for i, tab in enumerate(train):
        if full[i]:  # the common case, without learn_mapping's bookkeeping
            rows, cols = linear_sum_assignment(tab.T, maximize=True)
            out[i, rows] = cols
        else:
            out[i] = learn_mapping(tab, method)
    return out


def _crossfit_correct(tables: IntArray, method: str) -> IntArray:
    """Cross-fitted correct count for each stack of ``(..., folds, labels, segments)`` tables."""
    lead, (k, kt, ks) = tables.shape[:-3], tables.shape[-3:]
    stack = tables.reshape(-1, k, kt, ks)
    train = stack.sum(axis=1, keepdims=True) - stack
    flat_test = stack.reshape(-1, kt, ks)
    maps = _learn_many(train.reshape(-1, kt, ks), method)
    hit = flat_test[np.arange(flat_test.shape[0])[:, None], np.maximum(maps, 0), np.arange(ks)]
    per_fold = np.where(maps >= 0, hit, 0).sum(axis=1)
    return np.asarray(per_fold.reshape(*lead, k).sum(axis=-1), dtype=np.int64)


def _chunks(total: int, per_item_cells: int) -> list[int]:
    size = max(1, _CHUNK_CELLS // max(per_item_cells, 1))
    return [min(size, total - start) for start in range(0, total, size)]


def _extra_variance(
    table: IntArray, mapping: IntArray, fold_sizes: IntArray, method: str, reps: int, seed: int
) -> float:
    """Variance the wavering of the learnt mapping adds to the cross-fitted share (fraction²).

    Each repetition draws the folds' customers afresh from the observed table and cross-fits
    again; the same draws scored with the fixed full-data mapping give the variance a stable
    mapping would have. Their difference is the extra (0 when no mapping ever changed).
    """
    kt, ks = table.shape
    n = int(table.sum())
    if reps < 2 or n < 2:
        return 0.0
    rng = np.random.default_rng([seed, 1])
    probs = (table / n).ravel()
    mapped = np.flatnonzero(mapping >= 0)
    cross, fixed = [], []
    for size in _chunks(reps, fold_sizes.size * kt * ks):
        draws = rng.multinomial(
            np.broadcast_to(fold_sizes, (size, fold_sizes.size)),
            np.broadcast_to(probs, (size, fold_sizes.size, probs.size)),
        ).reshape(size, fold_sizes.size, kt, ks)
        cross.append(_crossfit_correct(draws, method))
        fixed.append(draws.sum(axis=1)[:, mapping[mapped], mapped].sum(axis=1))
    c, f = np.concatenate(cross) / n, np.concatenate(fixed) / n
    return max(float(np.var(c, ddof=1) - np.var(f, ddof=1)), 0.0)


def _null_counts(tables: IntArray, method: str, b: int, seed: int) -> IntArray:
    """Cross-fitted counts with labels shuffled across customers (same folds and segments)."""
    k, kt, ks = tables.shape
    rows = tables.sum(axis=1).ravel()  # customers per (fold, segment)
    cols = tables.sum(axis=(0, 2))  # customers per label
    dist = random_table(rows, cols, seed=np.random.default_rng([seed, 2]))
    out = [
        _crossfit_correct(dist.rvs(size).reshape(size, k, ks, kt).transpose(0, 1, 3, 2), method)
        for size in _chunks(b, k * kt * ks)
    ]
    return np.concatenate(out)


def _check(method: str, folds: int, n_resamples: int, n_permutations: int) -> None:
    if method not in FITTED_METHODS:
        raise UsageError(
            f"cross-fitting needs a learnt mapping, not {method!r}",
            hint="use hungarian or majority",
        )
    if folds < 2 or n_resamples < 0 or n_permutations < 0:
        raise UsageError(
            "need folds >= 2 and non-negative resamples and permutations",
            hint=f"the defaults are {DEFAULT_FOLDS} folds, {DEFAULT_RESAMPLES} resamples",
        )


def cross_fitted_accuracy(
    labels: IntArray,
    n_labels: int,
    segments: IntArray,
    n_segments: int,
    method: str,
    *,
    folds: int = DEFAULT_FOLDS,
    n_resamples: int = DEFAULT_RESAMPLES,
    n_permutations: int = DEFAULT_PERMUTATIONS,
    confidence: float = 0.95,
    random_state: int = 0,
) -> CrossFitted:
    """Cross-fitted accuracy of a learnt mapping, its interval and the null baseline.

    ``labels`` and ``segments`` are integer codes (``0..n_labels-1``, ``0..n_segments-1``) of the
    same customers; ``method`` is ``"hungarian"`` or ``"majority"``. With fewer customers than
    ``folds`` every customer is its own fold (leave-one-out).

    Examples
    --------
    Two clear segments: the mapping never wavers, so the interval is the plain Wilson one.

    >>> import numpy as np
    >>> t = np.array([0] * 50 + [1] * 50)
    >>> s = np.array([0] * 45 + [1] * 5 + [1] * 45 + [0] * 5)
    >>> cf = cross_fitted_accuracy(t, 2, s, 2, "hungarian")
    >>> print(cf.estimate)
    90.0 % (n=100, 95 % CI 82.6–94.5)
    >>> cf.estimate.method, cf.n_effective, cf.apparent.value_pct
    ('cross-fitted-wilson', 100.0, 90.0)
    >>> cf.null.threshold < 60  # what segments of these sizes, unrelated to the labels, reach
    True
    """
    _check(method, folds, n_resamples, n_permutations)
    n = int(labels.size)
    k = max(2, min(folds, n))
    fold = _fold_ids(n, k, random_state)
    tables = _fold_tables(labels, n_labels, segments, n_segments, fold, k)
    table = tables.sum(axis=0)
    full_map = learn_mapping(table, method)
    mapped = np.flatnonzero(full_map >= 0)
    apparent_hits = int(table[full_map[mapped], mapped].sum())
    hits = int(_crossfit_correct(tables, method))
    sizes = np.bincount(fold, minlength=k)
    extra = _extra_variance(table, full_map, sizes, method, n_resamples, random_state)
    share = hits / n
    est, n_eff = effective_proportion(
        hits,
        n,
        share * (1 - share) / n + extra,
        confidence=confidence,
        method="cross-fitted-wilson",
    )
    apparent_high = 100.0 * wilson_interval(apparent_hits, n, confidence)[1]
    est = replace(est, ci_high_pct=max(est.ci_high_pct, apparent_high))
    apparent = effective_proportion(apparent_hits, n, 0.0, confidence=confidence, method="wilson")
    null = None
    if n_permutations:
        counts = _null_counts(tables, method, n_permutations, random_state)
        null = permutation_null(100.0 * share, 100.0 * counts / n, quantile=confidence)
    return CrossFitted(est, apparent[0], k, n_resamples, n_eff, random_state, null)


def cross_fitted_hits(
    y_true: object,
    y_pred: object,
    *,
    match: str = "hungarian",
    folds: int = DEFAULT_FOLDS,
    random_state: int = 0,
) -> npt.NDArray[np.bool_]:
    """Per customer: does the mapping learnt *without* this customer's fold put it right?

    The same folds as :func:`cross_fitted_accuracy` with the same ``random_state``, so
    ``hits.mean()`` is its point estimate; useful to weight or stratify the hits (an audit).

    Examples
    --------
    >>> hits = cross_fitted_hits(["a"] * 6 + ["b"] * 6, [0] * 5 + [1] + [1] * 6, folds=3)
    >>> int(hits.sum()), hits.size
    (11, 12)
    """
    _check(match, folds, 0, 0)
    t, p = encode_pair(y_true, y_pred)
    n = int(t.codes.size)
    k = max(2, min(folds, n))
    fold = _fold_ids(n, k, random_state)
    tables = _fold_tables(t.codes, t.k, p.codes, p.k, fold, k)
    maps = _learn_many(tables.sum(axis=0, keepdims=True) - tables, match)
    assigned = maps[fold, p.codes]
    return np.asarray((assigned >= 0) & (assigned == t.codes), dtype=np.bool_)
