"""Audit sampling plans, the drawn sheet, and the stratified estimate (weights, variance, CI)."""

from __future__ import annotations

import math

import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from seglens.audit import (
    draw_audit_sample,
    estimate_from_sheet,
    expected_margin,
    plan_audit,
    stratified_accuracy,
)
from seglens.errors import DataError, UsageError


def test_single_segment_plan_matches_the_textbook_formula() -> None:
    n0 = 1.959963984540054**2 * 0.25 / 0.03**2  # 1067.07
    expected = math.ceil(n0 / (1 + (n0 - 1) / 20_000))
    plan = plan_audit({"all": 20_000}, margin_pct=3.0)
    assert abs(plan.total - expected) <= 1
    assert plan.expected_margin_pct <= 3.0


@settings(max_examples=40, deadline=None)
@given(
    sizes=st.lists(st.integers(1, 20_000), min_size=1, max_size=6),
    margin=st.floats(1.0, 10.0),
    floor=st.integers(1, 50),
)
def test_plan_is_the_smallest_meeting_the_margin(
    sizes: list[int], margin: float, floor: int
) -> None:
    segs = {f"s{i}": n for i, n in enumerate(sizes)}
    plan = plan_audit(segs, margin_pct=margin, min_per_segment=floor)
    assert plan.expected_margin_pct <= margin + 1e-9
    for s in plan.strata:
        assert min(floor, s.population) <= s.sample <= s.population
    if plan.total > sum(min(floor, n) for n in sizes):
        smaller = plan_audit(segs, total=plan.total - 1, min_per_segment=floor)
        assert smaller.expected_margin_pct > margin


def test_neyman_needs_fewer_labels_when_accuracies_differ() -> None:
    sizes = {"a": 5000, "b": 5000}
    p = {"a": 98.0, "b": 60.0}
    ney = plan_audit(sizes, margin_pct=2.0, expected_accuracy_pct=p, allocation="neyman")
    prop = plan_audit(sizes, margin_pct=2.0, expected_accuracy_pct=p, allocation="proportional")
    assert ney.total < prop.total
    assert ney.strata[1].sample > ney.strata[0].sample  # the uncertain segment gets more


def test_plan_with_fixed_total_and_errors() -> None:
    plan = plan_audit({"a": 900, "b": 90, "c": 10}, total=100, min_per_segment=20)
    assert [s.sample for s in plan.strata] == [70, 20, 10]
    assert plan.target_margin_pct is None
    assert plan.to_dict()["total"] == 100
    with pytest.raises(UsageError, match="allocation"):
        plan_audit({"a": 10}, allocation="random")  # type: ignore[arg-type]
    with pytest.raises(UsageError, match="expected accuracy"):
        plan_audit({"a": 10, "b": 5}, expected_accuracy_pct={"a": 90.0})
    with pytest.raises(DataError):
        plan_audit({})


def test_expected_margin_known_answer() -> None:
    # two equal strata, p = 0.5, n = 100 of 1000 each: z * sqrt(2 * 0.25 * 0.25 * 0.9 / 100)
    assert expected_margin([1000, 1000], [100, 100], [0.5, 0.5]) == pytest.approx(
        1.959963984540054 * math.sqrt(2 * 0.0625 * 0.9 / 100)
    )
    assert expected_margin([10, 10], [10, 0], 0.5) == math.inf


def test_draw_audit_sample_sheet() -> None:
    ids = [f"{i:05d}" for i in range(1000)]
    seg = pl.DataFrame({"customer_id": ids, "segment": ["x"] * 700 + ["y"] * 250 + ["z"] * 50})
    plan = plan_audit({"x": 700, "y": 250, "z": 50}, margin_pct=8.0, min_per_segment=25)
    sheet = draw_audit_sample(seg, plan, random_state=3)
    assert sheet.columns == [
        "customer_id",
        "assigned_segment",
        "stratum_size",
        "sample_weight",
        "population",
        "reviewer_segment",
        "note",
    ]
    assert sheet.height == plan.total
    assert sheet["customer_id"].n_unique() == sheet.height
    counts = dict(sheet.group_by("assigned_segment").len().rows())
    assert counts == {s.segment: s.sample for s in plan.strata}
    assert sheet["customer_id"][0].startswith("0")  # ids kept as strings
    assert draw_audit_sample(seg, plan, random_state=3).equals(sheet)
    with pytest.raises(DataError, match="plan says"):
        draw_audit_sample(seg.head(900), plan)


