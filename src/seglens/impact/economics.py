"""Per-segment economics: size, revenue share, order value, retention, churn and simple CLV."""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import polars as pl

from seglens.errors import DataError, UsageError
from seglens.impact._mle import FloatArray
from seglens.impact._stats import interval_columns
from seglens.stats import bootstrap_interval, proportion

__all__ = [
    "SimpleClv",
    "retention_by_cohort",
    "segment_economics",
    "segment_retention",
    "simple_clv",
]

Period = Literal["month", "quarter", "year"]
_TRUNC = {"month": "1mo", "quarter": "1q", "year": "1y"}


def _require(frame: pl.DataFrame, cols: list[str], what: str) -> None:
    missing = [c for c in cols if c not in frame.columns]
    if missing:
        raise DataError(
            f"{what}: column(s) {missing} missing", column=missing[0], hint=f"have {frame.columns}"
        )


def segment_economics(
    customers: pl.DataFrame,
    *,
    segment_col: str = "segment",
    revenue_col: str = "total_spend",
    orders_col: str = "n_orders",
    n_resamples: int = 1000,
    level: float = 0.95,
    seed: int = 0,
) -> pl.DataFrame:
    """Customers, revenue share, revenue per customer and average order value per segment.

    Intervals are percentile bootstrap intervals over customers (Poisson weights, the whole
    customer base resampled jointly, so revenue shares keep summing to one).

    Parameters
    ----------
    customers
        One row per customer with ``segment_col``, ``revenue_col`` and ``orders_col``.

    Returns
    -------
    polars.DataFrame
        ``segment``, ``customers``, ``customer_share``, ``revenue``, ``revenue_share`` (+ low/high),
        ``revenue_per_customer`` (+ low/high), ``aov`` (+ low/high).

    Examples
    --------
    >>> import polars as pl
    >>> c = pl.DataFrame({"segment": ["a", "a", "b"], "total_spend": [10.0, 30.0, 60.0],
    ...                   "n_orders": [1, 3, 2]})
    >>> segment_economics(c, n_resamples=200).select("segment", "revenue_share", "aov").rows()
    [('a', 0.4, 10.0), ('b', 0.6, 30.0)]
    """
    _require(customers, [segment_col, revenue_col, orders_col], "segment economics")
    if customers.height == 0:
        raise DataError("no customers to summarise")
    seg = customers[segment_col].cast(pl.String).fill_null("(none)").to_numpy()
    rev = customers[revenue_col].cast(pl.Float64).fill_null(0.0).to_numpy()
    orders = customers[orders_col].cast(pl.Float64).fill_null(0.0).to_numpy()
    names = sorted(set(seg.tolist()))
    onehot = np.column_stack([(seg == s).astype(np.float64) for s in names])  # (n, k)

    def stats(w: FloatArray) -> FloatArray:
        seg_rev = (w * rev) @ onehot
        seg_n = w @ onehot
        seg_orders = (w * orders) @ onehot
        total = seg_rev.sum(axis=1, keepdims=True)
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.hstack([seg_rev / total, seg_rev / seg_n, seg_rev / seg_orders])

    point = stats(np.ones((1, rev.size)))[0]
    low, high = bootstrap_interval(
        stats, rev.size, n_resamples=n_resamples, confidence=level, seed=seed
    )
    k = len(names)
    rows = []
    for i, name in enumerate(names):
        n_seg = int(onehot[:, i].sum())
        row: dict[str, object] = {
            "segment": name,
            "customers": n_seg,
            "customer_share": n_seg / rev.size,
            "revenue": float(rev[onehot[:, i] > 0].sum()),
        }
        for j, label in enumerate(("revenue_share", "revenue_per_customer", "aov")):
            c = j * k + i
            row[label] = float(point[c])
            row[f"{label}_low"] = float(low[c])
            row[f"{label}_high"] = float(high[c])
        rows.append(row)
    return pl.DataFrame(rows)


def _periods(
    transactions: pl.DataFrame, period: Period, customer_col: str, time_col: str
) -> pl.DataFrame:
    if period not in _TRUNC:
        raise UsageError(f"unknown period {period!r}", hint="use month, quarter or year")
    _require(transactions, [customer_col, time_col], "retention")
    return (
        transactions.select(
            pl.col(customer_col).cast(pl.String).alias("customer_id"),
            pl.col(time_col)
            .cast(pl.Datetime("us"))
            .dt.truncate(_TRUNC[period])
            .cast(pl.Date)
            .alias("period"),
        )
        .drop_nulls()
        .unique()
    )


