"""The audit plan a review shows when the KPI is not measured: labels needed for ±5 and ±3 points.

The plan is :func:`seglens.audit.plans_for_margins` (``plan_audit`` per margin) on the run's
segment sizes (sorted by name, as ``seglens audit-sample --db`` plans), with its defaults from
:data:`seglens.settings.DEFAULT_SETTINGS` (confidence, at least 30 customers per segment) and the
worst-case planning accuracy of 50 %, so the numbers are the ones ``audit-sample`` would draw.
"""

from __future__ import annotations

from seglens.audit import MEASUREMENT_MARGINS, AuditPlan, PlanRow, plan_rows, plans_for_margins
from seglens.report.snapshot import ReviewSnapshot

__all__ = ["AUDIT_MARGINS", "AuditRow", "audit_plans", "audit_rows"]

AUDIT_MARGINS: tuple[float, ...] = MEASUREMENT_MARGINS
"""The margins (± points) the review plans for; the snapshot's own margin is added if different."""

AuditRow = PlanRow
audit_rows = plan_rows


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
    sizes = {s.name: s.customers for s in snap.segments}
    return plans_for_margins(sizes, (*AUDIT_MARGINS, float(snap.margin_pct)))
