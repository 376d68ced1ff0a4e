"""Tracking: the KPI per period from the labels bound to each run, its stored comparison with the
previous period, segment migration, and alerts.

``seglens track`` runs :func:`track` once per period; ``seglens history`` shows
:func:`kpi_history` and the migration matrix between the last two runs.
"""

from __future__ import annotations

from seglens.stats import ProportionChange, two_proportion_test
from seglens.tracking.alerts import (
    AlertEvent,
    AlertRules,
    KpiPoint,
    deliver_alerts,
    evaluate_alerts,
    labels_needed,
)
from seglens.tracking.history import kpi_history, latest_migration, migration_between
from seglens.tracking.labels import CarryPolicy, LabelSelection, select_labels
from seglens.tracking.measure import (
    AuditOutcome,
    Change,
    Measurement,
    compare_measurements,
    measure_run,
    run_labels,
)
from seglens.tracking.migration import GONE, NEW, MigrationMatrix, migration_matrix
from seglens.tracking.periods import Period, period_of
from seglens.tracking.track import LabelsInput, TrackResult, check_as_of, track
from seglens.tracking.webhook import WebhookResult, alert_payload, post_webhook

__all__ = [
    "GONE",
    "NEW",
    "AlertEvent",
    "AlertRules",
    "AuditOutcome",
    "CarryPolicy",
    "Change",
    "KpiPoint",
    "LabelSelection",
    "LabelsInput",
    "Measurement",
    "MigrationMatrix",
    "Period",
    "ProportionChange",
    "TrackResult",
    "WebhookResult",
    "alert_payload",
    "check_as_of",
    "compare_measurements",
    "deliver_alerts",
    "evaluate_alerts",
    "kpi_history",
    "labels_needed",
    "latest_migration",
    "measure_run",
    "migration_between",
    "migration_matrix",
    "period_of",
    "post_webhook",
    "run_labels",
    "select_labels",
    "track",
    "two_proportion_test",
]
