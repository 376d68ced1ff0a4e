"""The statistics kernel against independent computations, and the shared settings in use."""

from __future__ import annotations

import inspect
import math
from pathlib import Path

import numpy as np
import pytest
import typer
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import binomtest, chi2_contingency, norm, ttest_ind

import seglens.accuracy
import seglens.impact
import seglens.report
import seglens.stats
import seglens.tracking
from seglens.errors import DataError, UsageError
from seglens.settings import DEFAULT_SETTINGS, Settings
from seglens.stats import (
    Estimate,
    FloatArray,
    bootstrap_interval,
    labels_needed,
    newcombe_diff,
    proportion,
    stratified_proportion,
    two_proportion_test,
    welch_diff,
    wilson_interval,
    z_value,
)

CASES = [(0, 10), (1, 1), (9, 10), (10, 10), (341, 400), (3, 7), (500, 1000), (1, 2000)]


def _scipy_wilson(k: int, n: int, confidence: float = 0.95) -> tuple[float, float]:
    ci = binomtest(k, n).proportion_ci(confidence_level=confidence, method="wilson")
    return float(ci.low), float(ci.high)


def test_public_surface_is_pinned() -> None:
    assert seglens.stats.__all__ == [
        "SAMPLE_SIZE_CLAMP_PCT",
        "DifferenceTest",
        "Estimate",
        "PermutationNull",
        "ProportionChange",
        "bootstrap_interval",
        "comparison_se",
        "difference_test",
        "effective_proportion",
        "labels_needed",
        "labels_to_decide",
        "newcombe_diff",
        "permutation_null",
        "proportion",
        "stratified_proportion",
        "two_proportion_test",
        "welch_diff",
        "wilson_interval",
        "z_value",
    ]


def test_one_kernel_behind_every_exported_name() -> None:
    assert seglens.accuracy.Estimate is Estimate
    assert seglens.impact.Estimate is Estimate
    assert seglens.report.Estimate is Estimate
    assert seglens.accuracy.wilson_interval is wilson_interval
    assert seglens.tracking.two_proportion_test is two_proportion_test
    assert seglens.tracking.labels_needed is labels_needed


def test_z_value_is_the_normal_quantile() -> None:
    for c in (0.5, 0.8, 0.9, 0.95, 0.99, 0.999):
        assert z_value(c) == pytest.approx(norm.ppf(0.5 + c / 2), rel=1e-12)
    for bad in (0.0, 1.0, 95.0, -0.1):
        with pytest.raises(UsageError):
            z_value(bad)


@pytest.mark.parametrize(("k", "n"), CASES)
@pytest.mark.parametrize("confidence", [0.9, 0.95, 0.99])
def test_wilson_matches_scipy(k: int, n: int, confidence: float) -> None:
    assert wilson_interval(k, n, confidence) == pytest.approx(
        _scipy_wilson(k, n, confidence), abs=1e-12
    )


def test_wilson_without_data_is_the_whole_range() -> None:
    assert wilson_interval(0, 0) == (0.0, 1.0)


@pytest.mark.parametrize(("k", "n"), CASES)
def test_proportion_fields(k: int, n: int) -> None:
    e = proportion(k, n)
    lo, hi = _scipy_wilson(k, n)
    p = k / n
    assert e.value_pct == pytest.approx(100 * p)
    assert (e.ci_low_pct, e.ci_high_pct) == pytest.approx((100 * lo, 100 * hi), abs=1e-10)
    assert e.se_pct == pytest.approx(100 * math.sqrt(p * (1 - p) / n))
    assert (e.n, e.successes, e.confidence, e.method) == (n, k, 0.95, "wilson")
    assert e.ci_low_pct <= e.value_pct <= e.ci_high_pct


def test_proportion_of_nothing_is_nan_but_from_counts_refuses() -> None:
    e = proportion(0, 0)
    assert math.isnan(e.value_pct) and e.n == 0
    with pytest.raises(DataError):
        Estimate.from_counts(0, 0)


