"""Alert rules over the stored KPI measurements, and their delivery (terminal, log, webhook).

Rules (all thresholds in :class:`AlertRules`):

``below_target``
    the accuracy KPI is below the target (strictly: a KPI equal to the target is not below it).
``significant_drop``
    the stored comparison with the previous period says the KPI fell by at least
    ``drop_points`` and the difference test is significant at ``alpha`` (two-sided); see
    :func:`seglens.tracking.measure.compare_measurements`. Under no change this fires in at most
    ``alpha / 2`` of periods.
``unstable_segment``
    a segment of at least ``min_segment_customers`` customers kept less than ``min_stability``
    (strictly) of its customers since the previous run.
``too_few_labels``
    fewer labelled customers than needed for the stated margin (± ``margin_pts`` at
    ``confidence``).

Alerts are evaluated on stored measurements only, so ``track``, ``alerts``, ``history``, the
report and the web app agree; an alert whose condition no longer holds when its period is measured
again is resolved (:func:`seglens.store.resolve_alerts`).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from seglens.settings import DEFAULT_SETTINGS
from seglens.stats import labels_needed
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
    """Thresholds of the alert rules (target, margin and confidence from the shared settings)."""

    target_pct: float = DEFAULT_SETTINGS.target_pct
    drop_points: float = 5.0
    alpha: float = 0.05
    min_stability: float = 0.5
    min_segment_customers: int = DEFAULT_SETTINGS.min_per_segment
    margin_pts: float = DEFAULT_SETTINGS.margin_pts
    confidence: float = DEFAULT_SETTINGS.confidence


@dataclass(frozen=True)
class KpiPoint:
    """One stored KPI value of one period, with its comparison against the previous period.

    ``change_pts``, ``change_p_value`` and ``significant_drop`` are the stored comparison
    (``None`` when there was nothing to compare with).
    """

    period: str
    metric: str
    value_pct: float
    n: int
    successes: int | None = None
    change_pts: float | None = None
    change_p_value: float | None = None
    significant_drop: bool | None = None
    compared_period: str | None = None


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


def _share(value: float, threshold: float) -> str:
    """``value`` as a percentage with enough digits to show it differs from ``threshold``.

    Examples
    --------
    >>> _share(0.4, 0.5), _share(0.4996, 0.5)
    ('40 %', '49.96 %')
    """
    for digits in range(4):
        text = f"{100 * value:.{digits}f}"
        if float(text) != round(100 * threshold, digits):
            return f"{text} %"
    return f"{100 * value:g} %"


def _p_text(p: float) -> str:
    return "p < 0.001" if p < 0.001 else f"p = {p:.3f}"


def evaluate_alerts(
    current: KpiPoint,
    *,
    stability: Mapping[str, float] | None = None,
    segment_sizes: Mapping[str, int] | None = None,
    n_labels: int | None = None,
    accuracy_metric: bool = True,
    rules: AlertRules | None = None,
) -> list[AlertEvent]:
    """Apply the rules to this period's stored KPI (and stability, segment sizes, label count).

    ``accuracy_metric`` says whether ``current`` is the accuracy KPI (labelled or estimated),
    to which the target applies; label-free proxies are only checked for drops. ``stability``
    maps each earlier segment to the share of its customers it kept; ``segment_sizes`` gives
    their sizes, and segments smaller than ``rules.min_segment_customers`` raise nothing.

    Examples
    --------
    >>> now = KpiPoint("2011Q3", "accuracy", 70.0, 200, 140, change_pts=-18.0,
    ...                change_p_value=1e-5, significant_drop=True, compared_period="2011Q2")
    >>> events = evaluate_alerts(now, stability={"Loyal": 0.4, "Tiny": 0.1},
    ...     segment_sizes={"Loyal": 300, "Tiny": 5}, n_labels=200)
    >>> [(a.rule, a.segment) for a in events]  # doctest: +NORMALIZE_WHITESPACE
    [('below_target', None), ('significant_drop', None), ('unstable_segment', 'Loyal'),
     ('too_few_labels', None)]
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
    if current.significant_drop and current.change_pts is not None:
        p = current.change_p_value if current.change_p_value is not None else float("nan")
        out.append(
            AlertEvent(
                "significant_drop",
                "critical",
                f"{current.metric} fell {-current.change_pts:.1f} points from "
                f"{current.compared_period} to {current.period} ({_p_text(p)})",
                details={"diff_pts": current.change_pts, "p_value": p},
                **base,
            )
        )
    sizes = segment_sizes or {}
    for segment, share in sorted((stability or {}).items()):
        if sizes and sizes.get(segment, 0) < r.min_segment_customers:
            continue
        if share < r.min_stability:
            out.append(
                AlertEvent(
                    "unstable_segment",
                    "warning",
                    f"segment {segment!r} kept only {_share(share, r.min_stability)} of its "
                    f"customers since the previous run (alert below "
                    f"{_share(r.min_stability, -1)})",
                    segment=segment,
                    details={"stability": share, "customers": sizes.get(segment)},
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
