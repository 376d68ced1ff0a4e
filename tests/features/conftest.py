"""Fixtures for the features tests: one Spark session per run, a hand-built table, real data."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from seglens.io import LoadedTable


def ts(text: str) -> dt.datetime:
    """A naive timestamp from ``YYYY-MM-DD[ HH:MM[:SS]]``."""
    return dt.datetime.fromisoformat(text)


def known_lines() -> pl.DataFrame:
    """The hand-built table of ``test_known_answers.py`` (as_of 2024-03-31).

    A: returns, two orders on one day, gaps 10 and 30 days, a line after as_of.
    B: a single purchase in the last second of as_of's day.
    C: first purchase just after as_of (absent from the features).
    D: only a return (absent: no purchase).
    E: two purchase days, one line with no product, category or channel.
    """
    rows = [
        # customer, order, timestamp, amount, product, category, channel, is_return
        ("A", "o1", "2024-01-01 10:00", 10.0, "p1", "X", "web", False),
        ("A", "o1", "2024-01-01 10:00", 20.0, "p2", "Y", "web", False),
        ("A", "o2", "2024-01-01 15:00", 5.0, "p1", "X", "store", False),
        ("A", "o3", "2024-01-11 09:00", 40.0, "p3", "X", "web", False),
        ("A", "r1", "2024-01-15 12:00", -10.0, "p3", "X", "web", True),
        ("A", "o4", "2024-02-10 18:30", 30.0, "p2", "Y", "web", False),
        ("A", "o5", "2024-04-05 09:00", 100.0, "p1", "X", "web", False),
        ("B", "o6", "2024-03-31 23:59:59", 50.0, "p4", "Z", "store", False),
        ("C", "o7", "2024-04-01 00:00", 70.0, "p4", "Z", "store", False),
        ("D", "r2", "2024-02-01 11:00", -20.0, "p1", "X", "web", True),
        ("E", "e1", "2023-03-15 08:00", 20.0, "p4", "Z", "web", False),
        ("E", "e2", "2023-12-20 08:00", 10.0, None, None, None, False),
    ]
    names = [
        "customer_id",
        "order_id",
        "timestamp",
        "amount",
        "product_id",
        "category",
        "channel",
        "is_return",
    ]
    frame = pl.DataFrame(rows, schema=names, orient="row")
    return frame.with_columns(pl.col("timestamp").str.to_datetime())


@pytest.fixture
def lines() -> pl.DataFrame:
    """The hand-built known-answer table."""
    return known_lines()


@pytest.fixture(scope="session")
def online_retail(online_retail_loaded: LoadedTable) -> pl.DataFrame:
    """The UCI Online Retail lines as the canonical table (loaded once per worker, shared)."""
    return online_retail_loaded.table
