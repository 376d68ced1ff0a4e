"""One tracking step: segment as of a date, store the run, measure the KPI, compare, alert.

``track`` glues the other parts: features (:func:`seglens.features.customer_features`), the
segmenter (default :class:`seglens.segmenters.RFMSegmenter`), the accuracy KPI
(:func:`seglens.accuracy.customer_accuracy` against the store's current labels) or, without
labels, the stratified estimate when the labels include an audit sample (``source = audit``),
the label-free *segment hold* proxy, the migration matrix against the previous run, and
the alert rules.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Any

import polars as pl

from seglens.accuracy import customer_accuracy
from seglens.accuracy._core import proportion
from seglens.store import (
    KpiRecord,
    LabelImportResult,
    Policy,
    Store,
    current_labels,
    frame_sha256,
    kpi_table,
    list_runs,
    record_alert,
    record_kpi,
    record_run,
    run_assignments,
    store_labels,
)
from seglens.tracking.alerts import AlertEvent, AlertRules, KpiPoint, evaluate_alerts
from seglens.tracking.migration import MigrationMatrix, migration_matrix
from seglens.tracking.periods import Period, period_of

__all__ = ["AUDIT_SOURCE", "LabelsInput", "TrackResult", "track"]

AUDIT_SOURCE = "audit"
"""Labels with this ``source`` come from a stratified audit sample."""

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class LabelsInput:
    """A labels table to import before measuring (from :mod:`seglens.store.files`)."""

    table: pl.DataFrame
    source: str
    file_hash: str
    report: dict[str, Any] = field(default_factory=dict)
    lines: list[int] | None = None
    """The file's line number of each row of ``table`` (None: numbered from line 2)."""


@dataclass
class TrackResult:
    """What one tracking step stored and found."""

    run_id: int
    period: Period
    n_customers: int
    kpis: list[KpiRecord]
    n_labelled: int
    previous_run: int | None = None
    migration: MigrationMatrix | None = None
    alerts: list[AlertEvent] = field(default_factory=list)
    labels_import: LabelImportResult | None = None


def _end_of(as_of: date | datetime) -> datetime:
    return as_of if isinstance(as_of, datetime) else datetime.combine(as_of, time.max)


def _params(segmenter: Any) -> dict[str, Any]:
    raw = segmenter.get_params() if hasattr(segmenter, "get_params") else {}
    return {k: v if _is_json(v) else repr(v) for k, v in raw.items()}


def _is_json(value: Any) -> bool:
    try:
        json.dumps(value)
    except (TypeError, ValueError):
        return False
    return True


def _features(transactions: pl.DataFrame, as_of: datetime) -> pl.DataFrame:
    from seglens.features import customer_features

    return customer_features(transactions, as_of=as_of).table


def _fresh(segmenter: Any) -> Any:
    from sklearn.base import clone

    if segmenter is None:
        from seglens.segmenters import RFMSegmenter

        return RFMSegmenter()
    return clone(segmenter)


def _assign(segmenter: Any, features: pl.DataFrame) -> pl.DataFrame:
    out: pl.DataFrame = segmenter.assign(features)
    return out.select(pl.col("customer_id").cast(pl.String), pl.col("segment").cast(pl.String))


def _hold_proxy(
    transactions: pl.DataFrame, features: pl.DataFrame, segmenter: Any, period: Period
) -> tuple[int, int] | None:
    """Segment hold: fit on features at the previous period's end, re-assign now, count held."""
    before_end = datetime.combine(period.previous().end, time.max)
    if transactions.filter(pl.col("timestamp") <= before_end).is_empty():
        return None
    before = _features(transactions, before_end)
    common = before.select("customer_id").join(features.select("customer_id"), on="customer_id")
    if common.height == 0:
        return None
    fitted = _fresh(segmenter).fit(before)
    a = _assign(fitted, before.join(common, on="customer_id"))
    b = _assign(fitted, features.join(common, on="customer_id"))
    both = a.join(b, on="customer_id", suffix="_now")
    held = int((both["segment"] == both["segment_now"]).sum())
    return held, both.height


def _previous_point(store: Store, metric: str, period: str) -> KpiPoint | None:
    rows = kpi_table(store, metric).filter(pl.col("period") < period)
    if rows.is_empty():
        return None
    last = rows.sort("period", "created_at", "id").row(-1, named=True)
    return KpiPoint(last["period"], metric, last["value"], last["n"], last["successes"])


