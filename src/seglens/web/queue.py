"""The review queue: the latest run's stored audit design and how far its review has come.

The queue is the run's audit design as stored in the store (:func:`seglens.store.audit_design`),
the same design ``seglens audit-sample --db`` records and ``measure_run`` weights its estimate
by. When the run has none yet, the first queue view plans one for the target margin, draws it
(seeded by the run id) and stores it, so every later view, app instance and server process lists
the same customers. A member is reviewed when a label counts for it in this run (fresh, or
carried under the carry-forward policy); the progress estimate is the stored ``accuracy_audit``
measurement of the run.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from typing import Any

import polars as pl

from seglens.audit import draw_audit_sample, plan_audit
from seglens.errors import SeglensError
from seglens.settings import Settings
from seglens.store import (
    AuditDesignRecord,
    RunInfo,
    Store,
    audit_design,
    latest_run,
    record_audit_design,
    run_assignments,
)
from seglens.tracking.config import TrackingConfig
from seglens.web.kpi import RunKpi, kpi_of_run

__all__ = ["QueueItem", "ReviewQueue", "ensure_audit_design", "review_queue"]

log = logging.getLogger(__name__)

_design_lock = threading.Lock()


@dataclass(frozen=True)
class QueueItem:
    """One customer of the audit design."""

    customer_id: str
    assigned_segment: str
    label: str | None  # the label that counts for this run, if reviewed

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
    joined = design.members.join(counted, on="customer_id", how="left").sort("customer_id")
    items = [QueueItem(c, s, lab) for c, s, lab in joined.iter_rows()]
    per = {str(s["segment"]): 0 for s in design.strata}
    done = joined.filter(pl.col("label").is_not_null()).group_by("stratum").len()
    per.update({str(s): int(n) for s, n in done.iter_rows()})
    return ReviewQueue(run, design, items, per, kpi)
