"""Customer lifetime value per segment from the fitted BG/NBD and Gamma-Gamma models."""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import polars as pl

from seglens.errors import DataError, UsageError
from seglens.impact._mle import FloatArray
from seglens.impact._stats import segment_mean_table
from seglens.impact.bgnbd import BetaGeoModel
from seglens.impact.gamma_gamma import GammaGammaModel
from seglens.impact.summary import UNIT_DAYS

__all__ = ["ClvResult", "customer_clv", "segment_clv"]

logger = logging.getLogger(__name__)

DAYS_PER_MONTH = 365.25 / 12


def customer_clv(
    bgnbd: BetaGeoModel,
    gamma_gamma: GammaGammaModel,
    summary: pl.DataFrame,
    *,
    unit: Literal["days", "weeks"],
    horizon_months: int = 12,
    annual_discount_rate: float = 0.10,
    margin: float = 1.0,
) -> FloatArray:
    """Discounted expected value of each customer's purchases over the next ``horizon_months``.

    ``sum_i margin * spend * (E[Y(t_i)] - E[Y(t_{i-1})]) / (1 + d)**i`` over monthly steps,
    with ``d`` the monthly rate equivalent to ``annual_discount_rate`` and ``spend`` the
    Gamma-Gamma conditional expected spend per purchase (the lifetimes/pymc-marketing formula).
    """
    if horizon_months < 1:
        raise UsageError("horizon must be at least one month")
    x, t_x, t = summary["frequency"], summary["recency"], summary["T"]
    spend = gamma_gamma.expected_spend(x, summary["monetary_value"])
    step = DAYS_PER_MONTH / UNIT_DAYS[unit]
    monthly = (1 + annual_discount_rate) ** (1 / 12) - 1
    total = np.zeros(summary.height)
    prev = np.zeros(summary.height)
    for i in range(1, horizon_months + 1):
        cur = bgnbd.expected_purchases(i * step, x, t_x, t)
        total += (cur - prev) / (1 + monthly) ** i
        prev = cur
    return np.asarray(margin * spend * total, dtype=np.float64)


