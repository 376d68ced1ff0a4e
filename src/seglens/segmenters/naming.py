"""Readable segment names from what distinguishes each segment (effect sizes).

The vocabulary knows the ``seglens features`` columns ("days_since_last_purchase" high ->
"lapsed", "n_orders" high -> "frequent", "total_spend" high -> "high spenders" ...); any other
column is described as "high <column>" / "low <column>".
"""

# ruff: noqa: N803  (X / Z for data matrices, the scikit-learn convention)

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

__all__ = ["auto_names", "effect_sizes"]

FloatArray = np.ndarray[Any, np.dtype[np.float64]]

# column -> (slot, word when high, word when low); slot orders words in the name
_VOCAB: dict[str, tuple[str, str | None, str | None]] = {
    "days_since_last_purchase": ("recency", "lapsed", "recent"),
    "n_orders": ("frequency", "frequent", "infrequent"),
    "frequency": ("frequency", "repeat", "one-time"),
    "active_months_12m": ("frequency", "steady", "sporadic"),
    "interpurchase_mean_days": ("frequency", "slow-cycle", "fast-cycle"),
    "total_spend": ("money", "high spenders", "low spenders"),
    "monetary_value": ("money", "high spenders", "low spenders"),
    "spend_last_90d": ("money", "high current spenders", "low current spenders"),
    "avg_order_value": ("other", "big-basket", "small-basket"),
    "tenure_days": ("other", "long-standing", "new"),
    "T": ("other", "long-standing", "new"),
    "recency": ("other", "long-active", "short-lived"),
    "interpurchase_std_days": ("other", "irregular", "regular"),
    "spend_prev_90d": ("other", "formerly active", None),
    "spend_trend": ("other", "growing", "declining"),
    "return_rate_value": ("other", "high-return", None),
    "return_rate_count": ("other", "high-return", None),
    "n_products": ("other", "wide-range", "narrow-range"),
    "n_categories": ("other", "multi-category", "single-category"),
    "top_category_share": ("other", "category-focused", None),
}
_SLOT_ORDER = {"recency": 0, "frequency": 1, "other": 2}


def effect_sizes(Z: FloatArray, labels: Any, k: int) -> FloatArray:
    """Cohen's d of each cluster against the rest, per column (k × p).

    ``Z`` should be on the modelling scale (skewed columns logged), so that a few huge
    spenders do not dominate; d = (mean in segment - mean of the rest) / pooled sd.
    """
    lab = np.asarray(labels)
    n, p = Z.shape
    counts = np.bincount(lab, minlength=k).astype(np.float64)
    sums = np.zeros((k, p))
    sq = np.zeros((k, p))
    for j in range(p):
        sums[:, j] = np.bincount(lab, weights=Z[:, j], minlength=k)
        sq[:, j] = np.bincount(lab, weights=Z[:, j] * Z[:, j], minlength=k)
    tot, tot_sq = sums.sum(0), sq.sum(0)
    out = np.zeros((k, p))
    for c in range(k):
        n1, n2 = counts[c], n - counts[c]
        if n1 < 1 or n2 < 1:
            continue
        m1, m2 = sums[c] / n1, (tot - sums[c]) / n2
        v1 = np.maximum(sq[c] / n1 - m1 * m1, 0.0)
        v2 = np.maximum((tot_sq - sq[c]) / n2 - m2 * m2, 0.0)
        pooled = np.sqrt((n1 * v1 + n2 * v2) / max(n1 + n2 - 2, 1))
        out[c] = np.where(pooled > 1e-12, (m1 - m2) / np.where(pooled > 1e-12, pooled, 1), 0.0)
    return out


def _word(col: str, d: float, median: float | None) -> tuple[str, str] | None:
    """(slot, word) describing a column's deviation, or None when there is no word for it."""
    if col.startswith("channel_share_"):
        return ("other", f"{col.removeprefix('channel_share_')}-channel") if d > 0 else None
    slot, hi, lo = _VOCAB.get(col, ("other", f"high {col}", f"low {col}"))
    if col == "n_orders" and d < 0 and median is not None and median <= 1:
        lo = "one-time"
    if col == "frequency" and d < 0 and median is not None and median <= 0:
        lo = "one-time"
    word = hi if d > 0 else lo
    return (slot, word) if word else None


def auto_names(
    feature_names: Sequence[str],
    effects: FloatArray,
    *,
    medians: Sequence[Mapping[str, float]] | None = None,
    threshold: float = 0.5,
    max_words: int = 3,
) -> list[str]:
    """One readable, unique name per segment from its effect sizes.

    Parameters
    ----------
    feature_names : list of str
        Column names, aligned with the columns of ``effects``.
    effects : ndarray (k × p)
        Effect sizes (e.g. from :func:`effect_sizes`).
    medians : list of dict, optional
        Raw medians per segment (lets "n_orders" low read "one-time" when the median is 1).
    threshold : float
        Smallest |d| worth a word.
    max_words : int
        Descriptors per name, besides the noun.

    Examples
    --------
    >>> import numpy as np
    >>> auto_names(["days_since_last_purchase", "n_orders", "total_spend"],
    ...            np.array([[-1.2, 1.5, 1.8], [1.4, -0.9, -0.2]]),
    ...            medians=[{"n_orders": 9}, {"n_orders": 1}])
    ['recent frequent high spenders', 'lapsed one-time buyers']
    """
    names: list[str] = []
    for c in range(effects.shape[0]):
        med = medians[c] if medians is not None else {}
        order = np.argsort(-np.abs(effects[c]), kind="stable")
        candidates = [
            (w, abs(float(effects[c, j])))
            for j in order
            if abs(effects[c, j]) >= threshold
            and (w := _word(feature_names[j], float(effects[c, j]), med.get(feature_names[j])))
        ]
        name = _compose(candidates, max_words)
        extra = max_words
        while name in names and extra < len(candidates):
            extra += 1
            name = _compose(candidates, extra)
        base, n = name, 2
        while name in names:
            name, n = f"{base} {n}", n + 1
        names.append(name)
    return names


def _compose(candidates: list[tuple[tuple[str, str], float]], max_words: int) -> str:
    noun: str | None = None
    words: list[tuple[int, str]] = []
    for (slot, word), _ in candidates:
        if slot == "money":
            if noun is None:
                noun = word
            continue
        if len(words) < max_words and all(w != word for _, w in words):
            if slot in ("recency", "frequency") and any(s == _SLOT_ORDER[slot] for s, _ in words):
                continue
            words.append((_SLOT_ORDER[slot], word))
    words.sort(key=lambda t: t[0])
    adj = " ".join(w for _, w in words)
    if noun is None:
        noun = "buyers" if any(s < 2 for s, _ in words) else "customers"
        if not words:
            return "typical customers"
    return f"{adj} {noun}".strip()
