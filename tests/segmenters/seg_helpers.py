"""Helpers shared by the segmenter tests (a uniquely named module, imported by the tests)."""

from __future__ import annotations

from typing import Any

import numpy as np
import polars as pl
from scipy.optimize import linear_sum_assignment


def make_planted(
    k: int = 4,
    n_per: int = 300,
    *,
    seed: int = 0,
    sep: float = 4.0,
    categorical: bool = False,
) -> tuple[pl.DataFrame, np.ndarray]:
    """Customers from ``k`` well-separated segments with skewed money columns.

    Segments are Gaussian blobs in log space (centres ``sep`` sd apart on average); the
    spend-like columns are exponentiated, so the segmenters must log them to see the blobs.
    With ``categorical`` a ``region`` column follows the segment 90 % of the time.
    """
    rng = np.random.default_rng(seed)
    p = 5
    centers = rng.normal(0.0, sep / np.sqrt(2), size=(k, p))
    # make sure every pair of centres is well apart
    while (
        min(np.linalg.norm(centers[i] - centers[j]) for i in range(k) for j in range(i + 1, k))
        < sep
    ):
        centers = rng.normal(0.0, sep / np.sqrt(2), size=(k, p))
    y = np.repeat(np.arange(k), n_per)
    z = centers[y] + rng.normal(0.0, 0.5, size=(k * n_per, p))
    df = pl.DataFrame(
        {
            "customer_id": [f"C{i:05d}" for i in range(k * n_per)],
            "days_since_last_purchase": np.exp(4 + 0.5 * z[:, 0]),
            "n_orders": np.round(np.exp(1.5 + 0.4 * z[:, 1])),
            "total_spend": np.exp(6 + 0.6 * z[:, 2]),
            "tenure_days": 400 + 60 * z[:, 3],
            "spend_trend": z[:, 4] / 3,
        }
    )
    if categorical:
        regions = np.array(["north", "south", "east", "west", "centre", "islands"])
        reg = regions[y % len(regions)]
        flip = rng.random(len(y)) < 0.1
        reg[flip] = rng.choice(regions, flip.sum())
        df = df.with_columns(pl.Series("region", reg))
    order = rng.permutation(len(y))
    return df[order], y[order]


def matched_accuracy(truth: Any, pred: Any) -> float:
    """Share of customers in the right segment after the best one-to-one label matching."""
    t, p = np.asarray(truth), np.asarray(pred)
    m = np.zeros((int(t.max()) + 1, int(p.max()) + 1))
    np.add.at(m, (t, p), 1)
    rows, cols = linear_sum_assignment(-m)
    return float(m[rows, cols].sum() / len(t))
