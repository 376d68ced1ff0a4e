"""Customers drawn from the BG/NBD and Gamma-Gamma models (for what-if runs, tests, benchmarks)."""

from __future__ import annotations

import numpy as np
import polars as pl

__all__ = ["CDNOW_PARAMS", "simulate_customers"]

CDNOW_PARAMS: dict[str, float] = {
    "r": 0.243,
    "alpha": 4.414,
    "a": 0.793,
    "b": 2.426,
    "p": 6.25,
    "q": 3.74,
    "v": 15.44,
}
"""BG/NBD and Gamma-Gamma parameters Fader, Hardie & Lee (2005) report for CDNOW (weeks)."""


def simulate_customers(
    n: int,
    *,
    params: dict[str, float] | None = None,
    horizon: float = 39.0,
    spread: float = 12.0,
    seed: int = 0,
) -> pl.DataFrame:
    """A customer summary (``frequency``, ``recency``, ``T``, ``monetary_value``) from the models.

    Each customer's first purchase falls uniformly in the first ``spread`` units of a ``horizon``
    long calibration period; while alive they buy as Poisson(lambda) and drop out with
    probability p after each repeat purchase; each purchase's value is Gamma(p, nu).

    Examples
    --------
    >>> s = simulate_customers(1000, seed=1)
    >>> s.columns
    ['customer_id', 'frequency', 'recency', 'T', 'monetary_value']
    >>> bool((s["recency"] <= s["T"]).all())
    True
    """
    pr = {**CDNOW_PARAMS, **(params or {})}
    rng = np.random.default_rng(seed)
    lam = rng.gamma(pr["r"], 1 / pr["alpha"], n)
    drop = rng.beta(pr["a"], pr["b"], n)
    t_obs = rng.uniform(horizon - spread, horizon, n)
    n_arrivals = rng.poisson(lam * t_obs)
    x = np.minimum(n_arrivals, rng.geometric(drop))
    t_x = np.zeros(n)
    for i in np.flatnonzero(x):
        t_x[i] = np.sort(rng.uniform(0, t_obs[i], n_arrivals[i]))[x[i] - 1]
    nu = rng.gamma(pr["q"], 1 / pr["v"], n)
    k = np.maximum(x, 1)
    spend = np.where(x > 0, rng.gamma(pr["p"] * k, 1 / nu) / k, 0.0)
    return pl.DataFrame(
        {
            "customer_id": [f"c{i}" for i in range(n)],
            "frequency": x.astype(np.int64),
            "recency": t_x,
            "T": t_obs,
            "monetary_value": spend,
        }
    )