def test_estimate_record_keeps_its_fields_and_forms() -> None:
    e = Estimate(90.0, 100, 82.6, 94.5)
    assert (e.confidence, e.method, e.se_pct, e.successes) == (0.95, "wilson", None, None)
    assert str(e) == "90.0 % (n=100, 95 % CI 82.6–94.5)"
    assert e.to_dict() == {
        "value_pct": 90.0,
        "n": 100,
        "ci_low_pct": 82.6,
        "ci_high_pct": 94.5,
        "confidence": 0.95,
        "method": "wilson",
        "se_pct": None,
    }
    assert e.half_width_pct == pytest.approx(7.4)


@pytest.mark.parametrize(
    ("x1", "n1", "x2", "n2"), [(48, 80, 56, 70), (5, 50, 0, 30), (9, 10, 3, 12)]
)
def test_newcombe_from_the_wilson_bounds_by_hand(x1: int, n1: int, x2: int, n2: int) -> None:
    l1, u1 = _scipy_wilson(x1, n1)
    l2, u2 = _scipy_wilson(x2, n2)
    p1, p2 = x1 / n1, x2 / n2
    low = p2 - p1 - math.sqrt((p2 - l2) ** 2 + (u1 - p1) ** 2)
    high = p2 - p1 + math.sqrt((u2 - p2) ** 2 + (p1 - l1) ** 2)
    d = newcombe_diff(x1, n1, x2, n2)
    assert d.value_pct == pytest.approx(100 * (p2 - p1))
    assert (d.ci_low_pct, d.ci_high_pct) == pytest.approx((100 * low, 100 * high), abs=1e-9)
    assert d.method == "newcombe" and d.n == n1 + n2


def test_newcombe_published_example() -> None:
    # Newcombe (1998), Stat. Med. 17:873, example (a): 56/70 - 48/80 -> 0.0524 .. 0.3339
    d = newcombe_diff(48, 80, 56, 70)
    assert (d.ci_low_pct, d.ci_high_pct) == pytest.approx((5.24, 33.39), abs=0.01)


@pytest.mark.parametrize(
    ("x1", "n1", "x2", "n2"), [(90, 100, 75, 100), (270, 300, 228, 300), (10, 40, 20, 45)]
)
def test_two_proportion_test_is_the_uncorrected_chi_square(
    x1: int, n1: int, x2: int, n2: int
) -> None:
    r = two_proportion_test(x1, n1, x2, n2)
    chi2, p, _, _ = chi2_contingency([[x1, n1 - x1], [x2, n2 - x2]], correction=False)
    assert r.p_value == pytest.approx(p, rel=1e-9)
    assert r.z**2 == pytest.approx(chi2, rel=1e-9)
    # one sign convention: later (2) minus earlier (1)
    assert math.copysign(1, r.z) == math.copysign(1, x2 / n2 - x1 / n1)
    assert r.diff_pts == pytest.approx(100 * (x2 / n2 - x1 / n1))
    d = newcombe_diff(x1, n1, x2, n2, confidence=1 - r.alpha)
    assert (r.ci_low_pts, r.ci_high_pts) == (d.ci_low_pct, d.ci_high_pct)
    assert r.significant == (p < 0.05)


def test_two_proportion_test_edges() -> None:
    r = two_proportion_test(10, 10, 20, 20)
    assert (r.z, r.p_value, r.significant) == (0.0, 1.0, False)
    with pytest.raises(UsageError):
        two_proportion_test(5, 0, 1, 10)
    with pytest.raises(UsageError):
        two_proportion_test(11, 10, 1, 10)


