"""Audit sampling and stratified estimation: the fewest labels that pin the KPI down."""

from __future__ import annotations

from seglens.audit.estimate import StratifiedEstimate, estimate_from_sheet, stratified_accuracy
from seglens.audit.sampling import (
    MEASUREMENT_MARGINS,
    AuditPlan,
    PlanRow,
    StratumPlan,
    draw_audit_sample,
    expected_margin,
    plan_audit,
    plan_rows,
    plans_for_margins,
)

__all__ = [
    "MEASUREMENT_MARGINS",
    "AuditPlan",
    "PlanRow",
    "StratifiedEstimate",
    "StratumPlan",
    "draw_audit_sample",
    "estimate_from_sheet",
    "expected_margin",
    "plan_audit",
    "plan_rows",
    "plans_for_margins",
    "stratified_accuracy",
]
