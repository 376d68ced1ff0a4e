"""The embedded engine's tuned Polars query, equal to :mod:`seglens.features.definition`.

What makes it fast (the work, not the library):

* **One integer key per customer-day.** The customer id is hashed once (vectorised, no hash
  table); its high bits and the day number (low :data:`DAY_BITS` bits) form a single ``UInt64``
  key, so the customer-day aggregation is an integer group-by instead of a string + date one.
* **One pass over the lines** gives every per-day sum the features need (purchases, net, returns,
  channels); everything else works on the much smaller customer-day table. Both group-bys run
  on Polars' streaming engine (about twice as fast here as the in-memory one on these shapes).
* **Sorted keys instead of windows.** Sorting customer-days by that key orders each customer's
  days, so gaps and month changes are shifts, not window functions.
* **Ids once per customer.** The group-bys keep the number of a line of each customer
  (``_row``), so the id text is gathered for one line per customer; the result is sorted by id
  through an order-preserving integer prefix of the id where the ids allow (:func:`_sort_by_id`).

Hash collisions are detected, not assumed away: every key group also carries the min and max of a
second, independent 32-bit hash of the id; if they differ anywhere (or a day lies before the key's
358-year window), the query falls back to the portable definition. The tests assert both give
the same table.
"""

from __future__ import annotations

import datetime as dt
import logging

import narwhals as nw
import polars as pl

from seglens.features._cutoff import Cutoff
from seglens.features.catalog import FeatureSet, feature_names
from seglens.features.definition import SCALE, ChannelColumn, feature_frame

__all__ = ["fast_features"]

log = logging.getLogger(__name__)

DAY_BITS = 17
"""Low bits of the key holding the day offset: spans up to 358 years."""
_SPAN = 1 << DAY_BITS
EPOCH_ORDINAL = dt.date(1970, 1, 1).toordinal() - 1
ID = "customer_id"
_CUSTOMER = pl.col("_k") // _SPAN
"""The customer part (id hash prefix) of a customer-day key."""
_OFFSET = pl.col("_k") % _SPAN
"""The day part of a customer-day key: days since :func:`_key_base`."""


