"""Per-segment economics, retention/churn, simple CLV and probabilistic CLV per segment."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from seglens.errors import DataError, UsageError
from seglens.impact.clv import customer_clv, segment_clv
from seglens.impact.economics import (
    retention_by_cohort,
    segment_economics,
    segment_retention,
    simple_clv,
)
from seglens.impact.summary import clv_summary


def _d(y: int, m: int, d: int) -> dt.datetime:
    return dt.datetime(y, m, d)


TX = pl.DataFrame(
    {
        "customer_id": ["a", "a", "a", "b", "b", "c", "d", "d"],
        "timestamp": [
            _d(2024, 1, 3), _d(2024, 4, 10), _d(2024, 7, 1),
            _d(2024, 2, 1), _d(2024, 4, 2),
            _d(2024, 3, 3),
            _d(2024, 4, 5), _d(2024, 8, 9),
        ],
        "amount": [10.0, 20.0, 30.0, 5.0, 5.0, 100.0, 40.0, 60.0],
    }
)  # fmt: skip
SEG = pl.DataFrame({"customer_id": ["a", "b", "c", "d"], "segment": ["x", "x", "y", "y"]})


def test_segment_economics_hand_computed() -> None:
    c = pl.DataFrame(
        {"segment": ["x", "x", "y", "y"], "total_spend": [60.0, 10.0, 100.0, 100.0],
         "n_orders": [3, 2, 1, 2]}
    )  # fmt: skip
    e = segment_economics(c, n_resamples=300)
    x = e.filter(pl.col("segment") == "x").row(0, named=True)
    assert x["customers"] == 2
    assert x["revenue_share"] == pytest.approx(70 / 270)
    assert x["aov"] == pytest.approx(70 / 5)
    assert x["revenue_per_customer"] == pytest.approx(35.0)
    assert e["revenue_share"].sum() == pytest.approx(1.0)
    for col in ("revenue_share", "aov", "revenue_per_customer"):
        assert (e[f"{col}_low"] <= e[col]).all() and (e[col] <= e[f"{col}_high"]).all()


def test_segment_economics_missing_column() -> None:
    with pytest.raises(DataError, match="n_orders"):
        segment_economics(pl.DataFrame({"segment": ["a"], "total_spend": [1.0]}))


def test_cohort_retention_hand_computed() -> None:
    r = retention_by_cohort(TX, period="quarter")
    q1 = r.filter(pl.col("cohort") == dt.date(2024, 1, 1))
    # Q1 cohort: a, b, c (3). In Q2 a and b bought; in Q3 a only.
    assert q1["cohort_size"].to_list() == [3, 3, 3]
    assert q1["active"].to_list() == [3, 2, 1]
    assert q1["retention"][1] == pytest.approx(2 / 3)
    q2 = r.filter(pl.col("cohort") == dt.date(2024, 4, 1))
    assert q2["active"].to_list() == [1, 1]  # d in Q2 and Q3


def test_segment_retention_and_churn() -> None:
    r = segment_retention(TX, SEG, as_of=dt.date(2024, 9, 30))
    # base period Q2: a, b, d bought; next Q3: a, d bought
    rows = {row["segment"]: row for row in r.iter_rows(named=True)}
    assert rows["(all)"]["base_customers"] == 3 and rows["(all)"]["retained"] == 2
    assert rows["x"]["retention"] == pytest.approx(0.5)
    assert rows["x"]["churn"] == pytest.approx(0.5)
    assert rows["y"]["retention"] == 1.0
    assert rows["y"]["churn_low"] == 0.0
    assert rows["(all)"]["base_period"] == dt.date(2024, 4, 1)


def test_unknown_period() -> None:
    with pytest.raises(UsageError):
        retention_by_cohort(TX, period="week")  # type: ignore[arg-type]


def test_simple_clv_formula_and_range() -> None:
    c = simple_clv(50.0, 0.6, 0.1, margin_range=(40.0, 60.0), retention_range=(0.5, 0.7))
    assert c.value == pytest.approx(50 * 0.6 / 0.5)
    assert c.low == pytest.approx(40 * 0.5 / 0.6)
    assert c.high == pytest.approx(60 * 0.7 / 0.4)
    with pytest.raises(UsageError):
        simple_clv(1.0, 1.5, 0.1)
    assert math.isinf(simple_clv(1.0, 1.0, 0.0).value)


@settings(deadline=None)
@given(st.floats(0, 1000), st.floats(0, 0.99), st.floats(0, 0.5), st.floats(0, 0.99))
def test_simple_clv_monotone_in_retention(m: float, r1: float, d: float, r2: float) -> None:
    lo, hi = sorted((r1, r2))
    assert simple_clv(m, lo, d).value <= simple_clv(m, hi, d).value + 1e-9


def test_segment_clv_on_cdnow(cdnow_transactions: pl.DataFrame) -> None:
    s = clv_summary(cdnow_transactions, observation_period_end=dt.date(1997, 9, 30), unit="weeks")
    s = s.with_columns(
        pl.when(pl.col("frequency") > 0)
        .then(pl.lit("repeat"))
        .otherwise(pl.lit("one-off"))
        .alias("segment")
    )
    r = segment_clv(s, as_of=dt.date(1997, 9, 30), unit="weeks", n_resamples=200)
    segs = {row["segment"]: row for row in r.segments.iter_rows(named=True)}
    assert segs["(all)"]["customers"] == 2357
    assert segs["repeat"]["clv_mean"] > segs["one-off"]["clv_mean"] > 0
    for row in segs.values():
        assert row["clv_mean_low"] <= row["clv_mean"] <= row["clv_mean_high"]
    # the table mean equals the per-customer values' mean
    assert segs["(all)"]["clv_mean"] == pytest.approx(r.customers["clv"].mean())
    d = r.to_dict()
    assert set(d["bgnbd"]["params"]) == {"r", "alpha", "a", "b"}
    assert d["assumptions"]["horizon_months"] == 12


def test_customer_clv_without_discount_is_spend_times_purchases(
    cdnow_transactions: pl.DataFrame,
) -> None:
    s = clv_summary(cdnow_transactions, observation_period_end=dt.date(1997, 9, 30), unit="weeks")
    r = segment_clv(s, as_of=dt.date(1997, 9, 30), unit="weeks", n_resamples=50)
    clv = customer_clv(
        r.bgnbd, r.gamma_gamma, s, unit="weeks", horizon_months=6, annual_discount_rate=0.0
    )
    horizon = 6 * 365.25 / 12 / 7
    want = r.gamma_gamma.expected_spend(s["frequency"], s["monetary_value"]) * (
        r.bgnbd.expected_purchases(horizon, s["frequency"], s["recency"], s["T"])
    )
    assert np.allclose(clv, want)