def _scrambled_segments() -> pl.DataFrame:
    """30 customers whose ids sort differently as text, as numbers and in the frame's order."""
    rng = np.random.default_rng(0)
    ids = [str(i) for i in rng.permutation(30) * 7 + 3]
    return pl.DataFrame({"customer_id": ids, "segment": ["a"] * 20 + ["b"] * 10})


def test_draw_is_numpys_choice_among_the_ids_sorted_as_text() -> None:
    seg = _scrambled_segments()
    plan = plan_audit({"a": 20, "b": 10}, total=9, allocation="proportional", min_per_segment=1)
    for seed in (0, 1, 42):
        rng = np.random.default_rng(seed)  # the definition, written out: strata in plan order
        want = []
        for name, size in (("a", 6), ("b", 3)):
            ids = sorted(seg.filter(pl.col("segment") == name)["customer_id"].to_list())
            want += [ids[i] for i in sorted(rng.choice(len(ids), size, replace=False))]
        sheet = draw_audit_sample(seg, plan, random_state=seed)
        assert sheet["customer_id"].to_list() == want
        # the rows' order does not matter: reversed or shuffled, the same customers
        for other in (seg.reverse(), seg.sample(fraction=1.0, shuffle=True, seed=seed)):
            assert draw_audit_sample(other, plan, random_state=seed).equals(sheet)


def test_draw_is_uniform_within_each_stratum() -> None:
    """Over 500 seeds each customer is drawn about n_h/N_h of the time (6/20 and 3/10 = 0.3):
    every count within 4.5 binomial SDs (all 30 together: false alarm < 1e-4), and the counts'
    chi-square (without-replacement covariance: (N-1)/N x sum of z^2 ~ chi2 with N-1 dof)."""
    from scipy.stats import chi2

    seg = _scrambled_segments()
    plan = plan_audit({"a": 20, "b": 10}, total=9, allocation="proportional", min_per_segment=1)
    repeats, p = 500, 0.3
    drawn = pl.concat(
        [draw_audit_sample(seg, plan, random_state=r).select("customer_id") for r in range(repeats)]
    )
    counts = dict(drawn.group_by("customer_id").len().iter_rows())
    for name in ("a", "b"):
        ids = seg.filter(pl.col("segment") == name)["customer_id"].to_list()
        c = np.array([counts.get(i, 0) for i in ids], dtype=float)
        assert c.sum() == repeats * p * len(ids)  # n_h per draw, exactly
        z = (c - repeats * p) / math.sqrt(repeats * p * (1 - p))
        assert np.abs(z).max() < 4.5, (name, c)
        big_n = len(ids)
        assert chi2.sf((big_n - 1) / big_n * float(np.sum(z**2)), big_n - 1) > 1e-3, (name, c)


def test_stratified_estimate_known_answer() -> None:
    ok = [1] * 45 + [0] * 5 + [1] * 25 + [0] * 25
    strata = ["a"] * 50 + ["b"] * 50
    est = stratified_accuracy(ok, strata, {"a": 9000, "b": 1000})
    assert est.estimate.value_pct == pytest.approx(86.0)
    w = np.array([0.9, 0.1])
    ph = np.array([0.9, 0.5])
    fpc = 1 - np.array([50 / 9000, 50 / 1000])
    var = float(np.sum(w**2 * fpc * ph * (1 - ph) / 49))
    assert est.se_pct == pytest.approx(100 * math.sqrt(var))
    assert est.estimate.ci_low_pct < 86.0 < est.estimate.ci_high_pct
    assert est.weights == {"a": 0.9, "b": 0.1}
    assert est.per_stratum["b"].value_pct == 50.0


