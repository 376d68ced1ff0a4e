"""Periods: a calibration/holdout split for out-of-time validation, and quarterly snapshots."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

import narwhals as nw
import polars as pl

from seglens.errors import UsageError
from seglens.features._cutoff import AsOf, resolve_cutoff
from seglens.features._input import Engine, canonical_lines, latest_timestamp, native_on_engine
from seglens.features.api import _pick_engine, customer_features
from seglens.features.catalog import FeatureSet
from seglens.features.definition import feature_frame

__all__ = ["HOLDOUT_COLUMNS", "calibration_holdout", "quarter_ends", "quarterly_snapshots"]

HOLDOUT_COLUMNS = (
    "holdout_purchase_days",
    "holdout_orders",
    "holdout_spend",
    "holdout_came_back",
    "holdout_days",
)
"""Outcome columns added by :func:`calibration_holdout`."""


def _outcomes(lines: nw.LazyFrame[Any], start: dt.datetime, end: AsOf) -> pl.DataFrame:
    """Per customer, purchases in ``(start, end]``: purchase days, orders and net spend."""
    after = lines.filter(nw.col("timestamp") > nw.lit(start))
    cutoff = resolve_cutoff(end, None)
    frame = feature_frame(after, cutoff, feature_set="rfm").select(
        "customer_id",
        (nw.col("frequency") + 1).cast(nw.Int64).alias("holdout_purchase_days"),
        nw.col("n_orders").alias("holdout_orders"),
        nw.col("total_spend").alias("holdout_spend"),
    )
    out = frame.collect(backend="polars").to_native()
    assert isinstance(out, pl.DataFrame)
    return out


def calibration_holdout(
    transactions: object,
    *,
    calibration_end: AsOf,
    holdout_end: AsOf = None,
    feature_set: FeatureSet = "all",
    columns: Mapping[str, str] | None = None,
    engine: Engine = "auto",
    spark: Any = None,
) -> pl.DataFrame:
    """Features up to ``calibration_end`` and what each customer did in the following window.

    The features are those of :func:`customer_features` with ``as_of=calibration_end`` (so only
    customers who bought by then). The outcome columns cover lines after ``calibration_end`` up to
    ``holdout_end`` (default: the latest transaction): ``holdout_purchase_days`` (distinct
    purchase days), ``holdout_orders``, ``holdout_spend`` (net of returns), ``holdout_came_back``
    (at least one purchase) and ``holdout_days`` (length of the window in days). Customers with no
    purchase in the window have 0 / False.

    Examples
    --------
    >>> import datetime as dt, polars as pl
    >>> ts = [dt.datetime(2024, 1, 1), dt.datetime(2024, 3, 1), dt.datetime(2024, 1, 9)]
    >>> lines = pl.DataFrame({"customer_id": ["a", "a", "b"], "order_id": ["1", "2", "3"],
    ...     "timestamp": ts, "amount": [10.0, 30.0, 5.0]})
    >>> out = calibration_holdout(lines, calibration_end="2024-01-31", holdout_end="2024-03-31",
    ...                           feature_set="lifetimes")
    >>> out.select("customer_id", "holdout_came_back", "holdout_spend", "holdout_days").rows()
    [('a', True, 30.0, 60), ('b', False, 0.0, 60)]
    """
    chosen = _pick_engine(transactions, engine)
    native = native_on_engine(transactions, chosen, spark)
    lines = canonical_lines(nw.from_native(native), columns)
    cal = resolve_cutoff(calibration_end, None)
    hold = resolve_cutoff(holdout_end, None if holdout_end is not None else latest_timestamp(lines))
    if hold.as_of <= cal.as_of:
        raise UsageError(
            f"holdout_end {hold.as_of} is not after calibration_end {cal.as_of}",
            hint="choose a holdout window after the calibration cut-off",
        )
    features = customer_features(
        native,
        as_of=cal.as_of,
        feature_set=feature_set,
        columns=columns,
        engine=chosen,
        spark=spark,
    ).table
    outcomes = _outcomes(lines, cal.as_of, hold.as_of)
    out = features.join(outcomes, on="customer_id", how="left").with_columns(
        pl.col("holdout_purchase_days").fill_null(0),
        pl.col("holdout_orders").fill_null(0),
        pl.col("holdout_spend").fill_null(0.0),
    )
    return out.with_columns(
        (pl.col("holdout_purchase_days") > 0).alias("holdout_came_back"),
        pl.lit(hold.day - cal.day, dtype=pl.Int64).alias("holdout_days"),
    )


def quarter_ends(first: dt.date, last: dt.date) -> list[dt.date]:
    """Last days of the calendar quarters ending within ``[first, last]``.

    Examples
    --------
    >>> quarter_ends(dt.date(2010, 12, 1), dt.date(2011, 7, 2))
    [datetime.date(2010, 12, 31), datetime.date(2011, 3, 31), datetime.date(2011, 6, 30)]
    """
    out: list[dt.date] = []
    year, quarter = first.year, (first.month - 1) // 3 + 1
    while True:
        month = quarter * 3
        end = dt.date(year + (month == 12), month % 12 + 1, 1) - dt.timedelta(days=1)
        if end > last:
            return out
        if end >= first:
            out.append(end)
        year, quarter = (year + 1, 1) if quarter == 4 else (year, quarter + 1)


def quarterly_snapshots(
    transactions: object,
    *,
    feature_set: FeatureSet = "all",
    include_latest: bool = True,
    columns: Mapping[str, str] | None = None,
    engine: Engine = "auto",
    spark: Any = None,
) -> pl.DataFrame:
    """Features as of each quarter end (for tracking), stacked with ``period`` and ``as_of``.

    One snapshot per calendar quarter ending within the data, plus (``include_latest``) one as of
    the latest transaction's day when that is not a quarter end, labelled e.g. ``2011Q4*``
    (a partial quarter). Channel-share columns present in some snapshots only are null elsewhere.

    Examples
    --------
    >>> import datetime as dt, polars as pl
    >>> lines = pl.DataFrame({"customer_id": ["a", "a"], "order_id": ["1", "2"],
    ...     "timestamp": [dt.datetime(2024, 2, 1), dt.datetime(2024, 5, 1)], "amount": [1.0, 2.0]})
    >>> snaps = quarterly_snapshots(lines, feature_set="lifetimes")
    >>> snaps.select("period", "frequency", "T").rows()
    [('2024Q1', 0.0, 59.0), ('2024Q2*', 1.0, 90.0)]
    """
    chosen = _pick_engine(transactions, engine)
    native = native_on_engine(transactions, chosen, spark)
    lines = canonical_lines(nw.from_native(native), columns)
    span = (
        lines.select(nw.col("timestamp").min().alias("lo"), nw.col("timestamp").max().alias("hi"))
        .collect(backend="polars")
        .to_native()
    )
    lo, hi = span.row(0)
    if lo is None:
        raise UsageError("there are no transactions to snapshot")
    ends = [(f"{d.year}Q{(d.month - 1) // 3 + 1}", d) for d in quarter_ends(lo.date(), hi.date())]
    if include_latest and (not ends or ends[-1][1] != hi.date()):
        d = hi.date()
        ends.append((f"{d.year}Q{(d.month - 1) // 3 + 1}*", d))
    frames = []
    for label, end in ends:
        table = customer_features(
            native, as_of=end, feature_set=feature_set, columns=columns, engine=chosen, spark=spark
        ).table
        frames.append(
            table.select(
                pl.lit(label).alias("period"),
                pl.lit(end).alias("as_of"),
                pl.all(),
            )
        )
    return pl.concat(frames, how="diagonal_relaxed")
