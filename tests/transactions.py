"""Small random transaction logs for tests: one generator instead of a copy per test module."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

import polars as pl

__all__ = ["random_transactions"]


def random_transactions(
    n_customers: int = 80, seed: int = 7, *, max_orders: int = 12, days: int = 272
) -> pl.DataFrame:
    """Customers ``C000..`` with 1..``max_orders`` orders each, on random days of 2011's first
    ``days`` days: canonical ``customer_id, order_id, timestamp, amount`` (seeded, so tests that
    pin figures on it stay stable)."""
    rng = random.Random(seed)
    rows = []
    start = datetime(2011, 1, 1)
    for c in range(n_customers):
        for k in range(rng.randint(1, max_orders)):
            when = start + timedelta(days=rng.randint(0, days), hours=rng.randint(8, 18))
            rows.append((f"C{c:03d}", f"O{c:03d}-{k}", when, round(rng.uniform(5, 400), 2)))
    return pl.DataFrame(
        rows,
        schema={
            "customer_id": pl.String,
            "order_id": pl.String,
            "timestamp": pl.Datetime("us"),
            "amount": pl.Float64,
        },
        orient="row",
    )
