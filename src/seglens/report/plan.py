"""The audit plan a review shows when the KPI is not measured: labels needed for ±5 and ±3 points.

The plan is :func:`seglens.audit.plan_audit` on the run's segment sizes (sorted by name, as
``seglens audit-sample --db`` plans), with its defaults from
:data:`seglens.settings.DEFAULT_SETTINGS` (confidence, at least 30 customers per segment) and the
worst-case planning accuracy of 50 %, so the numbers are the ones ``audit-sample`` would draw.
"""

from __future__ import annotations

from dataclasses import dataclass

from seglens.audit import AuditPlan, plan_audit
from seglens.report.snapshot import ReviewSnapshot

__all__ = ["AUDIT_MARGINS", "AuditRow", "audit_plans", "audit_rows"]

AUDIT_MARGINS: tuple[float, ...] = (5.0, 3.0)
"""The margins (± points) the review plans for; the snapshot's own margin is added if different."""


def audit_plans(snap: ReviewSnapshot) -> dict[float, AuditPlan]:
    """One stratified audit plan per margin (widest first); empty without segment sizes.

    Examples
    --------
    >>> from seglens.report.snapshot import SegmentStat
    >>> segs = (SegmentStat("loyal", 6000), SegmentStat("new", 3000), SegmentStat("lapsed", 1000))
    >>> snap = ReviewSnapshot("2011Q3", None, segs, method="unmeasured")
    >>> {m: p.total for m, p in audit_plans(snap).items()}
    {5.0: 370, 3.0: 965}
    """
    sizes = {s.name: s.customers for s in sorted(snap.segments, key=lambda s: s.name)}
    sizes = {name: n for name, n in sizes.items() if n > 0}
    if not sizes:
        return {}
    margins = sorted({*AUDIT_MARGINS, float(snap.margin_pct)}, reverse=True)
    return {m: plan_audit(sizes, margin_pct=m) for m in margins}


@dataclass(frozen=True)
class AuditRow:
    """One row of the plan table: a segment (or ``None`` for the total) and labels per margin."""

    segment: str | None
    customers: int
    labels: tuple[int, ...]


def audit_rows(plans: dict[float, AuditPlan]) -> list[AuditRow]:
    """The plan as table rows: one per segment, then the total."""
    if not plans:
        return []
    columns = list(plans.values())
    rows = [
        AuditRow(st.segment, st.population, tuple(p.strata[i].sample for p in columns))
        for i, st in enumerate(columns[0].strata)
    ]
    rows.append(AuditRow(None, columns[0].population, tuple(p.total for p in columns)))
    return rows