_ID_HASH = pl.col(ID).hash(seed=0)
"""The id hash whose high bits are a key's customer part."""
_CHECK = (pl.col(ID).hash(seed=7) // (1 << 32)).cast(pl.UInt32)
"""A second, 32-bit hash of the id: its min and max per key group differ if the group holds two
ids (missed only if those ids also share these 32 bits: for 2 M customers, a chance of about
1e-2 that any two ids share a key prefix times 2^-32 that they share this hash too). 32 bits
rather than 64 keep the customer-day table 8 bytes a row smaller: 0.3 GB less peak memory at
50 M lines."""


def _key_base(cutoff: Cutoff) -> int:
    """Day number of key offset 0: offsets count from :data:`DAY_BITS` days before the cut-off."""
    return cutoff.day - (1 << DAY_BITS) + 1


def _key_day(cutoff: Cutoff) -> pl.Expr:
    """The day number of a customer-day key."""
    return _OFFSET.cast(pl.Int64) + _key_base(cutoff)


class _CollisionError(Exception):
    """Two ids share a hash prefix: use the portable definition instead."""


def _prepare(lines: pl.LazyFrame, cutoff: Cutoff, has_flag: bool) -> pl.LazyFrame:
    ret = pl.col("is_return").fill_null(pl.col("amount") < 0) if has_flag else pl.col("amount") < 0
    day = pl.col("timestamp").dt.date().cast(pl.Int32) + EPOCH_ORDINAL
    # keys are relative to the cut-off day so they fit in DAY_BITS for any 358-year window
    offset = day - _key_base(cutoff)
    return (
        lines.filter(pl.col("timestamp") < cutoff.end)
        .with_row_index("_row")
        .with_columns(
            _ret=ret,
            _units=(pl.col("amount") * SCALE + 0.5).floor().cast(pl.Int64),
            _k=(_ID_HASH // _SPAN) * _SPAN + offset.clip(0).cast(pl.UInt64),
        )
    )


def _day_table(
    lines: pl.LazyFrame, money: bool, channels: list[ChannelColumn], has_channel: bool
) -> pl.LazyFrame:
    """Per customer-day sums (one integer-key group-by). Without ``money`` the lines are
    purchases only, so every day is a purchase day and the table has no ``_has_buy`` column."""
    amount, ret = pl.col("_units"), pl.col("_ret")
    aggs = [_CHECK.min().alias("_c1"), _CHECK.max().alias("_c2"), pl.col("_row").min()]
    if not money:
        aggs.append(amount.sum().alias("_buy"))
    else:
        aggs += [
            (~ret).any().alias("_has_buy"),
            pl.when(~ret).then(amount).otherwise(0).sum().alias("_buy"),
            amount.sum().alias("_net"),
            pl.when(ret).then(-amount).otherwise(0).sum().alias("_returned"),
        ]
        if has_channel:
            channel = pl.col("channel").fill_null("unknown")
            aggs += [
                pl.when(~ret & (channel == c.value)).then(amount).otherwise(0).sum().alias(c.column)
                for c in channels
            ]
    return lines.group_by("_k").agg(aggs)


def _buy_days(days: pl.LazyFrame) -> pl.LazyFrame:
    """The purchase days of a customer-day table (all of them where it has no ``_has_buy``)."""
    return days.filter(pl.col("_has_buy")) if "_has_buy" in days.collect_schema() else days


def _check(table: pl.DataFrame) -> None:
    """Raise :class:`_CollisionError` if a key group holds two ids."""
    if table.select((pl.col("_c1") != pl.col("_c2")).any()).item():
        raise _CollisionError


def _money_sums(day: pl.Expr, cutoff: Cutoff, columns: list[str]) -> list[pl.Expr]:
    """Per-customer sums of the customer-day money columns (net, 90-day windows, returns,
    channel purchases); ``day`` is the day number of each customer-day row."""
    last = (day > cutoff.day - 90) & (day <= cutoff.day)
    prev = (day > cutoff.day - 180) & (day <= cutoff.day - 90)
    return [
        pl.col("_net").sum().alias("_total"),
        pl.when(last).then(pl.col("_net")).otherwise(0).sum().alias("_last90"),
        pl.when(prev).then(pl.col("_net")).otherwise(0).sum().alias("_prev90"),
        pl.col("_returned").sum().alias("_returned"),
        *[pl.col(c).sum() for c in columns if c.startswith("channel_share_")],
    ]


def _gaps_and_months(days: pl.DataFrame, cutoff: Cutoff) -> pl.LazyFrame:
    """Per customer: the spread of the gaps between purchase days and the active months.

    Only the key column is sorted (an integer sort): the key orders each customer's days, so
    gaps and month changes are shifts, not window functions.
    """
    keys = _buy_days(days.lazy()).select(pl.col("_k").sort())
    h = _CUSTOMER
    day = _key_day(cutoff)
    date = day.sub(EPOCH_ORDINAL).cast(pl.Date)
    month = date.dt.year().cast(pl.Int64) * 12 + date.dt.month().cast(pl.Int64)
    same = (h == h.shift(1)).fill_null(False)
    new_month = ~same | (month != month.shift(1)).fill_null(True)
    return (
        keys.select(
            h.alias("_h"),
            pl.when(same).then(day.diff()).alias("_gap"),
            (new_month & (month >= cutoff.month - 11)).cast(pl.Int64).alias("_new_month"),
        )
        .group_by("_h")
        .agg(
            pl.col("_gap").std(ddof=1).alias("_gap_std"),
            pl.col("_new_month").sum().alias("_months"),
        )
    )


def _customer_table(days: pl.DataFrame, cutoff: Cutoff, money: bool) -> pl.LazyFrame:
    """Per customer from the customer-day table, for any purchase sums (a sorted group-by)."""
    lf = days.lazy().with_columns(_h=_CUSTOMER, _day=_key_day(cutoff))
    same = pl.col("_h") == pl.col("_h").shift(1)
    buy_days = _buy_days(lf).sort("_k").with_columns(_same=same.fill_null(False))
    checks = [pl.col("_c1").min(), pl.col("_c2").max()]
    aggs = [
        *checks,
        pl.col("_row").min(),
        pl.len().alias("_n_days"),
        pl.col("_day").first().alias("_first_day"),
        pl.col("_day").last().alias("_last_day"),
        pl.when(pl.col("_same")).then(pl.col("_buy")).otherwise(0).sum().alias("_repeat_sum"),
    ]
    rfm = buy_days.group_by("_h").agg(aggs)
    if not money:
        return rfm
    sums = lf.group_by("_h").agg(
        *[c.name.suffix("_all") for c in checks],
        pl.col("_buy").sum().alias("_bought"),
        *_money_sums(pl.col("_day"), cutoff, days.columns),
    )
    both = rfm.join(sums, on="_h", how="left")
    return both.with_columns(
        _c1=pl.min_horizontal("_c1", "_c1_all"),
        _c2=pl.max_horizontal("_c2", "_c2_all"),
    )


BUY_BITS = 46
"""Low bits of the packed (day offset, purchase) value: day purchases up to 2^46 ten-thousandths."""


def _check_days(days: pl.DataFrame) -> bool:
    """Check the customer-day table in one pass; return whether the packed customer step fits.

    Raises :class:`_CollisionError` if a day may lie before the key's window: such days were
    clipped to offset 0 (a day exactly 2^17 - 1 days before the cut-off also lands there).
    Returns whether every day's purchases fit the low :data:`BUY_BITS` bits (non-negative,
    bounded). A streaming query: an eager select over the table's many chunks took 3-8 times
    as long (0.05-0.3 s at 50 M lines).
    """
    bounds = days.lazy().select(
        clipped=(_OFFSET == 0).any(), low=pl.col("_buy").min(), high=pl.col("_buy").max()
    )
    clipped, low, high = bounds.collect(engine="streaming").row(0)
    if clipped:
        raise _CollisionError
    return low is None or (low >= 0 and high < (1 << BUY_BITS))


def _customer_table_packed(days: pl.DataFrame, cutoff: Cutoff, money: bool) -> pl.LazyFrame:
    """Per customer from the customer-day table in one unsorted group-by.

    The first purchase day's spend, which ``monetary_value`` leaves out, is found without sorting:
    each purchase day packs ``offset << BUY_BITS | purchases`` into one integer, whose minimum per
    customer is the first day with its purchases in the low bits. Needs :func:`_check_days`.
    """
    base = _key_base(cutoff)
    packed = _OFFSET * (1 << BUY_BITS) + pl.col("_buy").cast(pl.UInt64)
    if "_has_buy" in days.columns:
        buy_day = pl.col("_has_buy")
        n_days, last_off = buy_day.sum(), pl.when(buy_day).then(_OFFSET).max()
        packed = pl.when(buy_day).then(packed)
    else:  # every day is a purchase day: plain aggregations, no masks
        n_days, last_off = pl.len(), _OFFSET.max()
    aggs = [
        pl.col("_c1").min(),
        pl.col("_c2").max(),
        pl.col("_row").min(),
        n_days.alias("_n_days"),
        last_off.alias("_last_off"),
        packed.min().alias("_packed"),
        pl.col("_buy").sum().alias("_bought"),
    ]
    if money:
        aggs += _money_sums(_key_day(cutoff), cutoff, days.columns)
    per_customer = days.lazy().group_by(_CUSTOMER.alias("_h")).agg(aggs)
    first_buy = (pl.col("_packed") % (1 << BUY_BITS)).cast(pl.Int64)
    return per_customer.filter(pl.col("_n_days") > 0).with_columns(
        _n_days=pl.col("_n_days").cast(pl.UInt32),
        _first_day=(pl.col("_packed") // (1 << BUY_BITS)).cast(pl.Int64) + base,
        _last_day=pl.col("_last_off").cast(pl.Int64) + base,
        _repeat_sum=pl.col("_bought") - first_buy,
    )


def _distinct_per_customer(lines: pl.LazyFrame, column: str, **flags: pl.Expr) -> pl.LazyFrame:
    """One row per (customer, non-null ``column`` value) of ``lines``, with ``flags`` (boolean
    aggregations) per pair. Values are compared by a 64-bit hash: two values of one customer
    could only meet at a chance of 2^-64 per pair."""
    value = pl.col(column).hash(seed=3).alias("_value")
    pairs = lines.filter(pl.col(column).is_not_null()).group_by(_CUSTOMER.alias("_h"), value)
    return pairs.agg(**flags) if flags else pairs.agg()


def _order_counts(lines: pl.LazyFrame, returns: bool) -> pl.LazyFrame:
    """Distinct purchase orders per customer (and, with ``returns``, distinct return orders):
    one group-by on (customer, order) pairs, then a count per customer."""
    ret = pl.col("_ret")
    if not returns:
        pairs = _distinct_per_customer(lines.filter(~ret), "order_id")
        return pairs.group_by("_h").agg(pl.len().alias("_n_orders"))
    pairs = _distinct_per_customer(lines, "order_id", _buy=(~ret).any(), _back=ret.any())
    return pairs.group_by("_h").agg(
        pl.col("_buy").sum().alias("_n_orders"), pl.col("_back").sum().alias("_n_returned")
    )


def _product_counts(lines: pl.LazyFrame) -> pl.LazyFrame:
    """Distinct products bought per customer."""
    pairs = _distinct_per_customer(lines.filter(~pl.col("_ret")), "product_id")
    return pairs.group_by("_h").agg(pl.len().alias("_n_products"))


def _category_stats(lines: pl.LazyFrame) -> pl.LazyFrame:
    """Per customer, from one group-by on (customer, category) over purchases: the distinct
    non-null categories and the purchases of the top category (a missing category counts as
    one category of its own there, as in the definition)."""
    cat = pl.col("category").fill_null("\x00seglens-null").hash(seed=5).alias("_cat")
    per_category = (
        lines.filter(~pl.col("_ret"))
        .group_by(_CUSTOMER.alias("_h"), cat)
        .agg(
            pl.col("_units").sum().alias("_cat_total"),
            pl.col("category").is_not_null().any().alias("_named"),
        )
    )
    return per_category.group_by("_h").agg(
        pl.col("_cat_total").max().alias("_top_cat"),
        pl.col("_named").sum().alias("_n_categories"),
    )


def _counts(lines: pl.LazyFrame, full: bool, present: set[str]) -> list[pl.DataFrame]:
    """The distinct counts (and top category) per customer that the feature set needs."""
    queries = [_order_counts(lines, returns=full)]
    if full and "product_id" in present:
        queries.append(_product_counts(lines))
    if full and "category" in present:
        queries.append(_category_stats(lines))
    # one group-by each: a pair group-by is much faster than n_unique() inside a group-by
    return [q.collect(engine="streaming") for q in queries]


def _finish(
    cust: pl.LazyFrame,
    cutoff: Cutoff,
    feature_set: FeatureSet,
    present: set[str],
    channels: list[ChannelColumn],
) -> pl.LazyFrame:
    """The feature columns from the per-customer sums and counts (the ``_n_*`` counts are
    already 0 where a customer has none of those values: :func:`fast_features` fills them)."""
    freq = pl.col("_n_days") - 1
    recency = pl.col("_last_day") - pl.col("_first_day")
    age = cutoff.day - pl.col("_first_day")
    repeat = pl.when(freq > 0).then(pl.col("_repeat_sum") / freq / SCALE)
    bought = pl.col("_bought")

    def ratio(num: pl.Expr, den: pl.Expr) -> pl.Expr:
        return pl.when(den > 0).then(num / den)

    exprs: dict[str, pl.Expr] = {
        "frequency": freq.cast(pl.Float64),
        "recency": recency.cast(pl.Float64),
        "T": age.cast(pl.Float64),
        "monetary_value": repeat.fill_null(0.0),
        "days_since_last_purchase": (cutoff.day - pl.col("_last_day")).cast(pl.Int64),
        "n_orders": pl.col("_n_orders").cast(pl.Int64),
        "total_spend": pl.col("_total") / SCALE,
        "tenure_days": age.cast(pl.Int64),
        "avg_order_value": pl.col("_total") / pl.col("_n_orders") / SCALE,
        "interpurchase_mean_days": pl.when(freq > 0).then(recency / freq),
        "interpurchase_std_days": pl.when(freq > 1).then(pl.col("_gap_std")),
        "active_months_12m": pl.col("_months").cast(pl.Int64),
        "spend_last_90d": pl.col("_last90") / SCALE,
        "spend_prev_90d": pl.col("_prev90") / SCALE,
        "spend_trend": ratio(
            pl.col("_last90") - pl.col("_prev90"), pl.col("_last90").abs() + pl.col("_prev90").abs()
        ),
        "return_rate_value": ratio(pl.col("_returned"), bought),
        "return_rate_count": pl.col("_n_returned") / pl.col("_n_orders"),
    }
    if "product_id" in present:
        exprs["n_products"] = pl.col("_n_products").cast(pl.Int64)
    if "category" in present:
        exprs["n_categories"] = pl.col("_n_categories").cast(pl.Int64)
        exprs["top_category_share"] = ratio(pl.col("_top_cat"), bought)
    out = [
        exprs[n].cast(pl.Float64 if n not in _INTS else pl.Int64).alias(n)
        for n in feature_names(feature_set)
        if n in exprs
    ]
    if feature_set == "all":
        out += [ratio(pl.col(c.column), bought).alias(c.column) for c in channels]
    return cust.select(pl.col(ID), *out)


_INTS = {
    "days_since_last_purchase",
    "n_orders",
    "tenure_days",
    "active_months_12m",
    "n_products",
    "n_categories",
}


def _portable(
    lines: pl.LazyFrame, cutoff: Cutoff, feature_set: FeatureSet, channels: list[ChannelColumn]
) -> pl.DataFrame:
    frame = feature_frame(nw.from_native(lines), cutoff, feature_set=feature_set, channels=channels)
    out = frame.collect(backend="polars").to_native()
    assert isinstance(out, pl.DataFrame)
    return out.sort(ID)


def _with_ids(cust: pl.DataFrame, prepared: pl.LazyFrame) -> pl.DataFrame:
    """Add each customer's id text, taken from the line whose number ``_row`` the group-bys
    kept: one streaming pass keeps just those lines (one id per customer in memory)."""
    rows = cust.get_column("_row")
    ids = prepared.select("_row", ID).filter(pl.col("_row").is_in(rows.implode()))
    return cust.join(ids.collect(engine="streaming"), on="_row", how="left")


def _sort_by_id(table: pl.DataFrame) -> pl.DataFrame:
    """Sort by ``customer_id``: by its first 8 bytes as a big-endian integer when those differ
    for every id (short ids: an integer sort, several times faster), else by the text."""
    table = table.rechunk()  # gathers from one chunk per column are twice as fast
    ids = table.get_column(ID)
    # NUL-padded to 8 bytes: a shorter id sorts before its extensions, as in a text sort
    padded = pl.concat_str([ids, pl.lit("\x00" * 8)]).cast(pl.Binary).bin.head(8)
    prefix = pl.select(padded.bin.reinterpret(dtype=pl.UInt64, endianness="big")).to_series()
    order = prefix.arg_sort()
    ordered = prefix.gather(order)
    # a tie (the same first 8 bytes, or ids differing only by trailing NULs) needs the text
    if not (ordered.slice(1) > ordered.slice(0, max(len(ordered) - 1, 0))).all():
        return table.sort(ID)
    return table[order]


def fast_features(
    lines: pl.LazyFrame, cutoff: Cutoff, feature_set: FeatureSet, channels: list[ChannelColumn]
) -> pl.DataFrame:
    """Features of canonical Polars lines via the tuned query; same result as the definition."""
    present = set(lines.collect_schema().names())
    full = feature_set == "all"
    money = feature_set != "lifetimes"
    prepared = _prepare(lines, cutoff, "is_return" in present)
    # without money columns only purchase lines matter
    day_lines = prepared if money else prepared.filter(~pl.col("_ret"))
    try:
        # both group-bys run on the streaming engine (morsel-parallel, bounded memory)
        days = _day_table(day_lines, money, channels, "channel" in present).collect(
            engine="streaming"
        )
        if _check_days(days):
            per_customer = _customer_table_packed(days, cutoff, money)
        else:
            per_customer = _customer_table(days, cutoff, money)
        if full:
            per_customer = per_customer.join(_gaps_and_months(days, cutoff), on="_h", how="left")
        cust_table = per_customer.collect(engine="streaming")
        del days
        _check(cust_table)
    except _CollisionError:
        log.info("id hash collision or day out of range: using the portable definition")
        return _portable(lines, cutoff, feature_set, channels)
    cust = _with_ids(cust_table, prepared).lazy()
    if feature_set != "lifetimes":
        for counts in _counts(prepared, full, present):
            # a customer absent from a count has none of those values
            filled = [pl.col(c).fill_null(0) for c in counts.columns if c.startswith("_n_")]
            cust = cust.join(counts.lazy(), on="_h", how="left").with_columns(filled)
    table: pl.DataFrame = _finish(cust, cutoff, feature_set, present, channels).collect(
        engine="streaming"
    )
    return _sort_by_id(table)