def test_stratified_estimate_edge_cases() -> None:
    all_right = stratified_accuracy([1] * 40, ["a"] * 20 + ["b"] * 20, {"a": 100, "b": 100})
    assert all_right.estimate.value_pct == 100.0
    assert all_right.estimate.ci_low_pct < 100.0  # no zero-width interval
    census = stratified_accuracy([1, 0, 1, 1], ["a", "a", "b", "b"], {"a": 2, "b": 2})
    assert census.estimate.ci_low_pct == census.estimate.ci_high_pct == 75.0
    with pytest.raises(DataError, match="no audited customer"):
        stratified_accuracy([1], ["a"], {"a": 10, "b": 5})
    with pytest.raises(DataError, match="no known size"):
        stratified_accuracy([1], ["c"], {"c0": 10})
    with pytest.raises(DataError, match="True/False"):
        stratified_accuracy([2], ["a"], {"a": 10})


@pytest.mark.slow
def test_stratified_interval_covers_the_truth_about_95_percent_of_the_time() -> None:
    rng = np.random.default_rng(0)
    sizes = {"a": 6000, "b": 3000, "c": 1000}
    acc = {"a": 0.92, "b": 0.7, "c": 0.45}
    pop_ok = {s: rng.random(n) < acc[s] for s, n in sizes.items()}
    truth = sum(pop_ok[s].sum() for s in sizes) / sum(sizes.values())
    plan = plan_audit(sizes, total=300, min_per_segment=30)
    hits = 0
    reps = 400
    for _ in range(reps):
        ok, strata = [], []
        for s in plan.strata:
            pick = rng.choice(s.population, size=s.sample, replace=False)
            ok.append(pop_ok[s.segment][pick])
            strata += [s.segment] * s.sample
        est = stratified_accuracy(np.concatenate(ok), strata, sizes).estimate
        hits += est.ci_low_pct <= 100 * truth <= est.ci_high_pct
    assert 0.92 <= hits / reps <= 0.98


def test_estimate_from_sheet_counts_unreviewed_rows() -> None:
    sheet = pl.DataFrame(
        {
            "customer_id": ["1", "2", "3", "4", "5"],
            "assigned_segment": ["a", "a", "b", "b", "b"],
            "stratum_size": [100, 100, 50, 50, 50],
            "reviewer_segment": ["A ", "b", "b", "", None],
        }
    )
    est = estimate_from_sheet(sheet)
    assert est.n_not_reviewed == 2
    assert est.estimate.n == 3
    assert est.estimate.value_pct == pytest.approx(100 * (2 / 3 * 0.5 + 1 / 3 * 1.0))
    with pytest.raises(DataError, match="lacks column"):
        estimate_from_sheet(sheet.drop("stratum_size"))


@settings(max_examples=60, deadline=None)
@given(
    data=st.data(),
    fraction=st.integers(1, 5),
    k=st.integers(1, 5),
)
def test_self_weighting_sample_gives_the_plain_share(
    data: st.DataObject, fraction: int, k: int
) -> None:
    # every stratum sampled at the same rate (1 in `fraction`): weights cancel out
    sizes = {f"s{i}": fraction * data.draw(st.integers(2, 40)) for i in range(k)}
    ok, strata = [], []
    for s, big_n in sizes.items():
        n = big_n // fraction
        ok += data.draw(st.lists(st.booleans(), min_size=n, max_size=n))
        strata += [s] * n
    est = stratified_accuracy(ok, strata, sizes)
    assert est.estimate.value_pct == pytest.approx(100 * np.mean(ok))
    assert 0 <= est.estimate.ci_low_pct <= est.estimate.value_pct <= est.estimate.ci_high_pct <= 100
