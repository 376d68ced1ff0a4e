"""Transactions -> one row per customer in the form the CLV models read.

The shape follows pymc-marketing's ``rfm_summary`` (and lifetimes' ``summary_data_from_
transaction_data``): purchases are pooled per customer per day; ``frequency`` counts the days with
a purchase after the first one, ``recency`` is first-to-last purchase day, ``T`` is first purchase
day to the observation end, ``monetary_value`` the mean spend on the repeat purchase days (0 when
there is none). Days whose net amount is negative (returns only) are not purchases; zero-value
orders are (as in the CDNOW data of Fader, Hardie & Lee).
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

import polars as pl

from seglens.errors import DataError, UsageError

__all__ = ["UNIT_DAYS", "clv_summary"]

UNIT_DAYS: dict[str, float] = {"days": 1.0, "weeks": 7.0}


def clv_summary(
    transactions: pl.DataFrame,
    *,
    observation_period_end: dt.date | dt.datetime,
    customer_id_col: str = "customer_id",
    datetime_col: str = "timestamp",
    monetary_value_col: str = "amount",
    unit: Literal["days", "weeks"] = "days",
) -> pl.DataFrame:
    """Per-customer ``frequency``, ``recency``, ``T``, ``monetary_value`` and ``total_spend``.

    Parameters
    ----------
    transactions
        One row per order line (``seglens.tables.TRANSACTIONS`` shape, or any frame with the
        three named columns).
    observation_period_end
        Last day of the calibration period (inclusive); later rows are ignored.
    customer_id_col, datetime_col, monetary_value_col
        Column names.
    unit
        Time unit of ``recency`` and ``T``: ``"days"`` or ``"weeks"`` (7 days).

    Returns
    -------
    polars.DataFrame
        ``customer_id``, ``frequency``, ``recency``, ``T``, ``monetary_value``, ``total_spend``,
        ``first_purchase``, ``last_purchase``.

    Examples
    --------
    >>> import datetime as dt, polars as pl
    >>> tx = pl.DataFrame({
    ...     "customer_id": ["a", "a", "a", "b"],
    ...     "timestamp": [dt.datetime(2024, 1, 1), dt.datetime(2024, 1, 8),
    ...                   dt.datetime(2024, 1, 15), dt.datetime(2024, 1, 10)],
    ...     "amount": [10.0, 20.0, 40.0, 5.0]})
    >>> s = clv_summary(tx, observation_period_end=dt.date(2024, 1, 29), unit="weeks")
    >>> s.select("customer_id", "frequency", "recency", "monetary_value").rows()
    [('a', 2, 2.0, 30.0), ('b', 0, 0.0, 0.0)]
    >>> s["T"].round(3).to_list()
    [4.0, 2.714]
    """
    if unit not in UNIT_DAYS:
        raise UsageError(f"unknown time unit {unit!r}", hint="use 'days' or 'weeks'")
    for col in (customer_id_col, datetime_col, monetary_value_col):
        if col not in transactions.columns:
            raise DataError(f"column {col!r} is missing", column=col)
    end = observation_period_end
    end_date = end.date() if isinstance(end, dt.datetime) else end
    per_day = (
        transactions.select(
            pl.col(customer_id_col).cast(pl.String).alias("customer_id"),
            pl.col(datetime_col).cast(pl.Date).alias("day"),
            pl.col(monetary_value_col).cast(pl.Float64).alias("amount"),
        )
        .filter(pl.col("day") <= end_date, pl.col("customer_id").is_not_null())
        .group_by("customer_id", "day")
        .agg(pl.col("amount").sum())
        .filter(pl.col("amount") >= 0)
        .sort("customer_id", "day")
    )
    if per_day.height == 0:
        raise DataError(
            f"no purchases on or before {end_date}",
            hint="check the as-of date and that amounts are positive for purchases",
        )
    days = UNIT_DAYS[unit]
    first = pl.col("day").min()
    end_lit = pl.lit(end_date, dtype=pl.Date)
    return (
        per_day.group_by("customer_id")
        .agg(
            (pl.len() - 1).cast(pl.Int64).alias("frequency"),
            ((pl.col("day").max() - first).dt.total_days() / days).alias("recency"),
            ((end_lit - first).dt.total_days() / days).alias("T"),
            pl.col("amount")
            .filter(pl.col("day") > first)
            .mean()
            .fill_null(0.0)
            .alias("monetary_value"),
            pl.col("amount").sum().alias("total_spend"),
            first.alias("first_purchase"),
            pl.col("day").max().alias("last_purchase"),
        )
        .sort("customer_id")
    )
