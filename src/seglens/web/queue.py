"""The review queue: the latest run's stored audit design and how far its review has come.

The queue is the run's audit design as stored in the store (:func:`seglens.store.audit_design`),
the same design ``seglens audit-sample --db`` records and ``measure_run`` weights its estimate
by. When the run has none yet, the first queue view plans one for the target margin, draws it
(seeded by the run id) and stores it, so every later view, app instance and server process lists
the same customers. A member is reviewed when a label counts for it in this run (fresh, or
carried under the carry-forward policy); the progress estimate is the stored ``accuracy_audit``
measurement of the run.

The teach queue (:func:`teach_queue`) is the other queue: customers of the latest run whose
labels would teach a model most (:func:`seglens.segmenters.suggest_labels`: margin sampling
over the run's stored features, spread over predicted segments). They are chosen for being
hard, so their labels are stored with ``purpose="teach"`` and never count in the KPI. The list
is deterministic for a run and a label state (seeded by the run id) and cached on both.

The audit items are listed in the design's seeded random order (:func:`seeded_order`), so a
reviewer who stops halfway has still judged every segment; a reviewer's skipped and unsure
customers go to the end of their own list (:func:`for_reviewer`).
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import polars as pl

from seglens.audit import draw_audit_sample, plan_audit
from seglens.errors import SeglensError
from seglens.segmenters import latest_labels, suggest_labels
from seglens.segmenters.suggest import MIN_LABELS
from seglens.settings import Settings
from seglens.store import (
    AuditDesignRecord,
    RunInfo,
    Store,
    audit_design,
    label_events,
    latest_run,
    pseudonym,
    record_audit_design,
    run_assignments,
    run_features,
)
from seglens.store.core import pseudonym_key
from seglens.tracking.config import TrackingConfig
from seglens.web.kpi import RunKpi, kpi_of_run

__all__ = [
    "TEACH_SIZE",
    "QueueItem",
    "ReviewQueue",
    "TeachQueue",
    "ensure_audit_design",
    "for_reviewer",
    "review_queue",
    "seeded_order",
    "teach_queue",
]

log = logging.getLogger(__name__)

_design_lock = threading.Lock()


@dataclass(frozen=True)
class QueueItem:
    """One customer of the audit design (``mark``: this reviewer's ``skip`` or ``unsure``)."""

    customer_id: str
    assigned_segment: str
    label: str | None  # the label that counts for this run, if reviewed
    mark: str | None = None

    @property
    def reviewed(self) -> bool:
        """Whether a label counts for this customer in the run."""
        return self.label is not None


@dataclass(frozen=True)
class ReviewQueue:
    """The latest run's stored audit design, its members and the stored KPI of the run."""

    run: RunInfo
    design: AuditDesignRecord
    items: list[QueueItem]
    reviewed_per_segment: dict[str, int]
    kpi: RunKpi

    @property
    def strata(self) -> tuple[dict[str, Any], ...]:
        """Per stratum: ``segment``, ``population`` and ``sample`` as drawn."""
        return self.design.strata

    @property
    def total(self) -> int:
        """Customers in the design."""
        return len(self.items)

    @property
    def reviewed(self) -> int:
        """Design members with a label that counts for the run."""
        return sum(self.reviewed_per_segment.values())

    @property
    def pending(self) -> list[QueueItem]:
        """Design members still to review."""
        return [i for i in self.items if not i.reviewed]

    @property
    def estimate(self) -> dict[str, Any] | None:
        """The stored ``accuracy_audit`` measurement of this design (``None``: not yet)."""
        audit = self.kpi.audit
        return audit if audit is not None and audit["design_id"] == self.design.id else None

    @property
    def margin_pct(self) -> float | None:
        """Half-width of the stored audit estimate's interval."""
        e = self.estimate
        if e is None or e["ci_low"] is None or e["ci_high"] is None:
            return None
        return (float(e["ci_high"]) - float(e["ci_low"])) / 2


def ensure_audit_design(
    store: Store, run: RunInfo, settings: Settings, *, actor: str | None = None
) -> AuditDesignRecord:
    """The run's stored audit design; plans, draws and stores one when it has none.

    The draw is deterministic (seeded by the run id), so two processes racing to store the
    first design store the same members; the newest stored design is the one used (as
    ``measure_run`` does).
    """
    design = audit_design(store, run_id=run.id)
    if design is not None:
        return design
    with _design_lock:
        design = audit_design(store, run_id=run.id)
        if design is not None:
            return design
        assigned = run_assignments(store, run.id)
        sizes = dict(assigned.group_by("segment").len().sort("segment").iter_rows())
        plan = plan_audit(
            sizes,
            margin_pct=settings.margin_pts,
            confidence=settings.confidence,
            min_per_segment=settings.min_per_segment,
        )
        sample = draw_audit_sample(assigned, plan, random_state=run.id)
        record_audit_design(
            store,
            run.id,
            sample.select("customer_id", pl.col("assigned_segment").alias("stratum")),
            [
                {"segment": s.segment, "population": s.population, "sample": s.sample}
                for s in plan.strata
            ],
            seed=run.id,
            allocation=plan.allocation,
            confidence=plan.confidence,
            margin_pts=settings.margin_pts,
            actor=actor,
        )
        stored = audit_design(store, run_id=run.id)
    if stored is None:  # pragma: no cover - the run was deleted in between
        raise SeglensError(f"run {run.id} has no audit design after storing one")
    return stored


def seeded_order(design: AuditDesignRecord) -> pl.DataFrame:
    """The design's members (``customer_id``, ``stratum``) in its seeded random order.

    A permutation seeded by the design's seed, so the queue mixes the segments (it is not
    sorted by segment or id) and every view, server and reviewer sees the same order.
    """
    members = design.members.sort("customer_id")
    order = np.random.default_rng(design.seed).permutation(members.height)
    shuffled: pl.DataFrame = members[order.tolist()]
    return shuffled


def for_reviewer(queue: ReviewQueue, marks: dict[str, str]) -> list[QueueItem]:
    """The pending items as one reviewer works them: unmarked first (seeded order), then the
    ones they skipped, then the ones they were unsure about (``marks``: pseudonym → kind)."""
    if not marks:
        return queue.pending
    key = pseudonym_key()
    tagged = [replace(i, mark=marks.get(pseudonym(i.customer_id, key))) for i in queue.pending]
    rank = {None: 0, "skip": 1, "unsure": 2}
    return sorted(tagged, key=lambda i: rank.get(i.mark, 0))


def review_queue(
    store: Store,
    settings: Settings,
    *,
    actor: str | None = None,
    tracking: TrackingConfig | None = None,
) -> ReviewQueue | None:
    """The latest run's audit design with each member's counted label; ``None`` without a run.

    ``actor`` is who the audit log names when this view stores the run's first design.
    """
    run = latest_run(store)
    if run is None:
        return None
    design = ensure_audit_design(store, run, settings, actor=actor)
    # after the design: a new design gets measured
    kpi = kpi_of_run(store, settings, run, tracking=tracking)
    counted = kpi.selection.counted.select("customer_id", pl.col("segment").alias("label"))
    joined = seeded_order(design).join(counted, on="customer_id", how="left", maintain_order="left")
    items = [QueueItem(c, s, lab) for c, s, lab in joined.iter_rows()]
    per = {str(s["segment"]): 0 for s in design.strata}
    done = joined.filter(pl.col("label").is_not_null()).group_by("stratum").len()
    per.update({str(s): int(n) for s, n in done.iter_rows()})
    return ReviewQueue(run, design, items, per, kpi)


TEACH_SIZE = 50
"""Customers the teach queue lists."""

_teach_lock = threading.Lock()
_teach_cache: OrderedDict[tuple[Any, ...], TeachQueue] = OrderedDict()
_TEACH_CACHE_SIZE = 16


@dataclass(frozen=True)
class TeachQueue:
    """Customers of the latest run the model is least sure about, or why there are none yet.

    ``ready`` is false while the model cannot be fitted (too few labels, no stored features);
    ``reason`` then says so plainly, and ``items`` is empty.
    """

    run: RunInfo
    items: list[QueueItem]
    ready: bool
    reason: str
    n_labelled: int


def teach_queue(
    store: Store, settings: Settings, *, n: int = TEACH_SIZE, actor: str | None = None
) -> TeachQueue | None:
    """Up to ``n`` customers of the latest run whose labels would teach the model most.

    Every label in the store (kpi and teach, of any run) teaches the model, as for
    ``seglens labels suggest``; customers with any label are not suggested, nor are members of
    the run's audit design (they are reviewed through the audit queue, where their labels
    count). ``None`` without a run. Cached per store, run, ``n``, label state and design.
    """
    run = latest_run(store)
    if run is None:
        return None
    design = ensure_audit_design(store, run, settings, actor=actor)
    events = label_events(store)
    ids = events.get_column("id")
    state = (events.height, ids.max(), ids.sum()) if events.height else (0, None, None)
    key = (store.url, id(store), run.id, n, design.id, state)
    with _teach_lock:
        hit = _teach_cache.get(key)
        if hit is not None:
            _teach_cache.move_to_end(key)
            return hit
        made = _suggest(store, run, events, design.members, n)
        _teach_cache[key] = made
        while len(_teach_cache) > _TEACH_CACHE_SIZE:
            _teach_cache.popitem(last=False)
    return made


def _suggest(
    store: Store, run: RunInfo, events: pl.DataFrame, members: pl.DataFrame, n: int
) -> TeachQueue:
    features = run_features(store, run.id)
    labels = latest_labels(events)
    if features.width < 2:
        reason = f"Run {run.id} stored no customer features, so there is no model to ask."
        return TeachQueue(run, [], False, reason, labels.height)
    labelled = set(labels.get_column("customer_id").to_list())
    # Audit members not labelled yet would be suggested too: ask for enough to drop them.
    skip = set(members.get_column("customer_id").cast(pl.String).to_list()) - labelled
    open_ids = set(features.get_column("customer_id").cast(pl.String).to_list()) - labelled
    if not open_ids - skip:
        reason = "Every customer of the run is labelled already or in the audit."
        return TeachQueue(run, [], True, reason, labels.height)
    run_segments = run_assignments(store, run.id)
    want = n + len(skip & open_ids)
    picks = suggest_labels(
        features,
        labels,
        want,
        assigned=run_segments,
        shortlist=max(1.0, 3.0 * n / want),  # shortlist about 3 n, as for n picks
        random_state=run.id,
    )
    if picks.method != "margin":
        reason = (
            "The model needs labels from the audit first: it learns from at least "
            f"{MIN_LABELS} labelled customers covering two segments, and there are "
            f"{picks.n_labelled} so far."
        )
        return TeachQueue(run, [], False, reason, picks.n_labelled)
    assigned = run_segments.select(
        pl.col("customer_id").cast(pl.String), pl.col("segment").alias("assigned_segment")
    )
    chosen = (
        picks.customers.select(pl.col("customer_id").cast(pl.String), "rank")
        .filter(~pl.col("customer_id").is_in(list(skip)))
        .sort("rank")
        .head(n)
        .join(assigned, on="customer_id", how="left", maintain_order="left")
    )
    items = [QueueItem(c, s, None) for c, _r, s in chosen.iter_rows()]
    reason = (
        f"A model learnt from {picks.n_labelled:,} labels picked the {len(items)} customers it "
        "is least sure about, spread over the segments it predicts."
    )
    return TeachQueue(run, items, True, reason, picks.n_labelled)
