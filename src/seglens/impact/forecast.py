"""Next-period purchases and revenue per segment, and the out-of-time check of that forecast."""

from __future__ import annotations

import datetime as dt
from typing import Literal

import numpy as np
import polars as pl

from seglens.errors import DataError
from seglens.impact._mle import FloatArray
from seglens.impact.bgnbd import BetaGeoModel
from seglens.impact.gamma_gamma import GammaGammaModel
from seglens.impact.summary import UNIT_DAYS, clv_summary
from seglens.stats import bootstrap_interval

__all__ = ["forecast_by_segment", "out_of_time_check", "run_rate_forecast"]


def _segments(frame: pl.DataFrame, segment_col: str) -> FloatArray:
    if segment_col not in frame.columns:
        return np.full(frame.height, "(all customers)")
    return frame[segment_col].cast(pl.String).fill_null("(unassigned)").to_numpy().astype(str)


def forecast_by_segment(
    summary: pl.DataFrame,
    bgnbd: BetaGeoModel,
    gamma_gamma: GammaGammaModel,
    *,
    horizon: float,
    segment_col: str = "segment",
    n_draws: int = 400,
    level: float = 0.95,
    seed: int = 0,
) -> pl.DataFrame:
    """Expected purchases and revenue per segment over the next ``horizon`` time units.

    Point values are the models' conditional expectations; intervals are quantiles of segment
    totals simulated from the posterior of each customer (alive or not, purchase rate, dropout,
    spend rate) with parameter uncertainty, so they are prediction intervals for what the
    segment will actually bring, not just for its mean.

    Examples
    --------
    >>> import polars as pl
    >>> from seglens.impact.simulate import simulate_customers
    >>> s = simulate_customers(600, seed=3).with_columns(
    ...     pl.when(pl.col("frequency") > 0).then(pl.lit("x")).otherwise(pl.lit("y"))
    ...     .alias("segment"))
    >>> bg = BetaGeoModel().fit(s["frequency"], s["recency"], s["T"])
    >>> gg = GammaGammaModel().fit(s["frequency"], s["monetary_value"])
    >>> f = forecast_by_segment(s, bg, gg, horizon=13, n_draws=50)
    >>> f["segment"].to_list()
    ['(all)', 'x', 'y']
    """
    x, t_x, t = summary["frequency"], summary["recency"], summary["T"]
    m = summary["monetary_value"]
    rng = np.random.default_rng(seed)
    purchases = bgnbd.expected_purchases(horizon, x, t_x, t)
    spend = gamma_gamma.expected_spend(x, m)
    n_draw = bgnbd.sample_purchases(horizon, x, t_x, t, n_draws=n_draws, rng=rng)
    nu = gamma_gamma.sample_spend_rate(x, m, n_draws=n_draws, rng=rng)
    shape = n_draw * gamma_gamma.p
    revenue_draws = np.where(n_draw > 0, rng.gamma(np.maximum(shape, 1e-12), 1.0 / nu), 0.0)
    seg = _segments(summary, segment_col)
    names = ["(all)", *sorted(set(seg.tolist()))]
    alpha = (1 - level) / 2
    rows = []
    for name in names:
        sel = np.ones(seg.size, bool) if name == "(all)" else seg == name
        p_tot = n_draw[:, sel].sum(axis=1)
        r_tot = revenue_draws[:, sel].sum(axis=1)
        rows.append(
            {
                "segment": name,
                "customers": int(sel.sum()),
                "expected_purchases": float(purchases[sel].sum()),
                "expected_purchases_low": float(np.quantile(p_tot, alpha)),
                "expected_purchases_high": float(np.quantile(p_tot, 1 - alpha)),
                "expected_revenue": float((purchases * spend)[sel].sum()),
                "expected_revenue_low": float(np.quantile(r_tot, alpha)),
                "expected_revenue_high": float(np.quantile(r_tot, 1 - alpha)),
            }
        )
    return pl.DataFrame(rows)


