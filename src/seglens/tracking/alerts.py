"""Alert rules over the KPI history, and their delivery (terminal via the CLI, log, webhook).

Rules (all thresholds in :class:`AlertRules`):

``below_target``
    the accuracy KPI is below the target (default 85 %).
``significant_drop``
    the KPI fell by at least ``drop_points`` percentage points since the previous period and the
    two-proportion test says the fall is significant at ``alpha``.
``unstable_segment``
    a segment kept less than ``min_stability`` (default 0.5) of its customers since the
    previous run.
``too_few_labels``
    fewer labelled customers than needed for the stated margin (± ``margin_pts`` at
    ``confidence``).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from seglens.accuracy._core import z_value
from seglens.tracking.significance import two_proportion_test
from seglens.tracking.webhook import WebhookFormat, WebhookResult, alert_payload, post_webhook

__all__ = [
    "AlertEvent",
    "AlertRules",
    "KpiPoint",
    "deliver_alerts",
    "evaluate_alerts",
    "labels_needed",
]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class AlertRules:
    """Thresholds of the alert rules (defaults follow the issue: target 85 %, stability 0.5)."""

    target_pct: float = 85.0
    drop_points: float = 5.0
    alpha: float = 0.05
    min_stability: float = 0.5
    margin_pts: float = 5.0
    confidence: float = 0.95


@dataclass(frozen=True)
class KpiPoint:
    """One KPI value of one period (value in percent, with n and, for proportions, successes)."""

    period: str
    metric: str
    value_pct: float
    n: int
    successes: int | None = None


@dataclass(frozen=True)
class AlertEvent:
    """A raised alert."""

    rule: str
    severity: str
    message: str
    period: str | None = None
    metric: str | None = None
    segment: str | None = None
    details: dict[str, Any] = field(default_factory=dict)


def labels_needed(
    margin_pts: float, *, expected_pct: float = 50.0, confidence: float = 0.95
) -> int:
    """Labelled customers needed for a ± ``margin_pts`` interval around ``expected_pct``.

    Examples
    --------
    >>> labels_needed(5.0), labels_needed(5.0, expected_pct=85.0)
    (385, 196)
    """
    p = min(max(expected_pct / 100, 0.01), 0.99)
    z = z_value(confidence)
    return math.ceil(z * z * p * (1 - p) / (margin_pts / 100) ** 2)


def evaluate_alerts(
    current: KpiPoint,
    previous: KpiPoint | None = None,
    *,
    stability: Mapping[str, float] | None = None,
    n_labels: int | None = None,
    accuracy_metric: bool = True,
    rules: AlertRules | None = None,
) -> list[AlertEvent]:
    """Apply the rules to this period's KPI (and the previous one, stability, label count).

    ``accuracy_metric`` says whether ``current`` is the accuracy KPI (labelled or estimated),
    to which the target applies; label-free proxies are only checked for drops.

    Examples
    --------
    >>> now = KpiPoint("2011Q3", "accuracy", 70.0, 200, 140)
    >>> before = KpiPoint("2011Q2", "accuracy", 88.0, 200, 176)
    >>> [a.rule for a in evaluate_alerts(now, before, stability={"Loyal": 0.4}, n_labels=200)]
    ['below_target', 'significant_drop', 'unstable_segment', 'too_few_labels']
    """
    r = rules or AlertRules()
    out: list[AlertEvent] = []
    base = {"period": current.period, "metric": current.metric}
    if accuracy_metric and current.value_pct < r.target_pct:
        out.append(
            AlertEvent(
                "below_target",
                "critical",
                f"{current.metric} {current.value_pct:.1f} % (n={current.n:,}) is below the "
                f"{r.target_pct:g} % target in {current.period}",
                details={"value_pct": current.value_pct, "target_pct": r.target_pct},
                **base,
            )
        )
    if (
        previous is not None
        and previous.metric == current.metric
        and current.successes is not None
        and previous.successes is not None
        and current.n > 0
        and previous.n > 0
    ):
        change = two_proportion_test(
            previous.successes, previous.n, current.successes, current.n, alpha=r.alpha
        )
        if -change.diff_pts >= r.drop_points and change.significant:
            out.append(
                AlertEvent(
                    "significant_drop",
                    "critical",
                    f"{current.metric} fell {-change.diff_pts:.1f} points from "
                    f"{previous.period} to {current.period} (p = {change.p_value:.3g})",
                    details={"diff_pts": change.diff_pts, "p_value": change.p_value},
                    **base,
                )
            )
    for segment, share in sorted((stability or {}).items()):
        if share < r.min_stability:
            out.append(
                AlertEvent(
                    "unstable_segment",
                    "warning",
                    f"segment {segment!r} kept only {share:.0%} of its customers since the "
                    f"previous run (threshold {r.min_stability:.0%})",
                    segment=segment,
                    details={"stability": share},
                    **base,
                )
            )
    if n_labels is not None:
        expected = current.value_pct if accuracy_metric and n_labels else r.target_pct
        need = labels_needed(r.margin_pts, expected_pct=expected, confidence=r.confidence)
        if n_labels < need:
            out.append(
                AlertEvent(
                    "too_few_labels",
                    "warning",
                    f"{n_labels:,} labelled customers; about {need:,} are needed for "
                    f"±{r.margin_pts:g} points at {r.confidence:.0%} confidence",
                    details={"n_labels": n_labels, "needed": need},
                    **base,
                )
            )
    return out


def deliver_alerts(
    events: Sequence[AlertEvent],
    *,
    webhook_url: str | None = None,
    webhook_format: WebhookFormat = "slack",
) -> WebhookResult | None:
    """Log every alert (WARNING) and, when a URL is given, post them in one webhook message."""
    for e in events:
        log.warning("alert %s (%s): %s", e.rule, e.severity, e.message)
    if not events or not webhook_url:
        return None
    return post_webhook(webhook_url, alert_payload(events, webhook_format))