def track(
    store: Store,
    transactions: pl.DataFrame,
    *,
    as_of: date | datetime,
    segmenter: Any = None,
    labels: LabelsInput | None = None,
    period_kind: str = "quarter",
    policy: Policy = "latest",
    rules: AlertRules | None = None,
) -> TrackResult:
    """Segment the customers as of ``as_of`` and record the period's KPI, migration and alerts.

    Parameters
    ----------
    store
        The open store.
    transactions
        Canonical transactions (:data:`seglens.tables.TRANSACTIONS`); lines after ``as_of`` are
        ignored.
    as_of
        The cut-off (a date includes its whole day); it also picks the period.
    segmenter
        An unfitted seglens segmenter (default ``RFMSegmenter()``); a clone is fitted.
    labels
        Labels to import first (checked against this run's segments).
    period_kind
        ``"quarter"`` (default) or ``"month"``.
    policy
        How conflicting labels decide a customer's current segment.
    rules
        Alert thresholds.
    """
    end = _end_of(as_of)
    period = period_of(end, period_kind)
    seen = transactions.filter(pl.col("timestamp") <= end)
    features = _features(transactions, end)
    seg = _fresh(segmenter).fit(features)
    assigned = _assign(seg, features)
    revenue = (
        seen.filter(pl.col("timestamp") >= datetime.combine(period.start, time.min))
        .group_by(pl.col("customer_id").cast(pl.String))
        .agg(pl.col("amount").sum().alias("revenue"))
    )
    assigned = assigned.join(revenue, on="customer_id", how="left").with_columns(
        pl.col("revenue").fill_null(0.0)
    )
    prev_runs = list_runs(store).filter(pl.col("as_of") < end)
    run_id = record_run(
        store,
        assigned,
        segmenter=type(seg).__name__,
        parameters=_params(seg),
        as_of=end,
        data_hash=frame_sha256(seen),
        features=features,
    )
    result = TrackResult(run_id, period, assigned.height, [], 0)
    if labels is not None:
        result.labels_import = store_labels(
            store,
            labels.table,
            source=labels.source,
            file_hash=labels.file_hash,
            lines=labels.lines,
            report=labels.report,
        )
    truth = current_labels(store, policy).join(assigned, on="customer_id", suffix="_run")
    result.n_labelled = truth.height
    base = {"period": period.label, "period_kind": period.kind, "run_id": run_id}
    audit_kpi = _audit_estimate(truth, assigned, base)
    if audit_kpi is not None:
        result.kpis.append(audit_kpi)
    if truth.height:
        est = customer_accuracy(truth["segment"], truth["segment_run"], match="names")
        hits = int((truth["segment"] == truth["segment_run"]).sum())
        result.kpis.append(_record(est, "accuracy", f"labelled ({policy} label)", hits, base))
    hold = _hold_proxy(transactions, features, segmenter, period)
    if hold is not None:
        est = proportion(*hold)
        result.kpis.append(_record(est, "segment_hold", "out-of-time hold", hold[0], base))
    for rec in result.kpis:
        record_kpi(store, rec)
    if prev_runs.height:
        result.previous_run = int(prev_runs["run_id"][-1])
        result.migration = migration_matrix(run_assignments(store, result.previous_run), assigned)
    result.alerts = _alerts(store, result, rules)
    return result


def _audit_estimate(
    truth: pl.DataFrame, assigned: pl.DataFrame, base: dict[str, Any]
) -> KpiRecord | None:
    """Stratified population estimate from labels whose source is ``audit``, if it covers
    every segment (a stratified audit sample, as drawn by ``seglens audit-sample``)."""
    from seglens.audit import stratified_accuracy

    audited = truth.filter(pl.col("source").str.to_lowercase() == AUDIT_SOURCE)
    sizes = dict(assigned.group_by("segment").len().iter_rows())
    if audited.is_empty() or set(sizes) - set(audited["segment_run"].to_list()):
        return None
    correct = (audited["segment"] == audited["segment_run"]).to_list()
    est = stratified_accuracy(correct, audited["segment_run"], sizes).estimate
    return KpiRecord(
        metric="accuracy_audit",
        value=float(est.value_pct),
        ci_low=float(est.ci_low_pct),
        ci_high=float(est.ci_high_pct),
        n=int(est.n),
        successes=None,
        method="stratified audit estimate",
        **base,
    )


def _record(est: Any, metric: str, method: str, hits: int, base: dict[str, Any]) -> KpiRecord:
    return KpiRecord(
        metric=metric,
        value=float(est.value_pct),
        ci_low=float(est.ci_low_pct),
        ci_high=float(est.ci_high_pct),
        n=int(est.n),
        successes=hits,
        method=method,
        **base,
    )


def _alerts(store: Store, result: TrackResult, rules: AlertRules | None) -> list[AlertEvent]:
    if not result.kpis:
        return []
    main = result.kpis[0]
    current = KpiPoint(main.period, main.metric, main.value, main.n, main.successes)
    events = evaluate_alerts(
        current,
        _previous_point(store, main.metric, main.period),
        stability=result.migration.stability if result.migration else None,
        n_labels=result.n_labelled,
        accuracy_metric=main.metric.startswith("accuracy"),
        rules=rules,
    )
    for e in events:
        record_alert(
            store,
            rule=e.rule,
            severity=e.severity,
            message=e.message,
            details=e.details,
            period=e.period,
            metric=e.metric,
            segment=e.segment,
            run_id=result.run_id,
        )
    return events
