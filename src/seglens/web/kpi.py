"""The KPI the pages and the API show: the latest run's stored measurement.

Nothing here computes a KPI. :func:`seglens.tracking.measure_run` is the one computation; this
module reads what it stored (``kpi_measurements``) and calls it when the stored figure is out of
date — no measurement of the latest run yet, or a label that can count for the run (or its audit
design) stored after the run's latest measurement — so a correction made in the review queue
moves the figure. The per-segment precision and the confusion matrix are a detail view over the
same label selection (:func:`seglens.tracking.run_labels`, fresh and carried labels).
"""

from __future__ import annotations

import threading
import weakref
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

import polars as pl

from seglens.accuracy import AccuracyReport, SegmentRule, accuracy_report_from_tables
from seglens.audit import PlanRow, plan_rows, plans_for_margins
from seglens.settings import Settings
from seglens.store import (
    RunInfo,
    Store,
    kpi_table,
    latest_run,
    run_assignments,
    run_inputs_recorded_at,
    run_inputs_version,
)
from seglens.store.core import utcnow
from seglens.tracking import (
    AlertRules,
    LabelSelection,
    kpi_history,
    measure_run,
    run_labels,
)
from seglens.tracking.config import TrackingConfig
from seglens.web.format import p_text

__all__ = [
    "AUDIT_METRIC",
    "HEADLINE_METRICS",
    "LABELLED_METRIC",
    "RunKpi",
    "headline_history",
    "kpi_of_run",
    "p_text",
    "run_kpi",
]

AUDIT_METRIC = "accuracy_audit"
LABELLED_METRIC = "accuracy"
HEADLINE_METRICS = (AUDIT_METRIC, LABELLED_METRIC)
"""The metrics a period is judged by, in order of preference (as ``measure_run`` decides)."""

_measure_lock = threading.Lock()
_measured_versions: weakref.WeakKeyDictionary[object, dict[int, tuple[int, ...]]] = (
    weakref.WeakKeyDictionary()
)
"""Per store (its engine) and run, the inputs' fingerprint
(:func:`seglens.store.run_inputs_version`) read just before this process last measured the run:
a different fingerprint now means an input arrived or went since, whatever its timestamp says."""


@dataclass(frozen=True)
class RunKpi:
    """The latest run's stored KPI and the label selection behind it.

    ``rows`` holds the run's latest stored row (a :func:`seglens.store.kpi_table` row) per
    metric; ``headline`` is the ``accuracy_audit`` row if any, else the ``accuracy`` row, else
    ``None`` (not measured: no label counts for the run). ``detail`` is the per-segment
    precision and confusion of the counted labels (``None`` without any).
    """

    run: RunInfo
    rows: dict[str, dict[str, Any]]
    selection: LabelSelection
    detail: AccuracyReport | None
    target_pct: float
    confidence: float
    plan: list[PlanRow] = field(default_factory=list)
    """Not measured yet: labels a stratified audit needs for ±5 and ±3 points, per segment."""

    @property
    def headline(self) -> dict[str, Any] | None:
        """The stored figure the period is judged by."""
        for metric in HEADLINE_METRICS:
            if metric in self.rows:
                return self.rows[metric]
        return None

    @property
    def audit(self) -> dict[str, Any] | None:
        """The stored stratified audit estimate of the run, if any."""
        return self.rows.get(AUDIT_METRIC)

    @property
    def counts(self) -> dict[str, int]:
        """Labelled customers of the run: ``fresh``, ``carried``, ``expired``.

        The stored counts of the headline when there is one (they are the selection it used),
        else the current selection's.
        """
        h = self.headline
        if h is not None and h["n_fresh"] is not None:
            return {k: int(h[f"n_{k}"] or 0) for k in ("fresh", "carried", "expired")}
        return self.selection.counts

    @property
    def proxy(self) -> dict[str, Any] | None:
        """A stored label-free proxy (e.g. ``segment_hold``) when no accuracy is measured."""
        others = [r for m, r in self.rows.items() if m not in HEADLINE_METRICS]
        return others[0] if others and self.headline is None else None

    @property
    def change_text(self) -> str:
        """The stored change vs the previous period, e.g. ``'−3.1 points (p = 0.021)'``."""
        h = self.headline
        if h is None or h["change_pts"] is None:
            return ""
        d = float(h["change_pts"])
        sign = "+" if d > 0 else "−" if d < 0 else "±"
        p = p_text(h["change_p_value"])
        return f"{sign}{abs(d):.1f} points" + (f" ({p})" if p else "")


def headline_history(store: Store) -> tuple[str | None, pl.DataFrame, bool]:
    """The headline metric's stored history: ``(metric, kpi_history rows, proxy_only)``.

    The metric is ``accuracy_audit`` when the latest measured period has it, else ``accuracy``;
    ``proxy_only`` says the store holds only a label-free proxy (no accuracy measured yet).
    """
    hist = kpi_history(store)
    measured = hist.filter(pl.col("metric").is_in(HEADLINE_METRICS))
    if measured.is_empty():
        return None, measured, not hist.is_empty()
    last = measured.filter(pl.col("period") == measured["period"].max())
    metric = AUDIT_METRIC if AUDIT_METRIC in last["metric"].to_list() else LABELLED_METRIC
    return metric, measured.filter(pl.col("metric") == metric), False


