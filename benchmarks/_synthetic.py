"""Synthetic canonical transactions from a fixed seed, written as Parquet parts.

Orders arrive in time order (as exports usually do): 2 years, ~2 lines per order, customers drawn
with a skew (a few heavy buyers, many one-off), 3 % return lines with negative amounts, 10,000
products in 20 categories, 3 channels.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import polars as pl

DATA = Path(__file__).resolve().parent / ".data"
START = dt.datetime(2022, 1, 1)
SPAN_S = 2 * 365 * 86400
CHUNK = 5_000_000


def _chunk(rng: np.random.Generator, lo: int, n: int, rows: int, customers: int) -> pl.DataFrame:
    order = (np.arange(lo, lo + n) // 2).astype(np.int64)
    n_orders = max(rows // 2, 1)
    # order times increase with the order number (time-ordered export), jittered within an hour
    secs = order * (SPAN_S // n_orders) + rng.integers(0, 3600, n)
    # per-order customer: skewed so that some customers buy often and many buy once
    heavy = (rng.pareto(1.2, n) * customers / 8).astype(np.int64) % customers
    cust = np.where(rng.random(n) < 0.5, heavy, rng.integers(0, customers, n))
    # one customer per order: take the customer of the order's first line
    first = np.r_[True, order[1:] != order[:-1]]
    idx = np.maximum.accumulate(np.where(first, np.arange(n), 0))
    cust = cust[idx]
    secs = secs[idx]
    is_return = rng.random(n) < 0.03
    amount = np.round(rng.lognormal(2.5, 1.0, n), 2)
    amount = np.where(is_return, -amount, amount)
    product = rng.integers(0, 10_000, n)
    channel = np.array(["web", "store", "app"])[rng.integers(0, 3, n)]
    return pl.DataFrame(
        {
            "customer_id": cust,
            "order_id": order,
            "timestamp": (np.datetime64(START, "us") + secs.astype("timedelta64[s]")).astype(
                "datetime64[us]"
            ),
            "amount": amount,
            "quantity": rng.integers(1, 6, n).astype(np.float64),
            "product_id": product,
            "category": product % 20,
            "channel": channel,
            "is_return": is_return,
        }
    ).with_columns(
        pl.format("C{}", pl.col("customer_id").cast(pl.String).str.zfill(7)).alias("customer_id"),
        pl.format("O{}", pl.col("order_id").cast(pl.String).str.zfill(9)).alias("order_id"),
        pl.format("P{}", pl.col("product_id").cast(pl.String).str.zfill(5)).alias("product_id"),
        pl.format("cat{}", pl.col("category")).alias("category"),
    )


def synthetic_transactions(rows: int, customers: int, seed: int = 20240601) -> Path:
    """Write (once) and return the folder of Parquet parts for ``rows`` lines."""
    folder = DATA / f"tx_{rows}_{customers}_{seed}"
    done = folder / "_SUCCESS"
    if done.exists():
        return folder
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    for k, lo in enumerate(range(0, rows, CHUNK)):
        n = min(CHUNK, rows - lo)
        _chunk(rng, lo, n, rows, customers).write_parquet(
            folder / f"part-{k:04d}.parquet", row_group_size=1_000_000
        )
    done.touch()
    return folder
