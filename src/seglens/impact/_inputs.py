"""The customer table and the default segments behind every impact figure, as of a date.

There is one RFM definition in seglens: the features are
:func:`seglens.features.customer_features` and the segments are
:class:`seglens.segmenters.RFMSegmenter` (default settings unless a segmenter is given), fitted
and assigned on those features - the same as ``seglens features`` followed by
``seglens segment --method rfm``, and what ``seglens track`` records. ``clv``, ``economics``,
``forecast`` and ``discover`` take their default segments from here.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any, Final

import polars as pl

from seglens.errors import DataError
from seglens.features import customer_features
from seglens.features.catalog import FeatureSet

__all__ = ["DISCOVER_COLUMNS", "customer_table", "rfm_assignments", "rfm_segments"]

DISCOVER_COLUMNS: Final[tuple[str, ...]] = (
    "days_since_last_purchase",
    "n_orders",
    "total_spend",
    "avg_order_value",
    "tenure_days",
)
"""The ``customer_features`` columns ``seglens discover`` measures fit and writes rules on."""


def customer_table(
    transactions: pl.DataFrame,
    *,
    as_of: dt.date,
    feature_set: FeatureSet = "all",
    columns: Mapping[str, str] | None = None,
) -> pl.DataFrame:
    """One row per customer with a purchase on or before ``as_of`` (its whole day included).

    Parameters
    ----------
    transactions
        Canonical transaction lines (:data:`seglens.tables.TRANSACTIONS`).
    as_of
        The cut-off day; later lines are ignored.
    feature_set, columns
        Passed to :func:`seglens.features.customer_features` (``columns``: canonical name ->
        source column).

    Returns
    -------
    polars.DataFrame
        ``customer_features(...).table``, sorted by ``customer_id``.

    Raises
    ------
    DataError
        No customer bought on or before ``as_of``.

    Examples
    --------
    >>> import datetime as dt, polars as pl
    >>> tx = pl.DataFrame({"customer_id": ["a", "a", "b"], "order_id": ["1", "2", "3"],
    ...     "timestamp": [dt.datetime(2024, 1, 1), dt.datetime(2024, 1, 11),
    ...                   dt.datetime(2024, 1, 5)], "amount": [10.0, 30.0, 5.0]})
    >>> t = customer_table(tx, as_of=dt.date(2024, 1, 31), feature_set="rfm")
    >>> t.select("customer_id", "days_since_last_purchase", "n_orders", "total_spend").rows()
    [('a', 20, 2, 40.0), ('b', 26, 1, 5.0)]
    """
    mapping = {k: v for k, v in (columns or {}).items() if k != v} or None
    table = customer_features(
        transactions, as_of=as_of, feature_set=feature_set, columns=mapping
    ).table
    if table.height == 0:
        raise DataError(f"no customer bought on or before {as_of}")
    return table


def rfm_assignments(features: pl.DataFrame, *, segmenter: Any = None) -> pl.DataFrame:
    """Fit a segmenter on a customer table and assign every customer: ``customer_id``, ``segment``.

    Parameters
    ----------
    features
        One row per customer, e.g. :func:`customer_table`.
    segmenter
        An unfitted seglens segmenter; a clone is fitted. Default: ``RFMSegmenter()``.

    Returns
    -------
    polars.DataFrame
        ``customer_id`` and ``segment`` (strings), in the order of ``features``.
    """
    from sklearn.base import clone

    from seglens.segmenters import RFMSegmenter

    model = RFMSegmenter() if segmenter is None else clone(segmenter)
    out: pl.DataFrame = model.fit(features).assign(features)
    return out.select(pl.col("customer_id").cast(pl.String), pl.col("segment").cast(pl.String))


def rfm_segments(
    transactions: pl.DataFrame, *, as_of: dt.date, segmenter: Any = None
) -> pl.DataFrame:
    """The default segments as of a date: ``RFMSegmenter`` on ``customer_features`` at ``as_of``.

    Examples
    --------
    >>> import datetime as dt, polars as pl
    >>> day = lambda m, d: dt.datetime(2024, m, d)
    >>> tx = pl.DataFrame({"customer_id": ["a", "a", "a", "b", "b", "c"],
    ...     "order_id": ["1", "2", "3", "4", "5", "6"],
    ...     "timestamp": [day(1, 2), day(2, 2), day(3, 25), day(1, 5), day(2, 1), day(1, 3)],
    ...     "amount": [300.0, 200.0, 100.0, 50.0, 40.0, 5.0]})
    >>> rfm_segments(tx, as_of=dt.date(2024, 3, 31)).rows()
    [('a', 'Champions'), ('b', 'Need attention'), ('c', 'Lost')]
    """
    return rfm_assignments(
        customer_table(transactions, as_of=as_of, feature_set="rfm"), segmenter=segmenter
    )