@dataclass
class ClvResult:
    """Fitted models, per-customer values and per-segment CLV with bootstrap intervals."""

    as_of: dt.date
    unit: str
    horizon_months: int
    annual_discount_rate: float
    margin: float
    bgnbd: BetaGeoModel
    gamma_gamma: GammaGammaModel
    customers: pl.DataFrame
    segments: pl.DataFrame
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (parameters with intervals, assumptions, per-segment table)."""

        def params(m: BetaGeoModel | GammaGammaModel) -> dict[str, Any]:
            return {
                k: {"value": v, "low": m.param_ci_[k][0], "high": m.param_ci_[k][1]}
                for k, v in m.params_.items()
            }

        return {
            "as_of": self.as_of.isoformat(),
            "unit": self.unit,
            "assumptions": {
                "horizon_months": self.horizon_months,
                "annual_discount_rate": self.annual_discount_rate,
                "margin": self.margin,
                "interval": "95% percentile bootstrap over customers (1000 resamples)",
            },
            "bgnbd": {
                "params": params(self.bgnbd),
                "log_likelihood": self.bgnbd.log_likelihood_,
                "customers": self.bgnbd.n_customers_,
            },
            "gamma_gamma": {
                "params": params(self.gamma_gamma),
                "log_likelihood": self.gamma_gamma.log_likelihood_,
                "customers": self.gamma_gamma.n_customers_,
            },
            "segments": self.segments.to_dicts(),
            "notes": self.notes,
        }


def segment_clv(
    summary: pl.DataFrame,
    *,
    as_of: dt.date,
    unit: Literal["days", "weeks"] = "days",
    segment_col: str = "segment",
    horizon_months: int = 12,
    annual_discount_rate: float = 0.10,
    margin: float = 1.0,
    n_resamples: int = 1000,
    seed: int = 0,
) -> ClvResult:
    """Fit BG/NBD + Gamma-Gamma on ``summary`` and report CLV per segment with intervals.

    Parameters
    ----------
    summary
        Output of :func:`seglens.impact.clv_summary` plus a ``segment_col`` column (customers
        without one are reported as ``"(unassigned)"``; absent column = a single segment).
    as_of
        End of the calibration period (for the record).
    unit
        The time unit of ``recency`` and ``T``.
    horizon_months, annual_discount_rate, margin
        CLV assumptions (reported with the result).

    Examples
    --------
    >>> import datetime as dt, polars as pl
    >>> from seglens.impact.simulate import simulate_customers
    >>> s = simulate_customers(600, seed=3).with_columns(
    ...     pl.when(pl.col("frequency") > 0).then(pl.lit("x")).otherwise(pl.lit("y"))
    ...     .alias("segment"))
    >>> r = segment_clv(s, as_of=dt.date(2024, 1, 1), unit="weeks", n_resamples=100)
    >>> r.segments["segment"].to_list()
    ['(all)', 'x', 'y']
    """
    need = ["frequency", "recency", "T", "monetary_value"]
    missing = [c for c in need if c not in summary.columns]
    if missing:
        raise DataError(f"CLV summary lacks {missing}", hint="build it with clv_summary()")
    bg = BetaGeoModel().fit(summary["frequency"], summary["recency"], summary["T"])
    gg = GammaGammaModel().fit(summary["frequency"], summary["monetary_value"])
    notes = []
    p, q, v = gg.params_["p"], gg.params_["q"], gg.params_["v"]
    if q <= 1:
        notes.append("Gamma-Gamma q <= 1: mean spend undefined; CLV is unreliable")
    x = summary["frequency"].to_numpy().astype(float)
    m = summary["monetary_value"].to_numpy().astype(float)
    repeat = x > 0
    if repeat.sum() > 2:
        corr = float(np.corrcoef(x[repeat], m[repeat])[0, 1])
        if abs(corr) > 0.3:
            notes.append(
                f"frequency and spend correlate (r = {corr:.2f}) among repeat buyers: "
                "the Gamma-Gamma independence assumption is strained"
            )
    clv = customer_clv(
        bg,
        gg,
        summary,
        unit=unit,
        horizon_months=horizon_months,
        annual_discount_rate=annual_discount_rate,
        margin=margin,
    )
    horizon = horizon_months * DAYS_PER_MONTH / UNIT_DAYS[unit]
    per = summary.with_columns(
        pl.Series(
            "prob_alive", bg.prob_alive(summary["frequency"], summary["recency"], summary["T"])
        ),
        pl.Series(
            "expected_purchases",
            bg.expected_purchases(horizon, summary["frequency"], summary["recency"], summary["T"]),
        ),
        pl.Series("expected_spend", gg.expected_spend(summary["frequency"], m)),
        pl.Series("clv", clv),
    )
    if segment_col in per.columns:
        per = per.with_columns(pl.col(segment_col).cast(pl.String).fill_null("(unassigned)"))
        seg = per[segment_col].to_numpy().astype(str)
    else:
        seg = np.full(per.height, "(all customers)")
    rows = segment_mean_table(
        seg,
        {
            "clv": per["clv"].to_numpy(),
            "expected_purchases": per["expected_purchases"].to_numpy(),
            "prob_alive": per["prob_alive"].to_numpy(),
        },
        n_resamples=n_resamples,
        seed=seed,
    )
    logger.info("CLV fitted: BG/NBD %s, Gamma-Gamma p=%.3g q=%.3g v=%.3g", bg.params_, p, q, v)
    return ClvResult(
        as_of=as_of,
        unit=unit,
        horizon_months=horizon_months,
        annual_discount_rate=annual_discount_rate,
        margin=margin,
        bgnbd=bg,
        gamma_gamma=gg,
        customers=per,
        segments=pl.DataFrame(rows),
        notes=notes,
    )