def test_stratified_estimate_by_hand() -> None:
    c, n, big = np.array([45, 25]), np.array([50, 50]), np.array([9000, 1000])
    est, n_eff = stratified_proportion(c, n, big)
    w = big / big.sum()
    p_h = c / n
    p = float((w * p_h).sum())
    var = float((w**2 * (1 - n / big) * p_h * (1 - p_h) / (n - 1)).sum())
    assert est.value_pct == pytest.approx(100 * p)
    assert est.se_pct == pytest.approx(100 * math.sqrt(var))
    assert n_eff == pytest.approx(p * (1 - p) / var)
    lo, hi = wilson_interval(p * n_eff, n_eff)
    assert (est.ci_low_pct, est.ci_high_pct) == pytest.approx((100 * lo, 100 * hi))
    assert (est.n, est.method, est.successes) == (100, "stratified-wilson", None)


def test_stratified_single_full_census_and_errors() -> None:
    est, n_eff = stratified_proportion([3, 5], [4, 5], [4, 5])  # every stratum audited in full
    assert math.isinf(n_eff) and est.ci_low_pct == est.value_pct == est.ci_high_pct
    est, _ = stratified_proportion([20, 10], [20, 10], [500, 100])  # all right: interval stays open
    assert est.value_pct == 100.0 and est.ci_low_pct < 100.0
    with pytest.raises(DataError):
        stratified_proportion([3], [0], [10])
    with pytest.raises(DataError):
        stratified_proportion([3, 1], [4], [10, 10])


def test_stratified_interval_covers_at_its_level() -> None:
    """Simulated audits of a fixed population: the 95 % interval covers the truth ~95 % of times."""
    rng = np.random.default_rng(20261)
    big = np.array([5000, 3000, 2000])
    good = np.array([4500, 2100, 1000])
    n = np.array([60, 40, 40])
    truth = 100 * good.sum() / big.sum()
    reps = 3000
    draws = rng.hypergeometric(good, big - good, n, size=(reps, 3))
    covered = 0
    for c in draws:
        est, _ = stratified_proportion(c, n, big)
        covered += est.ci_low_pct <= truth <= est.ci_high_pct
    assert 0.935 <= covered / reps <= 0.985


def test_welch_matches_scipy() -> None:
    rng = np.random.default_rng(1)
    a, b = rng.normal(1, 2, 50), rng.normal(0, 1, 80)
    d, low, high = welch_diff(b, a, confidence=0.9)  # second minus first: mean(a) - mean(b)
    ci = ttest_ind(a, b, equal_var=False).confidence_interval(confidence_level=0.9)
    assert d == pytest.approx(a.mean() - b.mean())
    assert (low, high) == pytest.approx((ci.low, ci.high))
    assert all(math.isnan(v) for v in welch_diff(np.array([1.0]), b))


def test_bootstrap_is_reproducible_and_covers_the_mean() -> None:
    rng = np.random.default_rng(2)
    x = rng.exponential(10, 400)

    def mean(w: FloatArray) -> FloatArray:
        return np.asarray((w @ x / w.sum(axis=1))[:, None], dtype=np.float64)

    lo, hi = bootstrap_interval(mean, x.size, seed=7)
    lo2, hi2 = bootstrap_interval(mean, x.size, seed=7)
    assert (lo[0], hi[0]) == (lo2[0], hi2[0])
    se = x.std(ddof=1) / math.sqrt(x.size)
    assert lo[0] < x.mean() < hi[0]
    assert hi[0] - lo[0] == pytest.approx(2 * 1.96 * se, rel=0.15)


def test_labels_needed_closed_form_and_clamp() -> None:
    assert labels_needed(5.0) == 385  # 1.96² · 0.25 / 0.05²
    assert labels_needed(3.0) == 1068
    z = norm.ppf(0.975)
    assert labels_needed(3.0, expected_pct=60.0) == math.ceil(z * z * 0.24 / 0.03**2)
    # near 0 and 100 % the plan uses 5 / 95 %, never "a handful of labels"
    assert labels_needed(5.0, expected_pct=100.0) == labels_needed(5.0, expected_pct=95.0) == 73
    assert labels_needed(5.0, expected_pct=0.0) == labels_needed(5.0, expected_pct=5.0)
    with pytest.raises(UsageError):
        labels_needed(0.0)