def _latest_rows(store: Store, run_id: int) -> tuple[dict[str, dict[str, Any]], str | None]:
    """The run's latest stored row per metric, and the period kind of its measurements."""
    rows = kpi_table(store).filter(pl.col("run_id") == run_id).sort("created_at", "id")
    if rows.is_empty():
        return {}, None
    latest = rows.group_by("metric", maintain_order=True).last()
    kind = str(rows["period_kind"][-1])
    return {str(r["metric"]): r for r in latest.iter_rows(named=True)}, kind


def _out_of_date(store: Store, run_id: int, rows: dict[str, dict[str, Any]]) -> bool:
    """Whether a label or design that can change the run's KPI is newer than its measurement."""
    inputs_at = run_inputs_recorded_at(store, run_id)
    if inputs_at is None:
        return False
    measured: list[datetime] = [r["created_at"] for m, r in rows.items() if m in HEADLINE_METRICS]
    return not measured or inputs_at >= max(measured)


def _detail(selection: LabelSelection, settings: Settings) -> AccuracyReport | None:
    counted = selection.counted
    if counted.is_empty():
        return None
    return accuracy_report_from_tables(
        counted.select("customer_id", pl.col("assigned").alias("segment")),
        counted.select("customer_id", "segment"),
        match="names",
        confidence=settings.confidence,
        rule=SegmentRule(target_pct=settings.target_pct),
    )


_RACE_MARGIN = timedelta(seconds=1)
"""A label stored this close before a measurement started may have been missed by its read."""


def _measured(
    store: Store, run: RunInfo, tracking: TrackingConfig, rules: AlertRules
) -> tuple[dict[str, dict[str, Any]], LabelSelection | None]:
    """The run's latest rows, measuring first while out of date (see :func:`kpi_of_run`).

    A label stored while a measurement reads its inputs gets a ``recorded_at`` older than the
    stored measurement, so the measurement would look up to date without it. Two checks catch
    that: the inputs' fingerprint differs from the one read before this process last measured
    the run, or an input arrived since shortly before the measurement started (for labels
    another process stored); either measures again (at most three times per call).
    """
    rows, kind = _latest_rows(store, run.id)
    selection: LabelSelection | None = None
    force = False
    versions = _measured_versions.setdefault(store.engine, {})
    for _ in range(3):
        version = run_inputs_version(store, run.id)
        changed = run.id in versions and versions[run.id] != version
        if not (force or changed or _out_of_date(store, run.id, rows)):
            versions.setdefault(run.id, version)  # up to date as of this fingerprint
            break
        versions[run.id] = version
        started = utcnow() - _RACE_MARGIN
        selection = run_labels(store, run.id, policy=tracking.policy, carry=tracking.carry)
        if selection.counted.is_empty():
            break
        m = measure_run(
            store,
            run.id,
            period_kind=kind or "quarter",
            policy=tracking.policy,
            carry=tracking.carry,
            rules=rules,
        )
        selection = m.selection
        rows, kind = _latest_rows(store, run.id)
        inputs_at = run_inputs_recorded_at(store, run.id)
        force = inputs_at is not None and inputs_at >= started
    return rows, selection


def run_kpi(
    store: Store, settings: Settings, *, tracking: TrackingConfig | None = None
) -> RunKpi | None:
    """The latest run's stored KPI (see :func:`kpi_of_run`); ``None`` without a run."""
    run = latest_run(store)
    return None if run is None else kpi_of_run(store, settings, run, tracking=tracking)


def kpi_of_run(
    store: Store,
    settings: Settings,
    run: RunInfo,
    *,
    tracking: TrackingConfig | None = None,
) -> RunKpi:
    """The stored KPI of ``run``, measured first when out of date.

    When labels count for the run but its stored measurement is missing or older than its
    newest label or audit design (:func:`seglens.store.run_inputs_recorded_at`),
    :func:`seglens.tracking.measure_run` measures it (period kind of its earlier measurements,
    else ``quarter``; label policy, carry-forward policy and the other alert rules from
    ``tracking`` — the same tracking settings ``seglens track`` uses — with the target, margin and
    confidence of ``settings``) and the answer is what it stored. Without a counted label nothing
    is measured (no figure, n = 0).
    """
    tracking = tracking or TrackingConfig()
    policy, carry = tracking.policy, tracking.carry
    rules = replace(
        tracking.rules,
        target_pct=settings.target_pct,
        margin_pts=settings.margin_pts,
        confidence=settings.confidence,
    )
    with _measure_lock:  # one measurement per change; a read waits for one under way
        rows, selection = _measured(store, run, tracking, rules)
    if selection is None:
        selection = run_labels(store, run.id, policy=policy, carry=carry)
    if selection.counted.is_empty() and _out_of_date(store, run.id, rows):
        # No label counts any more and the inputs changed since the stored figure (e.g. the only
        # labels were undone): that figure describes labels that are gone, so not measured.
        rows = {m: r for m, r in rows.items() if m not in HEADLINE_METRICS}
    plan: list[PlanRow] = []
    if not any(m in rows for m in HEADLINE_METRICS):
        sizes = run_assignments(store, run.id).group_by("segment").len()
        plan = plan_rows(plans_for_margins(dict(sizes.iter_rows())))
    return RunKpi(
        run,
        rows,
        selection,
        _detail(selection, settings),
        settings.target_pct,
        settings.confidence,
        plan,
    )
