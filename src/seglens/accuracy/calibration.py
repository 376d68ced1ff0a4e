"""How far to trust the label-free proxies: calibration against planted truth.

Each scenario generates a population with known segments (:func:`seglens.synthetic.make_population`,
varying separation, period-to-period noise, segment count, size imbalance and whether the
segmenter is given the right number of segments), segments it with k-means, and records the *true*
customer-level accuracy beside every proxy. Across scenarios, :func:`summarise` reports for each
proxy the Spearman correlation with true accuracy (does it rank segmentations right?) and, for
proxies on a 0-100 scale, the mean absolute error and bias in points (can it be read as an
accuracy?). As a reference the table also carries a *labelled* row: the stratified estimate from a
400-customer audit.

``benchmarks/calibrate_proxies.py`` runs the published table (one command, see
``docs/accuracy.md``).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

import numpy as np
from scipy.stats import spearmanr
from sklearn.cluster import KMeans

from seglens.accuracy.metrics import accuracy_score
from seglens.accuracy.report import accuracy_report
from seglens.accuracy.separation import reproducibility_score, separation
from seglens.accuracy.stability import bootstrap_stability
from seglens.accuracy.temporal import (
    behaviour_from_transactions,
    behavioural_validity,
    out_of_time_validity,
)
from seglens.audit import plan_audit, stratified_accuracy
from seglens.synthetic import make_population

__all__ = ["PROXIES", "Scenario", "make_scenarios", "run_scenario", "summarise"]

PROXIES: tuple[str, ...] = (
    "stability_jaccard",
    "stability_ari",
    "out_of_time_held",
    "behavioural_validity",
    "reproducibility",
    "silhouette",
    "davies_bouldin",
    "audit_400_stratified",
)
"""Columns compared with true accuracy; the last one uses labels (a reference, not a proxy)."""

_PERCENT_SCALE = {p for p in PROXIES if p != "davies_bouldin"}


@dataclass(frozen=True)
class Scenario:
    """One planted-truth population and the segmenter applied to it."""

    scenario: int
    n_customers: int
    n_segments: int
    segmenter_k: int
    n_features: int
    separation: float
    period_noise: float
    imbalance: float
    seed: int


def make_scenarios(count: int = 60, *, n_customers: int = 2000, seed: int = 0) -> list[Scenario]:
    """``count`` scenarios with parameters drawn at random over the documented ranges.

    Separation 0.5-6 (log-uniform), period noise 0.1-1.2, 2-6 segments, imbalance 1-8
    (log-uniform), 3 or 6 features; one scenario in three gives k-means one segment too many.

    Examples
    --------
    >>> [s.n_segments for s in make_scenarios(3)]
    [6, 6, 5]
    """
    rng = np.random.default_rng(seed)
    out = []
    for i in range(count):
        k = int(rng.integers(2, 7))
        out.append(
            Scenario(
                scenario=i,
                n_customers=n_customers,
                n_segments=k,
                segmenter_k=k + 1 if rng.random() < 1 / 3 else k,
                n_features=int(rng.choice([3, 6])),
                separation=round(float(math.exp(rng.uniform(math.log(0.5), math.log(6.0)))), 3),
                period_noise=round(float(rng.uniform(0.1, 1.2)), 3),
                imbalance=round(float(math.exp(rng.uniform(0.0, math.log(8.0)))), 3),
                seed=int(rng.integers(1_000_000)),
            )
        )
    return out


def _audit_estimate(truth: np.ndarray, pred: np.ndarray, seed: int) -> float:
    """Stratified accuracy estimate (%) from 400 audited customers; mapping learnt on them."""
    sizes = {str(s): int(c) for s, c in zip(*np.unique(pred, return_counts=True), strict=True)}
    plan = plan_audit(sizes, total=min(400, truth.size), min_per_segment=30)
    rng = np.random.default_rng(seed)
    idx = np.concatenate(
        [
            rng.choice(np.flatnonzero(pred.astype(str) == s.segment), s.sample, replace=False)
            for s in plan.strata
        ]
    )
    mapping = accuracy_report(truth[idx], pred[idx], match="hungarian").mapping
    ok = np.array([mapping[str(p)] == str(t) for t, p in zip(truth[idx], pred[idx], strict=True)])
    return stratified_accuracy(ok, pred[idx].astype(str), sizes).estimate.value_pct


def run_scenario(sc: Scenario, *, n_resamples: int = 10) -> dict[str, Any]:
    """Generate, segment, and measure true accuracy and every proxy for one scenario."""
    pop = make_population(
        sc.n_customers,
        n_segments=sc.n_segments,
        n_features=sc.n_features,
        separation=sc.separation,
        period_noise=sc.period_noise,
        imbalance=sc.imbalance,
        seed=sc.seed,
    )
    km = KMeans(sc.segmenter_k, n_init=4, random_state=sc.seed).fit(pop.features)
    pred = km.labels_
    truth_acc = accuracy_score(pop.truth, pred, match="hungarian")
    stab = bootstrap_stability(
        pop.features, km, labels=pred, n_resamples=n_resamples, random_state=sc.seed
    )
    oot = out_of_time_validity(pop.features, pop.holdout_features, km)
    start = datetime(2024, 1, 1)
    before = behaviour_from_transactions(
        pop.transactions(start=start, days=365), pop.customer_id, start=start,
        end=datetime(2024, 12, 31),
    )  # fmt: skip
    after = behaviour_from_transactions(
        pop.transactions(start=start, days=365, holdout=True), pop.customer_id,
        start=datetime(2024, 12, 31), end=datetime(2025, 12, 31),
    )  # fmt: skip
    beh = behavioural_validity(pred, before, after)
    sep = separation(pop.features, pred, sample_size=sc.n_customers, random_state=sc.seed)
    repro = reproducibility_score(pop.features, pred, random_state=sc.seed)
    return {
        **asdict(sc),
        "true_accuracy": truth_acc,
        "stability_jaccard": 100 * stab.mean_jaccard,
        "stability_ari": 100 * stab.ari,
        "out_of_time_held": oot.held.value_pct,
        "behavioural_validity": beh.validity_pct,
        "reproducibility": repro.value_pct,
        "silhouette": 100 * sep.silhouette,
        "davies_bouldin": sep.davies_bouldin,
        "audit_400_stratified": _audit_estimate(pop.truth, pred, sc.seed),
    }


def summarise(rows: Sequence[dict[str, Any]], proxies: Iterable[str] = PROXIES) -> dict[str, Any]:
    """Spearman correlation with true accuracy, and MAE / bias in points, for each proxy.

    Examples
    --------
    >>> rows = [{"true_accuracy": a, "x": a + 5} for a in (50.0, 70.0, 90.0)]
    >>> summarise(rows, ["x"])["proxies"]["x"]
    {'spearman': 1.0, 'mae_points': 5.0, 'bias_points': 5.0}
    """
    truth = np.array([r["true_accuracy"] for r in rows], dtype=np.float64)
    out: dict[str, Any] = {
        "n_scenarios": len(rows),
        "true_accuracy_min": float(truth.min()),
        "true_accuracy_median": float(np.median(truth)),
        "true_accuracy_max": float(truth.max()),
        "proxies": {},
    }
    for p in proxies:
        v = np.array([r[p] for r in rows], dtype=np.float64)
        rho = float(spearmanr(v, truth).statistic) if np.ptp(v) and np.ptp(truth) else math.nan
        row: dict[str, float | None] = {"spearman": round(rho, 3)}
        if p in _PERCENT_SCALE or p not in PROXIES:
            row["mae_points"] = round(float(np.mean(np.abs(v - truth))), 2)
            row["bias_points"] = round(float(np.mean(v - truth)), 2)
        else:
            row["mae_points"] = None
            row["bias_points"] = None
        out["proxies"][p] = row
    return out