@settings(deadline=None)
@given(st.integers(1, 400), st.data())
def test_interval_contains_its_estimate(n: int, data: st.DataObject) -> None:
    k = data.draw(st.integers(0, n))
    e = proportion(k, n, data.draw(st.sampled_from([0.8, 0.95, 0.99])))
    assert 0.0 <= e.ci_low_pct <= e.value_pct <= e.ci_high_pct <= 100.0


# --- the shared settings are what every default reads --------------------------------------------


def test_default_settings() -> None:
    assert Settings(85.0, 5.0, 0.95, 30) == DEFAULT_SETTINGS


def test_library_defaults_read_the_settings() -> None:
    from seglens.accuracy import SegmentRule
    from seglens.audit import plan_audit
    from seglens.report.snapshot import ReviewSnapshot
    from seglens.tracking import AlertRules

    rules = AlertRules()
    assert (rules.target_pct, rules.margin_pts, rules.confidence) == (
        DEFAULT_SETTINGS.target_pct,
        DEFAULT_SETTINGS.margin_pts,
        DEFAULT_SETTINGS.confidence,
    )
    assert SegmentRule().target_pct == DEFAULT_SETTINGS.target_pct
    plan = inspect.signature(plan_audit).parameters
    assert plan["margin_pct"].default == DEFAULT_SETTINGS.margin_pts
    assert plan["min_per_segment"].default == DEFAULT_SETTINGS.min_per_segment
    snap = ReviewSnapshot("2011Q3", Estimate.from_counts(9, 10), ())
    assert (snap.target_pct, snap.margin_pct) == (
        DEFAULT_SETTINGS.target_pct,
        DEFAULT_SETTINGS.margin_pts,
    )


def test_web_app_default_settings(tmp_path: Path) -> None:
    from seglens.web import Settings as WebSettings
    from seglens.web import create_app

    assert WebSettings is Settings
    app = create_app(str(tmp_path / "s.db"))
    try:
        assert app.state.seglens.settings == DEFAULT_SETTINGS
    finally:
        app.state.seglens.store.close()


def _option_default(command: str, option: str) -> object:
    from seglens.cli import app

    group = typer.main.get_command(app)
    cmd = group.commands[command]  # type: ignore[attr-defined]
    return next(p.default for p in cmd.params if p.name == option)


def test_cli_defaults_read_the_settings() -> None:
    assert _option_default("serve", "target") == DEFAULT_SETTINGS.target_pct
    assert _option_default("serve", "margin") == DEFAULT_SETTINGS.margin_pts
    assert _option_default("accuracy", "target") == DEFAULT_SETTINGS.target_pct
    assert _option_default("accuracy", "confidence") == DEFAULT_SETTINGS.confidence
    assert _option_default("audit-sample", "margin") == DEFAULT_SETTINGS.margin_pts
    assert _option_default("audit-sample", "min_per_segment") == DEFAULT_SETTINGS.min_per_segment


def test_difference_test_against_a_simulation_of_paired_estimates() -> None:
    """Two estimates sharing customers: the variance with the covariance term matches the
    variance of simulated differences; without it the test would be far too conservative."""
    rng = np.random.default_rng(11)
    n, shared, reps = 400, 300, 4000
    diffs = np.empty(reps)
    for r in range(reps):
        y = rng.random(n + n - shared) < 0.8
        a, b = y[:n], y[n - shared :]
        diffs[r] = 100 * (b.mean() - a.mean())
    se = 100 * (0.8 * 0.2 / n) ** 0.5
    cov = 1e4 * shared * 0.8 * 0.2 / (n * n)
    t = seglens.stats.difference_test((80.0, se), (80.0, se), covariance=cov)
    assert t.se_pts == pytest.approx(float(diffs.std()), rel=0.05)
    independent = seglens.stats.difference_test((80.0, se), (80.0, se))
    assert independent.se_pts > 1.8 * t.se_pts
