"""Tracking: the KPI per period, its trend and significance, segment migration, and alerts.

``seglens track`` runs :func:`track` once per period; ``seglens history`` shows
:func:`kpi_history` and the migration matrix between the last two runs.
"""

from __future__ import annotations

from seglens.tracking.alerts import (
    AlertEvent,
    AlertRules,
    KpiPoint,
    deliver_alerts,
    evaluate_alerts,
    labels_needed,
)
from seglens.tracking.history import kpi_history, latest_migration, migration_between
from seglens.tracking.migration import GONE, NEW, MigrationMatrix, migration_matrix
from seglens.tracking.periods import Period, period_of
from seglens.tracking.significance import ProportionChange, two_proportion_test
from seglens.tracking.track import LabelsInput, TrackResult, track
from seglens.tracking.webhook import WebhookResult, alert_payload, post_webhook

__all__ = [
    "GONE",
    "NEW",
    "AlertEvent",
    "AlertRules",
    "KpiPoint",
    "LabelsInput",
    "MigrationMatrix",
    "Period",
    "ProportionChange",
    "TrackResult",
    "WebhookResult",
    "alert_payload",
    "deliver_alerts",
    "evaluate_alerts",
    "kpi_history",
    "labels_needed",
    "latest_migration",
    "migration_between",
    "migration_matrix",
    "period_of",
    "post_webhook",
    "track",
    "two_proportion_test",
]
