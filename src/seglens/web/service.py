"""What the pages and the API show, computed from the store (no HTTP in here).

The current KPI is always computed live: the latest run's assignments against the current
labels (latest label per customer), with :func:`seglens.accuracy.accuracy_report_from_tables`, so
a correction submitted in the review queue moves the figure at once. The stored KPI history
(``seglens track``) gives the trend.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from typing import Any

import polars as pl

from seglens.accuracy import AccuracyReport, accuracy_report_from_tables
from seglens.audit import AuditPlan, draw_audit_sample, plan_audit, stratified_accuracy
from seglens.errors import SeglensError
from seglens.settings import Settings
from seglens.store import (
    RunInfo,
    Store,
    current_labels,
    customer_record,
    latest_run,
    run_assignments,
    run_segment_names,
)

__all__ = [
    "CustomerView",
    "QueueItem",
    "ReviewQueue",
    "Settings",
    "customer_view",
    "live_accuracy",
    "review_queue",
    "segment_names",
]

log = logging.getLogger(__name__)


_names_cache: dict[tuple[str, int], list[str]] = {}


def segment_names(store: Store, run_id: int) -> list[str]:
    """The segments a run uses, sorted (cached: a recorded run never changes)."""
    key = (store.url, run_id)
    hit = _names_cache.get(key)
    if hit is None:
        hit = run_segment_names(store, run_id)
        if hit:
            _names_cache[key] = hit
    return list(hit)


def live_accuracy(store: Store, settings: Settings) -> AccuracyReport | None:
    """Latest run against the current labels; ``None`` without a run or matched label."""
    run = latest_run(store)
    if run is None:
        return None
    assigned = run_assignments(store, run.id).select("customer_id", "segment")
    labels = current_labels(store).select("customer_id", "segment")
    if labels.join(assigned, on="customer_id").is_empty():
        return None
    from seglens.accuracy import SegmentRule

    return accuracy_report_from_tables(
        assigned,
        labels,
        match="names",
        confidence=settings.confidence,
        rule=SegmentRule(target_pct=settings.target_pct),
    )


@dataclass(frozen=True)
class QueueItem:
    """One customer of the audit sample."""

    customer_id: str
    assigned_segment: str
    label: str | None  # current label, if reviewed

    @property
    def reviewed(self) -> bool:
        """Whether someone has labelled this customer."""
        return self.label is not None


@dataclass(frozen=True)
class ReviewQueue:
    """The audit sample of the latest run and how far its review has come."""

    run: RunInfo
    plan: AuditPlan
    items: list[QueueItem]
    reviewed_per_segment: dict[str, int]
    estimate_pct: float | None
    margin_pct: float | None  # half-width of the stratified interval once every stratum has data
    ci_pct: tuple[float, float] | None

    @property
    def reviewed(self) -> int:
        """Sample customers labelled so far."""
        return sum(self.reviewed_per_segment.values())

    @property
    def pending(self) -> list[QueueItem]:
        """Sample customers still to review."""
        return [i for i in self.items if not i.reviewed]


_queue_cache: dict[tuple[str, int, float, int], tuple[AuditPlan, pl.DataFrame]] = {}
_queue_lock = threading.Lock()


def _sample(store: Store, run: RunInfo, settings: Settings) -> tuple[AuditPlan, pl.DataFrame]:
    key = (store.url, run.id, settings.margin_pts, settings.min_per_segment)
    with _queue_lock:
        hit = _queue_cache.get(key)
    if hit is not None:
        return hit
    assigned = run_assignments(store, run.id)
    sizes = dict(assigned.group_by("segment").len().sort("segment").iter_rows())
    plan = plan_audit(
        sizes,
        margin_pct=settings.margin_pts,
        confidence=settings.confidence,
        min_per_segment=settings.min_per_segment,
    )
    sample = draw_audit_sample(assigned, plan, random_state=run.id)
    with _queue_lock:
        _queue_cache[key] = (plan, sample)
    return plan, sample


def review_queue(store: Store, settings: Settings) -> ReviewQueue | None:
    """The audit sample seglens wants checked for the latest run (deterministic per run)."""
    run = latest_run(store)
    if run is None:
        return None
    plan, sample = _sample(store, run, settings)
    labels = current_labels(store).select("customer_id", pl.col("segment").alias("label"))
    joined = sample.select("customer_id", "assigned_segment").join(
        labels, on="customer_id", how="left"
    )
    items = [QueueItem(*row) for row in joined.iter_rows()]
    done = joined.filter(pl.col("label").is_not_null())
    per = {s.segment: 0 for s in plan.strata}
    per.update(dict(done.group_by("assigned_segment").len().iter_rows()))
    estimate = margin = None
    ci = None
    if done.height and all(per[s.segment] > 0 for s in plan.strata):
        try:
            est = stratified_accuracy(
                (done["label"] == done["assigned_segment"]).to_list(),
                done["assigned_segment"].to_list(),
                {s.segment: s.population for s in plan.strata},
                confidence=settings.confidence,
            ).estimate
        except SeglensError as err:  # e.g. a segment with no population
            log.warning("no stratified estimate: %s", err.message)
        else:
            estimate = est.value_pct
            ci = (est.ci_low_pct, est.ci_high_pct)
            margin = (est.ci_high_pct - est.ci_low_pct) / 2
    return ReviewQueue(run, plan, items, per, estimate, margin, ci)


@dataclass(frozen=True)
class CustomerView:
    """Everything the store knows about one customer."""

    customer_id: str
    features: dict[str, Any]
    features_run: int | None
    segments: list[dict[str, Any]]  # per run: run_id, as_of, segment, revenue
    labels: list[dict[str, Any]]
    current_label: str | None


def customer_view(store: Store, customer_id: str) -> CustomerView | None:
    """The customer's features, segments across runs and label history; ``None`` if unknown."""
    record = customer_record(store, customer_id)
    if record is None:
        return None
    history = record.labels
    # Same rule as current_labels(policy="latest"): latest labeled_at, then arrival order.
    ordered = history.sort("labeled_at", "id")
    current = str(ordered["segment"][-1]) if ordered.height else None
    return CustomerView(
        customer_id,
        record.features,
        record.features_run,
        record.segments.to_dicts(),
        history.drop("customer_id").to_dicts(),
        current,
    )