def retention_by_cohort(
    transactions: pl.DataFrame,
    *,
    period: Period = "quarter",
    customer_col: str = "customer_id",
    time_col: str = "timestamp",
    level: float = 0.95,
) -> pl.DataFrame:
    """Cohort retention: of customers first seen in ``cohort``, the share active ``age`` periods on.

    Returns one row per (cohort, age) with ``cohort_size``, ``active``, ``retention`` and its
    Wilson interval. Age 0 is the acquisition period (retention 1).

    Examples
    --------
    >>> import datetime as dt, polars as pl
    >>> tx = pl.DataFrame({"customer_id": ["a", "b", "a", "c"],
    ...     "timestamp": [dt.datetime(2024, 1, 5), dt.datetime(2024, 2, 1),
    ...                   dt.datetime(2024, 4, 2), dt.datetime(2024, 5, 1)]})
    >>> r = retention_by_cohort(tx)
    >>> r.select("cohort", "age", "cohort_size", "active").rows()[:2]
    [(datetime.date(2024, 1, 1), 0, 2, 2), (datetime.date(2024, 1, 1), 1, 2, 1)]
    """
    act = _periods(transactions, period, customer_col, time_col)
    step = {"month": 1, "quarter": 3, "year": 12}[period]
    first = act.group_by("customer_id").agg(pl.col("period").min().alias("cohort"))
    joined = act.join(first, on="customer_id").with_columns(
        (
            (
                (pl.col("period").dt.year() - pl.col("cohort").dt.year()) * 12
                + pl.col("period").dt.month()
                - pl.col("cohort").dt.month()
            )
            // step
        ).alias("age")
    )
    sizes = first.group_by("cohort").agg(pl.len().alias("cohort_size"))
    counts = joined.group_by("cohort", "age").agg(pl.len().alias("active"))
    last = act["period"].max()
    grid = sizes.join(pl.DataFrame({"age": list(range(0, 100))}), how="cross").filter(
        pl.col("cohort").dt.offset_by(pl.format("{}mo", pl.col("age") * step)) <= last
    )
    out = (
        grid.join(counts, on=["cohort", "age"], how="left")
        .with_columns(pl.col("active").fill_null(0))
        .sort("cohort", "age")
    )
    ests = [
        interval_columns("retention", proportion(int(a), int(n), level))
        for a, n in zip(out["active"], out["cohort_size"], strict=True)
    ]
    return out.with_columns(
        pl.Series("retention", [e["retention"] for e in ests]),
        pl.Series("retention_low", [e["retention_low"] for e in ests]),
        pl.Series("retention_high", [e["retention_high"] for e in ests]),
    ).select(
        "cohort", "age", "cohort_size", "active", "retention", "retention_low", "retention_high"
    )


def _window(end: dt.date, period: Period) -> tuple[dt.date, dt.date]:
    """``(base period start, window start)``: the window is the last complete period to ``end``."""
    months = {"month": 1, "quarter": 3, "year": 12}[period]
    cur_start = pl.select(pl.lit(end + dt.timedelta(days=1)).dt.truncate(_TRUNC[period])).item()
    window = pl.select(pl.lit(cur_start).dt.offset_by(f"-{months}mo")).item()
    base = pl.select(pl.lit(cur_start).dt.offset_by(f"-{2 * months}mo")).item()
    assert isinstance(window, dt.date) and isinstance(base, dt.date)
    return base, window