def run_rate_forecast(
    transactions: pl.DataFrame,
    assignments: pl.DataFrame,
    *,
    cutoff: dt.date,
    horizon_days: int,
    segment_col: str = "segment",
    level: float = 0.95,
    seed: int = 0,
) -> pl.DataFrame:
    """Baseline: each segment brings next period what it brought in the same length before.

    Revenue of the ``horizon_days`` up to ``cutoff`` (net of returns), per segment, with a
    bootstrap interval over the segment's customers.
    """
    start = cutoff - dt.timedelta(days=horizon_days)
    recent = (
        transactions.filter(
            pl.col("timestamp").cast(pl.Date) > start, pl.col("timestamp").cast(pl.Date) <= cutoff
        )
        .group_by(pl.col("customer_id").cast(pl.String))
        .agg(pl.col("amount").sum().alias("revenue"))
    )
    seg = assignments.select(
        pl.col("customer_id").cast(pl.String), pl.col(segment_col).cast(pl.String).alias("segment")
    )
    per = seg.join(recent, on="customer_id", how="left").with_columns(
        pl.col("revenue").fill_null(0)
    )
    rev = per["revenue"].to_numpy()
    labels = per["segment"].fill_null("(unassigned)").to_numpy().astype(str)
    names = ["(all)", *sorted(set(labels.tolist()))]
    onehot = np.column_stack([np.ones(rev.size)] + [(labels == s) * 1.0 for s in names[1:]])
    lo, hi = bootstrap_interval(lambda w: (w * rev) @ onehot, rev.size, confidence=level, seed=seed)
    point = rev @ onehot
    return pl.DataFrame(
        {
            "segment": names,
            "run_rate_revenue": point,
            "run_rate_revenue_low": lo,
            "run_rate_revenue_high": hi,
        }
    )


def out_of_time_check(
    transactions: pl.DataFrame,
    assignments: pl.DataFrame,
    *,
    cutoff: dt.date,
    actual_end: dt.date,
    unit: Literal["days", "weeks"] = "days",
    segment_col: str = "segment",
    n_draws: int = 400,
    seed: int = 0,
) -> pl.DataFrame:
    """Forecast from data up to ``cutoff``; compare with what ``(cutoff, actual_end]`` brought.

    Only customers known at the cut-off are forecast and counted (new customers of the next
    period are nobody's forecast). Reports, per segment, the BG/NBD + Gamma-Gamma revenue
    forecast with its prediction interval, the run-rate baseline, the actual revenue, each
    method's error in percent, and whether the actual fell inside the interval; likewise the
    expected purchases (days with a purchase) against the actual ones.
    """
    if actual_end <= cutoff:
        raise DataError(f"actual_end {actual_end} must be after the cut-off {cutoff}")
    summary = clv_summary(transactions, observation_period_end=cutoff, unit=unit)
    summary = summary.join(
        assignments.select(
            pl.col("customer_id").cast(pl.String), pl.col(segment_col).cast(pl.String)
        ),
        on="customer_id",
        how="left",
    ).with_columns(pl.col(segment_col).fill_null("(unassigned)"))
    bg = BetaGeoModel().fit(summary["frequency"], summary["recency"], summary["T"])
    gg = GammaGammaModel().fit(summary["frequency"], summary["monetary_value"])
    days = (actual_end - cutoff).days
    fc = forecast_by_segment(
        summary, bg, gg, horizon=days / UNIT_DAYS[unit], segment_col=segment_col,
        n_draws=n_draws, seed=seed,
    )  # fmt: skip
    rr = run_rate_forecast(
        transactions, summary.select("customer_id", segment_col), cutoff=cutoff,
        horizon_days=days, segment_col=segment_col, seed=seed,
    )  # fmt: skip
    actual = (
        transactions.filter(
            pl.col("timestamp").cast(pl.Date) > cutoff,
            pl.col("timestamp").cast(pl.Date) <= actual_end,
        )
        .group_by(pl.col("customer_id").cast(pl.String))
        .agg(
            pl.col("amount").sum().alias("actual"),
            pl.col("timestamp").cast(pl.Date).filter(pl.col("amount") >= 0).n_unique().alias("n"),
        )
        .join(summary.select("customer_id", segment_col), on="customer_id", how="inner")
    )
    aggs = [
        pl.col("actual").sum().alias("actual_revenue"),
        pl.col("n").sum().cast(pl.Float64).alias("actual_purchases"),
    ]
    per_seg = actual.group_by(segment_col).agg(aggs)
    total = actual.select(pl.lit("(all)").alias(segment_col), *aggs)
    acts = pl.concat([total, per_seg]).rename({segment_col: "segment"})
    out = (
        fc.join(rr, on="segment", how="left")
        .join(acts, on="segment", how="left")
        .with_columns(pl.col("actual_revenue", "actual_purchases").fill_null(0.0))
    )
    return out.with_columns(
        (
            100
            * (pl.col("expected_purchases") - pl.col("actual_purchases"))
            / pl.col("actual_purchases")
        ).alias("purchases_error_pct"),
        (
            100 * (pl.col("expected_revenue") - pl.col("actual_revenue")) / pl.col("actual_revenue")
        ).alias("model_error_pct"),
        (
            100 * (pl.col("run_rate_revenue") - pl.col("actual_revenue")) / pl.col("actual_revenue")
        ).alias("run_rate_error_pct"),
        pl.col("actual_revenue")
        .is_between(pl.col("expected_revenue_low"), pl.col("expected_revenue_high"))
        .alias("actual_in_interval"),
    )
