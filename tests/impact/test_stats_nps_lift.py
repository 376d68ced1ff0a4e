"""Interval estimates, NPS and campaign lift: hand-computed answers and properties."""

from __future__ import annotations

import math

import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from seglens.errors import DataError
from seglens.impact.lift import arm_rates, campaign_lift
from seglens.impact.nps import nps, nps_by_segment
from seglens.stats import bootstrap_interval, newcombe_diff, proportion, welch_diff


def test_newcombe_published_example() -> None:
    # Newcombe (1998), Stat. Med. 17:873, example (a): 56/70 - 48/80 -> 0.0524 .. 0.3339
    e = newcombe_diff(48, 80, 56, 70)  # second minus first, in points
    assert e.value_pct == pytest.approx(20.0)
    assert e.ci_low_pct == pytest.approx(5.24, abs=1e-2)
    assert e.ci_high_pct == pytest.approx(33.39, abs=1e-2)


def test_wilson_known_answer_and_edges() -> None:
    e = proportion(0, 10)
    assert e.value_pct == 0.0 and e.ci_low_pct == 0.0
    assert e.ci_high_pct == pytest.approx(27.75, abs=1e-2)  # Wilson upper bound for 0/10
    assert math.isnan(proportion(0, 0).value_pct)


@settings(deadline=None)
@given(st.integers(0, 500), st.integers(1, 500))
def test_wilson_contains_estimate(k: int, n: int) -> None:
    k = min(k, n)
    e = proportion(k, n)
    assert 0.0 <= e.ci_low_pct <= e.value_pct <= e.ci_high_pct <= 100.0


@settings(deadline=None)
@given(st.integers(1, 300), st.integers(1, 300), st.data())
def test_newcombe_contains_difference(n1: int, n0: int, data: st.DataObject) -> None:
    k1 = data.draw(st.integers(0, n1))
    k0 = data.draw(st.integers(0, n0))
    e = newcombe_diff(k0, n0, k1, n1)
    assert -100.0 <= e.ci_low_pct <= e.value_pct <= e.ci_high_pct <= 100.0


def test_welch_matches_scipy() -> None:
    from scipy import stats

    rng = np.random.default_rng(1)
    a, b = rng.normal(1, 2, 50), rng.normal(0, 1, 80)
    _, low, high = welch_diff(b, a)  # mean(a) - mean(b)
    ci = stats.ttest_ind(a, b, equal_var=False).confidence_interval()
    assert (low, high) == pytest.approx((ci.low, ci.high))


def test_bootstrap_mean_interval_covers_mean() -> None:
    rng = np.random.default_rng(2)
    x = rng.exponential(10, 400)
    lo, hi = bootstrap_interval(lambda w: (w @ x / w.sum(axis=1))[:, None], x.size)
    se = x.std(ddof=1) / math.sqrt(x.size)
    assert lo[0] < x.mean() < hi[0]
    assert hi[0] - lo[0] == pytest.approx(2 * 1.96 * se, rel=0.15)


def test_nps_hand_computed() -> None:
    scores = [10, 10, 9, 8, 7, 6, 0, 9, 10, 5]  # 5 promoters, 3 detractors, n 10
    e = nps(scores)
    assert e.value_pct == pytest.approx(20.0)
    # adjusted Wald: (6/13 - 4/13) +- 1.96 * sqrt((10/13 - (2/13)^2) / 13)
    se = math.sqrt((10 / 13 - (2 / 13) ** 2) / 13)
    assert e.ci_low_pct == pytest.approx(100 * (2 / 13 - 1.959964 * se), abs=1e-3)
    assert e.ci_high_pct == pytest.approx(100 * (2 / 13 + 1.959964 * se), abs=1e-3)


def test_nps_rejects_out_of_scale() -> None:
    with pytest.raises(DataError, match="0 to 10"):
        nps([3, 11])
    with pytest.raises(DataError):
        nps([3.5])


@settings(deadline=None)
@given(st.lists(st.integers(0, 10), min_size=1, max_size=200))
def test_nps_bounds(scores: list[int]) -> None:
    e = nps(scores)
    assert -100 <= e.ci_low_pct <= e.ci_high_pct <= 100
    assert -100 <= e.value_pct <= 100


def test_nps_by_segment_rows() -> None:
    f = pl.DataFrame({"segment": ["a", "a", "b"], "score": [10, 0, None]})
    out = nps_by_segment(f)
    assert out["segment"].to_list() == ["(all)", "a", "b"]
    assert out.filter(pl.col("segment") == "b")["n"].item() == 0


def test_campaign_lift_hand_computed() -> None:
    f = pl.DataFrame(
        {
            "arm": ["t"] * 10 + ["c"] * 10,
            "y": [1] * 6 + [0] * 4 + [1] * 2 + [0] * 8,
            "spend": [10.0] * 6 + [0.0] * 4 + [5.0] * 2 + [0.0] * 8,
        }
    )
    r = campaign_lift(
        f, arm_col="arm", control="c", response_col="y", segment_col=None, spend_col="spend"
    )
    row = r.row(0, named=True)
    assert row["lift"] == pytest.approx(0.4)
    assert row["relative_lift"] == pytest.approx(2.0)
    assert row["spend_lift"] == pytest.approx(6.0 - 1.0)
    want = newcombe_diff(2, 10, 6, 10)
    assert (row["lift_low"], row["lift_high"]) == pytest.approx(
        (want.ci_low_pct / 100, want.ci_high_pct / 100)
    )


def test_campaign_lift_errors() -> None:
    f = pl.DataFrame({"arm": ["t", "c"], "y": [1, 2]})
    with pytest.raises(DataError, match="0/1"):
        campaign_lift(f, arm_col="arm", control="c", response_col="y", segment_col=None)
    f = pl.DataFrame({"arm": ["t", "u"], "y": [1, 0]})
    with pytest.raises(DataError, match="control arm"):
        campaign_lift(f, arm_col="arm", control="c", response_col="y", segment_col=None)


def test_arm_rates_sum() -> None:
    f = pl.DataFrame({"arm": ["a", "b", "b"], "y": [1, 1, 0]})
    r = arm_rates(f, arm_col="arm", response_col="y")
    assert r["n"].sum() == 3 and r["responders"].sum() == 2