def segment_retention(
    transactions: pl.DataFrame,
    assignments: pl.DataFrame | None = None,
    *,
    period: Period = "quarter",
    as_of: dt.date | None = None,
    segmenter: Any = None,
    customer_col: str = "customer_id",
    time_col: str = "timestamp",
    segment_col: str = "segment",
    level: float = 0.95,
) -> pl.DataFrame:
    """Period-over-period retention and churn per segment, segments taken at the window's start.

    The window (``next_period``) is the last complete period ending on or before ``as_of``; the
    base (``base_period``) is the period before it. Of the customers who bought in the base
    period, ``retained`` also bought in the window; ``retention = retained / base_customers`` and
    ``churn = 1 - retention``, with Wilson intervals.

    Each customer counts in the segment they were in when the window started
    (``segments_as_of``, the base period's last day, whole day included). Without
    ``assignments`` those segments are computed here: ``RFMSegmenter`` (or ``segmenter``) fitted
    and assigned on :func:`seglens.features.customer_features` as of that day, the one RFM
    definition of seglens. A segmentation made after the window would let the window's own
    purchases decide who is in which segment (a customer becomes "Loyal" by buying), so
    ``assignments``, when given, are used as they are and must describe the customers at the
    window's start; ``segments_as_of`` is then null.

    Parameters
    ----------
    transactions
        Transaction lines; the default segmentation needs the canonical columns
        (:data:`seglens.tables.TRANSACTIONS`).
    assignments
        ``customer_col`` and ``segment_col`` as of the window's start, or None for the default.
    segmenter
        An unfitted seglens segmenter for the default segmentation (default ``RFMSegmenter()``).

    Examples
    --------
    >>> import datetime as dt, polars as pl
    >>> day = lambda m, d: dt.datetime(2024, m, d)
    >>> tx = pl.DataFrame({
    ...     "customer_id": ["a", "a", "a", "a", "b", "b", "c", "c", "d"],
    ...     "order_id": [str(i) for i in range(9)],
    ...     "timestamp": [day(1, 5), day(2, 5), day(3, 28), day(4, 9), day(2, 2), day(3, 1),
    ...                   day(1, 3), day(3, 30), day(5, 1)],
    ...     "amount": [90.0, 80.0, 70.0, 50.0, 20.0, 10.0, 5.0, 500.0, 30.0]})
    >>> r = segment_retention(tx, as_of=dt.date(2024, 6, 30))  # window Q2, segments at 31 March
    >>> r.select("segment", "base_customers", "retained").rows()
    [('(all)', 3, 1), ('Lost', 1, 0), ('Loyal', 1, 1), ('Potential loyalists', 1, 0)]
    >>> r["retention"].round(3).to_list(), r["churn"].round(3).to_list()
    ([0.333, 0.0, 1.0, 0.0], [0.667, 1.0, 0.0, 1.0])
    >>> r["segments_as_of"][0]
    datetime.date(2024, 3, 31)
    """
    act = _periods(transactions, period, customer_col, time_col)
    if assignments is not None:
        _require(assignments, [customer_col, segment_col], "segment retention")
    if act.height == 0:
        raise DataError("no transactions to measure retention on")
    end = as_of or act["period"].max()
    assert isinstance(end, dt.date)
    base_period, window = _window(end, period)
    segments_as_of = window - dt.timedelta(days=1)
    if assignments is None:
        from seglens.impact._inputs import customer_table, rfm_assignments

        mapping = {"customer_id": customer_col, "timestamp": time_col}
        feats = customer_table(
            transactions, as_of=segments_as_of, feature_set="rfm", columns=mapping
        )
        seg = rfm_assignments(feats, segmenter=segmenter)
        seg_date: dt.date | None = segments_as_of
    else:
        seg = assignments.select(
            pl.col(customer_col).cast(pl.String).alias("customer_id"),
            pl.col(segment_col).cast(pl.String).alias("segment"),
        )
        seg_date = None
    base = set(act.filter(pl.col("period") == base_period)["customer_id"].to_list())
    nxt = set(act.filter(pl.col("period") == window)["customer_id"].to_list())
    frame = seg.filter(pl.col("customer_id").is_in(list(base))).with_columns(
        pl.col("customer_id").is_in(list(nxt)).alias("kept")
    )
    groups = [("(all)", frame)] + [
        (str(k[0]), g) for k, g in sorted(frame.group_by("segment"), key=lambda t: str(t[0][0]))
    ]
    rows = []
    for name, g in groups:
        e = interval_columns("retention", proportion(int(g["kept"].sum()), g.height, level))
        rows.append(
            {
                "segment": name,
                "segments_as_of": seg_date,
                "base_period": base_period,
                "next_period": window,
                "base_customers": g.height,
                "retained": int(g["kept"].sum()),
                **e,
                "churn": 1 - e["retention"],
                "churn_low": 1 - e["retention_high"],
                "churn_high": 1 - e["retention_low"],
            }
        )
    return pl.DataFrame(rows, schema_overrides={"segments_as_of": pl.Date})


@dataclass(frozen=True)
class SimpleClv:
    """The simple business CLV, ``margin * retention / (1 + discount - retention)``, with inputs.

    ``low``/``high`` come from evaluating the formula at the inputs' interval bounds (the formula
    rises with margin and retention, so this interval is conservative).
    """

    margin: float
    retention: float
    discount_rate: float
    value: float
    low: float
    high: float
    formula: str = "margin * retention / (1 + discount_rate - retention)"


def simple_clv(
    margin: float,
    retention: float,
    discount_rate: float,
    *,
    margin_range: tuple[float, float] | None = None,
    retention_range: tuple[float, float] | None = None,
) -> SimpleClv:
    """Simple CLV: the value of a customer's future margins with constant retention.

    Parameters
    ----------
    margin
        Margin per customer per period (revenue x margin rate).
    retention
        Share of customers kept from one period to the next (0..1).
    discount_rate
        Discount rate per period (e.g. 0.025 per quarter).
    margin_range, retention_range
        Interval bounds of the inputs, propagated to ``low``/``high``.

    Examples
    --------
    >>> c = simple_clv(100.0, 0.8, 0.1)
    >>> round(c.value, 2), c.formula
    (266.67, 'margin * retention / (1 + discount_rate - retention)')
    """
    if not 0 <= retention <= 1:
        raise UsageError(f"retention must be between 0 and 1, got {retention}")
    if discount_rate < 0:
        raise UsageError(f"discount rate must not be negative, got {discount_rate}")

    def f(m: float, r: float) -> float:
        den = 1 + discount_rate - r
        return m * r / den if den > 0 else math.inf

    m_lo, m_hi = margin_range or (margin, margin)
    r_lo, r_hi = retention_range or (retention, retention)
    return SimpleClv(
        margin=margin,
        retention=retention,
        discount_rate=discount_rate,
        value=f(margin, retention),
        low=f(m_lo, r_lo),
        high=f(m_hi, r_hi),
    )
