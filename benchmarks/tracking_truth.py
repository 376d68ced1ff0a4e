"""Planted-truth study of the tracked KPI: does the quarterly figure cover the truth, and does
``significant_drop`` keep its false-alarm rate when nothing changed?

Each seed simulates a customer base with known true segments over several quarters. Customers
migrate between true segments at a known rate; each quarter's segmentation is right for a known
share of customers; reviewers label with a known error rate. Every quarter goes through the real
pipeline on a SQLite store: the run is stored, a stratified audit sample is drawn and its design
stored (:func:`seglens.audit.plan_audit`, :func:`seglens.audit.draw_audit_sample`,
:func:`seglens.store.record_audit_design`), the reviewers' labels (plus sales feedback on other
customers, which later quarters may carry) are imported bound to the run, and
:func:`seglens.tracking.measure_run` stores the KPI, its comparison and the alerts.

What the KPI estimates is the share of the quarter's customers whom a reviewer would confirm: with
reviewer error rate ``e`` over ``K`` segments that is ``(1 - e)·acc + e/(K-1)·(1 - acc)`` for a
segmentation of true accuracy ``acc``. The study computes it exactly over the whole population and
checks the headline interval against it, and also reports what re-scoring every label against the
newest run (the old behaviour) would have said.

Run: ``python -m benchmarks.tracking_truth [--seeds 200 --quarters 4]``.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np
import polars as pl

from seglens.audit import draw_audit_sample, plan_audit
from seglens.store import (
    current_labels,
    open_store,
    record_audit_design,
    record_run,
    store_labels,
)
from seglens.tracking import AlertRules, measure_run

QUARTER_ENDS = (
    date(2011, 3, 31),
    date(2011, 6, 30),
    date(2011, 9, 30),
    date(2011, 12, 31),
    date(2012, 3, 31),
    date(2012, 6, 30),
)
SEGMENTS = ("Champions", "Loyal", "At risk", "Hibernating")


@dataclass(frozen=True)
class Scenario:
    """What is planted: population, migration, segmentation accuracy per quarter, label noise."""

    name: str
    accuracy: tuple[float, ...]
    customers: int = 1200
    migration: float = 0.15
    reviewer_error: float = 0.10
    audit_size: int = 300
    feedback_size: int = 100


CHANGE = Scenario("changing accuracy", (0.86, 0.78, 0.70, 0.84, 0.80, 0.90))
NO_CHANGE = Scenario("no change", (0.80,) * 6)


@dataclass(frozen=True)
class QuarterOutcome:
    """One quarter of one seed."""

    seed: int
    quarter: int
    truth_pct: float
    value_pct: float
    ci_low: float
    ci_high: float
    n: int
    significant_drop: bool
    rescored_pct: float | None

    @property
    def covered(self) -> bool:
        """Whether the stored interval covers the planted truth."""
        return self.ci_low <= self.truth_pct <= self.ci_high


def _other(rng: np.random.Generator, codes: np.ndarray, k: int) -> np.ndarray:
    """A uniformly chosen different code for each entry."""
    return (codes + rng.integers(1, k, size=codes.size)) % k


def _reviewer(rng: np.random.Generator, truth: np.ndarray, error: float, k: int) -> np.ndarray:
    wrong = rng.random(truth.size) < error
    return np.where(wrong, _other(rng, truth, k), truth)


def simulate_seed(
    seed: int, scenario: Scenario, quarters: int, workdir: Path
) -> list[QuarterOutcome]:
    """Run ``quarters`` quarters of one seed through the store; one outcome per quarter."""
    rng = np.random.default_rng(seed)
    k, n = len(SEGMENTS), scenario.customers
    ids = np.array([f"C{seed:04d}-{i:05d}" for i in range(n)])
    names = np.array(SEGMENTS)
    truth = rng.integers(0, k, size=n)
    rules = AlertRules()
    out: list[QuarterOutcome] = []
    with open_store(f"sqlite:///{workdir / f'truth-{seed}.db'}") as store:
        for q in range(quarters):
            if q:
                moving = rng.random(n) < scenario.migration
                truth = np.where(moving, _other(rng, truth, k), truth)
            acc = scenario.accuracy[q]
            right = rng.random(n) < acc
            assigned = np.where(right, truth, _other(rng, truth, k))
            frame = pl.DataFrame({"customer_id": ids, "segment": names[assigned]})
            run = record_run(
                store,
                frame,
                segmenter="planted",
                parameters={"seed": seed},
                as_of=QUARTER_ENDS[q],
                data_hash=f"{seed}-{q}",
            )
            sizes = dict(frame.group_by("segment").len().iter_rows())
            plan = plan_audit(
                sizes, total=scenario.audit_size, allocation="proportional", min_per_segment=30
            )
            sheet = draw_audit_sample(frame, plan, random_state=seed * 100 + q)
            record_audit_design(
                store,
                run,
                sheet.select("customer_id", pl.col("assigned_segment").alias("stratum")),
                [
                    {"segment": s.segment, "population": s.population, "sample": s.sample}
                    for s in plan.strata
                ],
                seed=seed * 100 + q,
                allocation=plan.allocation,
                confidence=plan.confidence,
            )
            audited = np.searchsorted(ids, sheet["customer_id"].to_numpy())
            others = np.setdiff1d(np.arange(n), audited)
            feedback = rng.choice(others, size=scenario.feedback_size, replace=False)
            for idx, source in ((audited, "audit"), (feedback, "sales")):
                said = _reviewer(rng, truth[idx], scenario.reviewer_error, k)
                store_labels(
                    store,
                    pl.DataFrame(
                        {
                            "customer_id": ids[idx],
                            "segment": names[said],
                            "run_id": [run] * idx.size,
                            "source": [source] * idx.size,
                        }
                    ),
                    source=f"{source}-{q}.csv",
                    file_hash=f"{seed:016d}{q:016d}{source:>32}",
                )
            measured = measure_run(store, run, rules=rules)
            head = measured.headline
            assert head is not None and head.metric == "accuracy_audit"
            e = scenario.reviewer_error
            ok = assigned == truth
            truth_pct = 100 * float(np.mean(np.where(ok, 1 - e, e / (k - 1))))
            everything = current_labels(store).join(frame, on="customer_id", suffix="_run")
            rescored = 100 * float((everything["segment"] == everything["segment_run"]).mean())
            out.append(
                QuarterOutcome(
                    seed,
                    q,
                    truth_pct,
                    head.value,
                    float(head.ci_low or 0.0),
                    float(head.ci_high or 0.0),
                    head.n,
                    bool(head.significant_drop),
                    rescored,
                )
            )
    return out


@dataclass(frozen=True)
class StudyResult:
    """Coverage and false-alarm figures over every quarter of every seed."""

    scenario: str
    outcomes: tuple[QuarterOutcome, ...]

    @property
    def coverage(self) -> float:
        """Share of quarter × seed cases whose interval covers the planted truth."""
        return float(np.mean([o.covered for o in self.outcomes]))

    @property
    def drop_rate(self) -> float:
        """Share of compared periods (every quarter but each seed's first) with a drop alert."""
        compared = [o for o in self.outcomes if o.quarter > 0]
        return float(np.mean([o.significant_drop for o in compared])) if compared else 0.0

    @property
    def rescored_bias(self) -> float:
        """Mean error (points) of re-scoring every label against the newest run."""
        later = [o for o in self.outcomes if o.quarter > 0 and o.rescored_pct is not None]
        return float(np.mean([(o.rescored_pct or 0.0) - o.truth_pct for o in later]))

    def summary(self) -> str:
        """One line per figure."""
        n_cases = len(self.outcomes)
        n_periods = sum(o.quarter > 0 for o in self.outcomes)
        return (
            f"{self.scenario}: 95 % interval covers the planted truth in "
            f"{100 * self.coverage:.1f} % of {n_cases} quarter x seed cases; significant_drop "
            f"fired in {100 * self.drop_rate:.1f} % of {n_periods} compared periods; re-scoring "
            f"every label against the newest run would be off by {self.rescored_bias:+.1f} points"
        )


def study(scenario: Scenario, *, seeds: int, quarters: int, first_seed: int = 0) -> StudyResult:
    """Run the study for ``seeds`` seeds of ``quarters`` quarters each."""
    if quarters > len(scenario.accuracy):
        raise ValueError(f"at most {len(scenario.accuracy)} quarters")
    outcomes: list[QuarterOutcome] = []
    with tempfile.TemporaryDirectory() as d:
        for seed in range(first_seed, first_seed + seeds):
            outcomes.extend(simulate_seed(seed, scenario, quarters, Path(d)))
    return StudyResult(scenario.name, tuple(outcomes))


def main() -> None:
    """Print the coverage and false-alarm figures for both scenarios."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=200)
    parser.add_argument("--quarters", type=int, default=4)
    args = parser.parse_args()
    for scenario in (CHANGE, NO_CHANGE):
        start = time.perf_counter()
        res = study(scenario, seeds=args.seeds, quarters=args.quarters)
        print(f"{res.summary()} ({time.perf_counter() - start:.0f} s)")


if __name__ == "__main__":
    main()
