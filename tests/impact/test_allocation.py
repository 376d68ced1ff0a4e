"""Budget allocation across segments."""

from __future__ import annotations

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from seglens.errors import DataError, UsageError
from seglens.impact.allocation import allocate_budget

SEGS = pl.DataFrame(
    {
        "segment": ["(all)", "a", "b", "c"],
        "customers": [600, 100, 200, 300],
        "clv_mean": [10.0, 40.0, 10.0, 2.0],
        "clv_mean_low": [9.0, 30.0, 8.0, 1.0],
        "clv_mean_high": [11.0, 50.0, 12.0, 3.0],
    }
)


def test_proportional_to_customers_times_clv() -> None:
    a = allocate_budget(SEGS, 1000.0)
    got = {r["segment"]: r["budget"] for r in a.table.iter_rows(named=True)}
    assert set(got) == {"a", "b", "c"}  # the (all) row is not a segment
    total = 100 * 40 + 200 * 10 + 300 * 2
    assert got["a"] == pytest.approx(1000 * 4000 / total)
    assert got["c"] == pytest.approx(1000 * 600 / total)
    a_row = a.table.filter(pl.col("segment") == "a").row(0, named=True)
    assert a_row["share_low"] < a_row["share"] < a_row["share_high"]
    assert any("proportional" in s for s in a.assumptions)


def test_lift_weights_and_no_effect_segments() -> None:
    lift = pl.DataFrame(
        {"segment": ["a", "b"], "relative_lift": [0.5, 0.2], "lift_high": [-0.01, 0.3]}
    )
    a = allocate_budget(SEGS, 1000.0, lift=lift)
    got = {r["segment"]: r["budget"] for r in a.table.iter_rows(named=True)}
    assert got["a"] == 0.0  # interval wholly below zero
    # c has no measurement: it gets the average lift (0.35)
    wb, wc = 200 * 10 * 0.2, 300 * 2 * 0.35
    assert got["b"] == pytest.approx(1000 * wb / (wb + wc))
    assert any("average measured lift" in s for s in a.assumptions)


def test_errors() -> None:
    with pytest.raises(UsageError):
        allocate_budget(SEGS, -1.0)
    with pytest.raises(DataError, match="positive expected value"):
        allocate_budget(SEGS.with_columns(pl.lit(0.0).alias("clv_mean")), 10.0)


@settings(deadline=None)
@given(st.lists(st.floats(0.01, 1e4), min_size=1, max_size=8), st.floats(0, 1e7))
def test_budget_adds_up(values: list[float], budget: float) -> None:
    s = pl.DataFrame(
        {"segment": [f"s{i}" for i in range(len(values))], "customers": [10] * len(values),
         "clv_mean": values}
    )  # fmt: skip
    a = allocate_budget(s, budget)
    assert a.table["budget"].sum() == pytest.approx(budget, rel=1e-9, abs=1e-6)
    assert (a.table["budget"] >= 0).all()
