"""Labelled metrics: accuracy with its interval, kappa, macro-F1, ARI and NMI.

All are plain functions ``name(y_true, y_pred, *, ...)``: ``y_true`` holds the reference labels
(sales team, reviewers, planted truth), ``y_pred`` the segment each customer was put in. Inputs may
be lists, NumPy arrays, pandas or Polars Series; missing values and empty input raise
:class:`seglens.errors.DataError`. Each works on integer codes and one ``np.bincount`` contingency
table, so a million customers cost milliseconds.

Accuracy-type metrics first *match* segments to labels (see :mod:`seglens.accuracy.matching`);
ARI and NMI compare the two partitions directly and need no matching.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

from seglens.accuracy._core import contingency
from seglens.accuracy._inputs import Codes, encode_pair
from seglens.accuracy.crossfit import DEFAULT_FOLDS, DEFAULT_RESAMPLES, cross_fitted_accuracy
from seglens.accuracy.matching import Matching, correct_count, match_segments
from seglens.stats import Estimate, proportion

__all__ = [
    "accuracy_score",
    "adjusted_rand_score",
    "cohen_kappa_score",
    "customer_accuracy",
    "macro_f1_score",
    "normalized_mutual_info_score",
]


def _prepare(
    y_true: object, y_pred: object, match: str
) -> tuple[Codes, Codes, npt.NDArray[np.int64], Matching]:
    t, p = encode_pair(y_true, y_pred)
    c = contingency(t.codes, t.k, p.codes, p.k)
    return t, p, c, match_segments(c, t, p, match)


def mapped_confusion(c: npt.NDArray[np.int64], m: Matching) -> npt.NDArray[np.int64]:
    """``labels x (labels + 1)`` counts after mapping; the last column is 'matched no label'."""
    kt = c.shape[0]
    cols = np.where(m.segment_to_label >= 0, m.segment_to_label, kt)
    out = np.zeros((kt, kt + 1), dtype=np.int64)
    np.add.at(out.T, cols, c.T)
    return out


def chance_from(mc: npt.NDArray[np.int64]) -> float:
    """Accuracy (fraction) expected if customers were put in the same-sized segments at random."""
    n = float(mc.sum())
    kt = mc.shape[0]
    return float(mc.sum(axis=1) @ mc[:, :kt].sum(axis=0)) / (n * n)


def kappa_from(mc: npt.NDArray[np.int64]) -> float:
    """Cohen's kappa from a mapped confusion table."""
    n = mc.sum()
    kt = mc.shape[0]
    po = np.trace(mc[:, :kt]) / n
    pe = float(mc.sum(axis=1) @ mc[:, :kt].sum(axis=0)) / (n * n)
    if pe >= 1.0:
        return 1.0 if po >= 1.0 else 0.0
    return float((po - pe) / (1.0 - pe))


