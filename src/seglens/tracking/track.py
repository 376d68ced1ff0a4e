"""One tracking step: segment as of a date, store the run, measure the KPI, compare, alert.

``track`` glues the other parts: features (:func:`seglens.features.customer_features`), the
segmenter (default :class:`seglens.segmenters.RFMSegmenter`), the label-free *segment hold*
proxy, and :func:`seglens.tracking.measure.measure_run`, which measures the run's KPI from the
labels that judged it (and those carried forward), compares it with the previous period, stores
both and raises or resolves alerts. The migration matrix against the previous run is returned.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Any

import polars as pl

from seglens.errors import DataError
from seglens.segmenters.persistence import model_parameters
from seglens.stats import proportion
from seglens.store import (
    KpiRecord,
    LabelImportResult,
    Policy,
    Store,
    frame_sha256,
    list_runs,
    record_run,
    run_assignments,
    store_labels,
)
from seglens.tracking.alerts import AlertEvent, AlertRules
from seglens.tracking.labels import CarryPolicy
from seglens.tracking.measure import Measurement, measure_run
from seglens.tracking.migration import MigrationMatrix, migration_matrix
from seglens.tracking.periods import Period, period_of

__all__ = ["LabelsInput", "TrackResult", "check_as_of", "record_step", "track"]

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
    measurement: Measurement | None = None
    """The stored measurement: label counts (fresh, carried, expired), audit progress."""
    segment_sizes: dict[str, int] = field(default_factory=dict)
    """Customers per segment in the run (for the audit plan when nothing is measured yet)."""


def _end_of(as_of: date | datetime) -> datetime:
    return as_of if isinstance(as_of, datetime) else datetime.combine(as_of, time.max)


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


def check_as_of(transactions: pl.DataFrame, as_of: date | datetime) -> datetime:
    """The cut-off as a datetime, refused when no transaction happened by then."""
    end = _end_of(as_of)
    first = transactions["timestamp"].min() if transactions.height else None
    if not isinstance(first, datetime) or first > end:
        when = (
            f"the first is on {first:%Y-%m-%d}"
            if isinstance(first, datetime)
            else "the file has no transactions"
        )
        raise DataError(
            f"no transaction on or before the as-of date {end:%Y-%m-%d} ({when})",
            hint="choose an --as-of date on or after the first transaction",
        )
    return end


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
    carry: CarryPolicy | None = None,
) -> TrackResult:
    """Segment the customers as of ``as_of``, store the run, and measure the period's KPI.

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
        Labels to import after the run is stored. They are bound to this run unless the file
        names its run (an audit sheet's ``run_id`` column).
    period_kind
        ``"quarter"`` (default) or ``"month"``.
    policy
        How several labels of one customer for the same run decide.
    rules
        Alert thresholds.
    carry
        When labels given for an earlier run still count (:class:`CarryPolicy`).
    """
    end = check_as_of(transactions, as_of)
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
    return record_step(
        store,
        assigned,
        model=seg,
        features=features,
        as_of=end,
        period=period,
        data_hash=frame_sha256(seen),
        labels=labels,
        hold=_hold_proxy(transactions, features, segmenter, period),
        period_kind=period_kind,
        policy=policy,
        rules=rules,
        carry=carry,
    )


def record_step(
    store: Store,
    assigned: pl.DataFrame,
    *,
    model: Any,
    features: pl.DataFrame,
    as_of: datetime,
    period: Period,
    data_hash: str,
    labels: LabelsInput | None,
    hold: tuple[int, int] | None,
    period_kind: str,
    policy: Policy,
    rules: AlertRules | None,
    carry: CarryPolicy | None,
) -> TrackResult:
    """Store one tracking step, whichever engine computed it: the run as of ``as_of``
    (``assigned``: customer, segment and period revenue, from the fitted ``model``), the labels
    to bind to it, the out-of-time ``hold`` proxy (customers kept in their segment, customers
    compared), then the stored measurement with its alerts and the migration from the
    previous run."""
    prev_runs = list_runs(store).filter(pl.col("as_of") < as_of)
    run_id = record_run(
        store,
        assigned,
        segmenter=type(model).__name__,
        parameters=model_parameters(model),
        as_of=as_of,
        data_hash=data_hash,
        features=features,
    )
    imported = None
    if labels is not None:
        imported = store_labels(
            store,
            labels.table,
            source=labels.source,
            file_hash=labels.file_hash,
            lines=labels.lines,
            report=labels.report,
        )
    extra = []
    if hold is not None:
        est = proportion(*hold, confidence=(rules or AlertRules()).confidence)
        extra.append(
            KpiRecord(
                period=period.label,
                metric="segment_hold",
                value=float(est.value_pct),
                ci_low=float(est.ci_low_pct),
                ci_high=float(est.ci_high_pct),
                n=int(est.n),
                successes=hold[0],
                se=est.se_pct,
                method="out-of-time hold",
            )
        )
    measured = measure_run(
        store, run_id, period_kind=period_kind, policy=policy, carry=carry, rules=rules, extra=extra
    )
    result = TrackResult(
        run_id,
        period,
        assigned.height,
        measured.kpis,
        measured.selection.counted.height,
        measurement=measured,
        labels_import=imported,
        alerts=measured.alerts,
        segment_sizes={str(k): int(v) for k, v in assigned.group_by("segment").len().rows()},
    )
    if prev_runs.height:
        result.previous_run = int(prev_runs["run_id"][-1])
        result.migration = migration_matrix(run_assignments(store, result.previous_run), assigned)
    return result
