"""The one feature definition, written once in Narwhals and run by Polars, DuckDB and Spark.

Every feature of :mod:`seglens.features.catalog` is defined here as a lazy query over canonical
transaction lines. The embedded fast path (:mod:`seglens.features._fast`) is checked against this
definition by the tests; Spark and DuckDB run this definition directly.

Portability notes (gaps found in Narwhals 2.29 across the three engines): days are integer keys
computed from year and ordinal day (date arithmetic differs per engine), the first purchase day
comes from ``min().over(...)``, and distinct counts never see nulls (Polars counts a null as a
value, Spark does not).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import narwhals as nw

from seglens.features._cutoff import Cutoff
from seglens.features.catalog import FeatureSet, feature_names

__all__ = ["ChannelColumn", "feature_frame"]

ID = "customer_id"
SCALE = 10_000
"""Money is summed as integer ten-thousandths of a currency unit (exact, identical on every
engine, so a purchase and its return net to exactly 0); results are divided back."""
_NULL_KEY = "\x00seglens-null"


@dataclass(frozen=True)
class ChannelColumn:
    """One channel-share output column: the channel value and the column name it becomes."""

    value: str
    column: str


def _day_key(ts: nw.Expr) -> nw.Expr:
    """Days since 0001-01-01 from year and ordinal day (portable: no date arithmetic)."""
    y = ts.dt.year().cast(nw.Int64) - 1
    return y * 365 + y // 4 - y // 100 + y // 400 + ts.dt.ordinal_day().cast(nw.Int64) - 1


def _distinct_non_null(name: str) -> nw.Expr:
    """Distinct non-null values, the same on every engine."""
    filled = nw.col(name).cast(nw.String).fill_null(_NULL_KEY)
    has_null = nw.when(nw.col(name).is_null()).then(1).otherwise(0).max()
    return filled.n_unique() - has_null


def _lines(frame: nw.LazyFrame[Any], cutoff: Cutoff, has_return_flag: bool) -> nw.LazyFrame[Any]:
    """Lines up to the cut-off with the helper columns ``_day``, ``_month`` and ``_ret``."""
    ts = nw.col("timestamp")
    if has_return_flag:
        ret = nw.col("is_return").fill_null(nw.col("amount") < 0)
    else:
        ret = nw.col("amount") < 0
    return frame.filter(ts < nw.lit(cutoff.end)).with_columns(
        _day=_day_key(ts),
        _month=ts.dt.year().cast(nw.Int64) * 12 + ts.dt.month().cast(nw.Int64),
        _ret=ret,
        _units=(nw.col("amount") * SCALE + 0.5).floor().cast(nw.Int64),
    )


def _day_features(purchases: nw.LazyFrame[Any], cutoff: Cutoff, full: bool) -> nw.LazyFrame[Any]:
    """Per customer: purchase-day statistics (the lifetimes columns and their relatives)."""
    days = purchases.group_by(ID, "_day").agg(
        nw.col("_units").sum().alias("_day_total"), nw.col("_month").min().alias("_month")
    )
    extra: list[nw.Expr] = []
    helpers: dict[str, nw.Expr] = {"_first": nw.col("_day").min().over(ID)}
    if full:
        helpers["_gap"] = nw.col("_day").diff().over(ID, order_by="_day")
        helpers["_month_start"] = nw.col("_day").min().over(ID, "_month")
        in_window = nw.col("_month") >= cutoff.month - 11
        first_of_month = nw.col("_day") == nw.col("_month_start")
        extra = [
            nw.col("_gap").std(ddof=1).alias("_gap_std"),
            nw.when(in_window & first_of_month).then(1).otherwise(0).sum().alias("_months"),
        ]
    days = days.with_columns(**helpers)
    repeat = nw.when(nw.col("_day") > nw.col("_first")).then(nw.col("_day_total"))
    return days.group_by(ID).agg(
        nw.len().alias("_n_days"),
        nw.col("_day").min().alias("_first_day"),
        nw.col("_day").max().alias("_last_day"),
        repeat.mean().alias("_repeat_mean"),
        *extra,
    )


def _line_features(
    lines: nw.LazyFrame[Any], cutoff: Cutoff, channels: Sequence[ChannelColumn]
) -> nw.LazyFrame[Any]:
    """Per customer: sums over all lines (net spend, windows, returns, channel amounts)."""
    amount, day, ret = nw.col("_units"), nw.col("_day"), nw.col("_ret")
    last = (day > cutoff.day - 90) & (day <= cutoff.day)
    prev = (day > cutoff.day - 180) & (day <= cutoff.day - 90)
    sums = [
        amount.sum().alias("_total"),
        nw.when(last).then(amount).otherwise(0).sum().alias("_last90"),
        nw.when(prev).then(amount).otherwise(0).sum().alias("_prev90"),
        nw.when(~ret).then(amount).otherwise(0).sum().alias("_bought"),
        nw.when(ret).then(-amount).otherwise(0).sum().alias("_returned"),
    ]
    if channels:
        channel = nw.col("channel").cast(nw.String).fill_null("unknown")
        sums += [
            nw.when(~ret & (channel == c.value)).then(amount).otherwise(0).sum().alias(c.column)
            for c in channels
        ]
    return lines.group_by(ID).agg(*sums)


def _order_features(
    purchases: nw.LazyFrame[Any], returns: nw.LazyFrame[Any], present: set[str]
) -> tuple[nw.LazyFrame[Any], nw.LazyFrame[Any]]:
    """Per customer: distinct orders, products, categories; distinct returned orders."""
    counts = [_distinct_non_null("order_id").alias("_n_orders")]
    if "product_id" in present:
        counts.append(_distinct_non_null("product_id").alias("_n_products"))
    if "category" in present:
        counts.append(_distinct_non_null("category").alias("_n_categories"))
    returned = returns.group_by(ID).agg(_distinct_non_null("order_id").alias("_n_returned"))
    return purchases.group_by(ID).agg(*counts), returned


def _category_top(purchases: nw.LazyFrame[Any]) -> nw.LazyFrame[Any]:
    """Per customer: purchase amount in the largest category (a missing category is one)."""
    by_cat = (
        purchases.with_columns(_cat=nw.col("category").cast(nw.String).fill_null(_NULL_KEY))
        .group_by(ID, "_cat")
        .agg(nw.col("_units").sum().alias("_cat_total"))
    )
    return by_cat.group_by(ID).agg(nw.col("_cat_total").max().alias("_top_cat"))


def _ratio(num: nw.Expr, den: nw.Expr) -> nw.Expr:
    """num / den, null where den is not > 0."""
    return nw.when(den > 0).then(num / den)


def feature_frame(
    frame: nw.LazyFrame[Any],
    cutoff: Cutoff,
    *,
    feature_set: FeatureSet = "all",
    channels: Sequence[ChannelColumn] = (),
) -> nw.LazyFrame[Any]:
    """Lazy per-customer features of canonical transaction lines (the single definition).

    ``frame`` holds canonical columns with a naive ``timestamp``; the result has one row per
    customer with at least one purchase line at or before the cut-off, ``customer_id`` first,
    columns as in :func:`seglens.features.catalog.feature_names` and then channel shares.
    """
    present = set(frame.collect_schema().names())
    full = feature_set == "all"
    lines = _lines(frame, cutoff, "is_return" in present)
    purchases = lines.filter(~nw.col("_ret"))
    out = _day_features(purchases, cutoff, full)
    if feature_set != "lifetimes":
        orders, returned = _order_features(purchases, lines.filter(nw.col("_ret")), present)
        out = out.join(orders, on=ID, how="left")
        out = out.join(_line_features(lines, cutoff, channels if full else ()), on=ID, how="left")
        if full:
            out = out.join(returned, on=ID, how="left")
            if "category" in present:
                out = out.join(_category_top(purchases), on=ID, how="left")
    return out.select(nw.col(ID).cast(nw.String), *_finish(present, feature_set, channels, cutoff))


def _finish(
    present: set[str], feature_set: FeatureSet, channels: Sequence[ChannelColumn], cutoff: Cutoff
) -> list[nw.Expr]:
    """The output columns, derived from the helper aggregates, in catalogue order."""
    f64, i64 = nw.Float64, nw.Int64
    freq = nw.col("_n_days") - 1
    recency = nw.col("_last_day") - nw.col("_first_day")
    age = cutoff.day - nw.col("_first_day")
    exprs: dict[str, nw.Expr] = {
        "frequency": freq.cast(f64),
        "recency": recency.cast(f64),
        "T": age.cast(f64),
        "monetary_value": (nw.col("_repeat_mean").fill_null(0.0) / SCALE).cast(f64),
        "days_since_last_purchase": (cutoff.day - nw.col("_last_day")).cast(i64),
        "n_orders": nw.col("_n_orders").cast(i64),
        "total_spend": (nw.col("_total") / SCALE).cast(f64),
        "tenure_days": age.cast(i64),
        "avg_order_value": (nw.col("_total") / nw.col("_n_orders") / SCALE).cast(f64),
        "interpurchase_mean_days": nw.when(freq > 0).then(recency / freq).cast(f64),
        "interpurchase_std_days": nw.when(freq > 1).then(nw.col("_gap_std")).cast(f64),
        "active_months_12m": nw.col("_months").cast(i64),
        "spend_last_90d": (nw.col("_last90") / SCALE).cast(f64),
        "spend_prev_90d": (nw.col("_prev90") / SCALE).cast(f64),
        "spend_trend": _ratio(
            nw.col("_last90") - nw.col("_prev90"),
            nw.col("_last90").abs() + nw.col("_prev90").abs(),
        ).cast(f64),
        "return_rate_value": _ratio(nw.col("_returned"), nw.col("_bought")).cast(f64),
        "return_rate_count": (nw.col("_n_returned").fill_null(0) / nw.col("_n_orders")).cast(f64),
    }
    if "product_id" in present:
        exprs["n_products"] = nw.col("_n_products").cast(i64)
    if "category" in present:
        exprs["n_categories"] = nw.col("_n_categories").cast(i64)
        exprs["top_category_share"] = _ratio(nw.col("_top_cat"), nw.col("_bought")).cast(f64)
    out = [exprs[n].alias(n) for n in feature_names(feature_set) if n in exprs]
    if feature_set == "all":
        out += [
            _ratio(nw.col(c.column), nw.col("_bought")).cast(f64).alias(c.column) for c in channels
        ]
    return out