def per_label_prf(
    mc: npt.NDArray[np.int64],
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Precision, recall, F1 per label (fractions; 0 where undefined, like ``zero_division=0``)."""
    kt = mc.shape[0]
    tp = np.diag(mc[:, :kt]).astype(np.float64)
    predicted = mc[:, :kt].sum(axis=0).astype(np.float64)
    support = mc.sum(axis=1).astype(np.float64)
    precision = np.divide(tp, predicted, out=np.zeros(kt), where=predicted > 0)
    recall = np.divide(tp, support, out=np.zeros(kt), where=support > 0)
    s = precision + recall
    f1 = np.divide(2 * precision * recall, s, out=np.zeros(kt), where=s > 0)
    return precision, recall, f1


def _is_bijection(c: npt.NDArray[np.int64]) -> bool:
    """Both partitions are the same up to relabelling (one non-zero cell per row and column)."""
    nz = c > 0
    return c.shape[0] == c.shape[1] and bool(
        np.all(nz.sum(axis=0) == 1) and np.all(nz.sum(axis=1) == 1)
    )


def ari_from(c: npt.NDArray[np.int64]) -> float:
    """Adjusted Rand index from a contingency table (same special cases as scikit-learn)."""
    n = int(c.sum())
    if n <= 1 or _is_bijection(c):
        return 1.0

    def pairs(x: npt.NDArray[np.int64]) -> float:
        xf = x.astype(np.float64)
        return float((xf * (xf - 1.0)).sum() / 2.0)

    index = pairs(c)
    sa, sb = pairs(c.sum(axis=1)), pairs(c.sum(axis=0))
    expected = sa * sb / (n * (n - 1) / 2.0)
    maximum = (sa + sb) / 2.0
    if maximum == expected:
        return 1.0
    return (index - expected) / (maximum - expected)


def nmi_from(c: npt.NDArray[np.int64]) -> float:
    """Normalised mutual information (arithmetic mean normaliser, as scikit-learn's default)."""
    if _is_bijection(c):
        return 1.0
    n = float(c.sum())
    a = c.sum(axis=1).astype(np.float64)
    b = c.sum(axis=0).astype(np.float64)
    i, j = np.nonzero(c)
    nij = c[i, j].astype(np.float64)
    mi = float(np.sum(nij / n * (np.log(nij) + math.log(n) - np.log(a[i]) - np.log(b[j]))))
    mi = max(mi, 0.0)

    def entropy(x: npt.NDArray[np.float64]) -> float:
        q = x[x > 0] / n
        return float(-(q * np.log(q)).sum())

    denom = (entropy(a) + entropy(b)) / 2.0
    if mi == 0.0 or denom == 0.0:
        return 0.0
    return min(mi / denom, 1.0)


def customer_accuracy(
    y_true: object,
    y_pred: object,
    *,
    match: str = "auto",
    confidence: float = 0.95,
    folds: int = DEFAULT_FOLDS,
    n_resamples: int = DEFAULT_RESAMPLES,
    random_state: int = 0,
) -> Estimate:
    """Customer-level accuracy: correctly segmented / customers checked x 100, with its interval.

    With a declared mapping (``names``) this is the plain share with its Wilson interval. When the
    mapping is learnt from these labels (``hungarian``, ``majority``, or ``auto`` resolving to
    Hungarian) it is the cross-fitted share with an interval that includes the learning
    (``method="cross-fitted-wilson"``; see :mod:`seglens.accuracy.crossfit`), the same figure
    :func:`~seglens.accuracy.accuracy_report` shows.

    Parameters
    ----------
    y_true
        Reference segment per customer (the labels).
    y_pred
        Segment (name or cluster id) per customer, same order.
    match
        How segments are matched to labels: ``"auto"``, ``"names"``, ``"hungarian"`` or
        ``"majority"`` (see :mod:`seglens.accuracy.matching`).
    confidence
        Level of the interval.
    folds, n_resamples, random_state
        Cross-fitting of a learnt mapping (unused for ``names``).

    Examples
    --------
    The worked example: 90 of 100 customers correctly segmented.

    >>> truth = ["loyal"] * 50 + ["new"] * 50
    >>> pred = ["loyal"] * 45 + ["new"] * 5 + ["new"] * 45 + ["loyal"] * 5
    >>> est = customer_accuracy(truth, pred)
    >>> est.value_pct, est.n, est.method
    (90.0, 100, 'wilson')
    >>> round(est.ci_low_pct, 1), round(est.ci_high_pct, 1)
    (82.6, 94.5)
    """
    t, p, c, m = _prepare(y_true, y_pred, match)
    if not m.fitted:
        return proportion(correct_count(c, m), t.codes.size, confidence)
    cf = cross_fitted_accuracy(
        t.codes,
        t.k,
        p.codes,
        p.k,
        m.method,
        folds=folds,
        n_resamples=n_resamples,
        n_permutations=0,
        confidence=confidence,
        random_state=random_state,
    )
    return cf.estimate


def accuracy_score(y_true: object, y_pred: object, *, match: str = "auto") -> float:
    """Share of customers the mapping puts right, in percent (the apparent accuracy).

    The point estimate of :func:`customer_accuracy` for a declared mapping (``names``). For a
    learnt mapping it is the in-sample share (optimistic: the mapping was chosen to agree with
    these labels); :func:`customer_accuracy` then cross-fits. As a metric it keeps scikit-learn's
    contract: deterministic, and 100 exactly when the partitions agree after matching.

    Examples
    --------
    >>> accuracy_score([0, 0, 1, 1], ["b", "b", "a", "b"])
    75.0
    """
    t, _, c, m = _prepare(y_true, y_pred, match)
    return 100.0 * correct_count(c, m) / t.codes.size


def cohen_kappa_score(y_true: object, y_pred: object, *, match: str = "auto") -> float:
    """Cohen's kappa between labels and matched segments (1 = perfect, 0 = chance level).

    Examples
    --------
    >>> cohen_kappa_score(["a", "a", "b", "b"], [1, 1, 0, 0])
    1.0
    """
    _, _, c, m = _prepare(y_true, y_pred, match)
    return kappa_from(mapped_confusion(c, m))


def macro_f1_score(y_true: object, y_pred: object, *, match: str = "auto") -> float:
    """Unweighted mean over labels of F1 after matching, in percent.

    Examples
    --------
    >>> macro_f1_score(["a", "a", "b", "b"], ["a", "a", "b", "b"])
    100.0
    """
    _, _, c, m = _prepare(y_true, y_pred, match)
    _, _, f1 = per_label_prf(mapped_confusion(c, m))
    return float(100.0 * f1.mean())


def adjusted_rand_score(y_true: object, y_pred: object) -> float:
    """Adjusted Rand index between two partitions (1 = identical, about 0 = random).

    Examples
    --------
    >>> adjusted_rand_score([0, 0, 1, 1], ["x", "x", "y", "y"])
    1.0
    """
    t, p = encode_pair(y_true, y_pred)
    return ari_from(contingency(t.codes, t.k, p.codes, p.k))


def normalized_mutual_info_score(y_true: object, y_pred: object) -> float:
    """Normalised mutual information between two partitions (1 = identical, 0 = independent).

    Examples
    --------
    >>> normalized_mutual_info_score([0, 0, 1, 1], [1, 1, 0, 0])
    1.0
    """
    t, p = encode_pair(y_true, y_pred)
    return nmi_from(contingency(t.codes, t.k, p.codes, p.k))
