"""Periods, the two-proportion test and the migration matrix: known answers and properties."""

from __future__ import annotations

from datetime import date, timedelta

import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy.stats import chi2_contingency

from seglens.errors import UsageError
from seglens.tracking import GONE, NEW, migration_matrix, period_of, two_proportion_test


@pytest.mark.parametrize(
    ("day", "kind", "label", "start", "end"),
    [
        (date(2011, 6, 30), "quarter", "2011Q2", date(2011, 4, 1), date(2011, 6, 30)),
        (date(2011, 12, 9), "quarter", "2011Q4", date(2011, 10, 1), date(2011, 12, 31)),
        (date(2012, 2, 29), "month", "2012-02", date(2012, 2, 1), date(2012, 2, 29)),
        (date(2010, 12, 1), "month", "2010-12", date(2010, 12, 1), date(2010, 12, 31)),
    ],
)
def test_period_known_answers(day: date, kind: str, label: str, start: date, end: date) -> None:
    p = period_of(day, kind)
    assert (p.label, p.start, p.end) == (label, start, end)


@given(
    st.dates(min_value=date(1900, 1, 2), max_value=date(2200, 1, 1)),
    st.sampled_from(["quarter", "month"]),
)
def test_periods_tile_the_calendar(day: date, kind: str) -> None:
    p = period_of(day, kind)
    assert p.start <= day <= p.end
    assert p.previous().end == p.start - timedelta(days=1)
    assert period_of(p.end + timedelta(days=1), kind).start == p.end + timedelta(days=1)


def test_unknown_period_kind_is_a_user_error() -> None:
    with pytest.raises(UsageError):
        period_of(date(2011, 1, 1), "week")


def test_two_proportion_test_equals_the_uncorrected_chi_square() -> None:
    r = two_proportion_test(90, 100, 75, 100)
    stat, p, _, _ = chi2_contingency([[90, 10], [75, 25]], correction=False)
    assert r.z**2 == pytest.approx(stat)
    assert r.p_value == pytest.approx(p)
    assert r.diff_pts == pytest.approx(-15.0)
    assert r.significant


def test_difference_interval_matches_newcombe_1998_example() -> None:
    # Newcombe (1998), Stat Med 17:873, example (a): 56/70 - 48/80, method 10: 0.0524 to 0.3339.
    r = two_proportion_test(48, 80, 56, 70)
    assert round(r.ci_low_pts / 100, 4) == 0.0524
    assert round(r.ci_high_pts / 100, 4) == 0.3339


@given(
    st.integers(1, 500).flatmap(lambda n: st.tuples(st.integers(0, n), st.just(n))),
    st.integers(1, 500).flatmap(lambda n: st.tuples(st.integers(0, n), st.just(n))),
)
def test_swapping_periods_flips_the_sign_only(a: tuple[int, int], b: tuple[int, int]) -> None:
    fwd, back = two_proportion_test(*a, *b), two_proportion_test(*b, *a)
    assert fwd.diff_pts == pytest.approx(-back.diff_pts)
    assert fwd.p_value == pytest.approx(back.p_value)
    assert 0.0 <= fwd.p_value <= 1.0
    assert fwd.ci_low_pts <= fwd.diff_pts <= fwd.ci_high_pts


def test_invalid_counts_are_refused() -> None:
    with pytest.raises(UsageError):
        two_proportion_test(5, 4, 1, 2)


def test_migration_matrix_known_answer_customers_and_revenue() -> None:
    before = pl.DataFrame(
        {
            "customer_id": ["1", "2", "3", "4"],
            "segment": ["A", "A", "B", "B"],
            "revenue": [1.0, 2.0, 3.0, 4.0],
        }
    )
    after = pl.DataFrame(
        {
            "customer_id": ["1", "2", "3", "5"],
            "segment": ["A", "B", "B", "A"],
            "revenue": [10.0, 20.0, 30.0, 50.0],
        }
    )
    m = migration_matrix(before, after)
    assert m.wide("customers").rows() == [
        ("A", 1, 1, 0),
        ("B", 0, 1, 1),
        (NEW, 1, 0, 0),
    ]
    assert m.wide("revenue").columns == ["from_segment", "A", "B", GONE]
    assert m.wide("revenue").rows() == [
        ("A", 10.0, 20.0, 0.0),
        ("B", 0.0, 30.0, 4.0),  # a gone customer carries the earlier run's revenue
        (NEW, 50.0, 0.0, 0.0),
    ]
    assert m.stability == {"A": 0.5, "B": 1.0}


@given(
    st.dictionaries(st.integers(0, 30), st.sampled_from("ABC"), max_size=25),
    st.dictionaries(st.integers(0, 30), st.sampled_from("ABCD"), max_size=25),
)
def test_migration_counts_every_customer_once(b: dict[int, str], a: dict[int, str]) -> None:
    def frame(d: dict[int, str]) -> pl.DataFrame:
        return pl.DataFrame(
            {"customer_id": [str(k) for k in d], "segment": list(d.values())},
            schema={"customer_id": pl.String, "segment": pl.String},
        )

    m = migration_matrix(frame(b), frame(a))
    assert int(m.flows["customers"].sum() or 0) == len(set(b) | set(a))
    assert all(0.0 <= v <= 1.0 for v in m.stability.values())
    stayed = sum(1 for k in set(b) & set(a) if b[k] == a[k])
    diag = m.flows.filter(pl.col("from_segment") == pl.col("to_segment"))["customers"].sum()
    assert int(diag or 0) == stayed
