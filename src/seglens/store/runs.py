"""Segmentation runs, their assignments and features, KPI measurements, alerts and the audit log."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import polars as pl
from sqlalchemy import func, select

from seglens.db_guard import check_values
from seglens.errors import UsageError
from seglens.store.core import Store, audit, current_user, utcnow
from seglens.store.models import (
    Alert,
    Assignment,
    AuditEntry,
    Base,
    Import,
    KpiMeasurement,
    Run,
)

__all__ = [
    "KpiRecord",
    "acknowledge_alert",
    "frame_sha256",
    "kpi_table",
    "list_alerts",
    "list_audit",
    "list_runs",
    "record_alert",
    "record_import",
    "record_kpi",
    "record_run",
    "resolve_alerts",
    "run_assignments",
    "table_counts",
]

_CHUNK = 2_000
# the lengths the assignments table allows, read from its definition (String(200))
_TEXT_LIMITS = {
    c: getattr(Assignment.__table__.c[c].type, "length", None) for c in ("customer_id", "segment")
}


def frame_sha256(frame: pl.DataFrame) -> str:
    """A content hash of a table (row order and column order matter).

    Examples
    --------
    >>> a = pl.DataFrame({"x": [1, 2]})
    >>> frame_sha256(a) == frame_sha256(a.clone()), frame_sha256(a) == frame_sha256(a.reverse())
    (True, False)
    """
    h = hashlib.sha256(",".join(frame.columns).encode())
    for value in frame.hash_rows(seed=0).to_list():
        h.update(value.to_bytes(8, "little"))
    return h.hexdigest()


def _as_datetime(value: date | datetime) -> datetime:
    return value if isinstance(value, datetime) else datetime(value.year, value.month, value.day)


def record_run(
    store: Store,
    assignments: pl.DataFrame,
    *,
    segmenter: str,
    parameters: dict[str, Any],
    as_of: date | datetime,
    data_hash: str,
    features: pl.DataFrame | None = None,
    actor: str | None = None,
) -> int:
    """Store one segmentation run with its assignments (and optionally its feature rows).

    ``assignments`` has ``customer_id`` and ``segment`` and optionally ``revenue`` (the
    customer's spend in the run's window, used for the revenue migration matrix). ``features``
    has ``customer_id`` and any numeric or text columns. Returns the run id.
    """
    from seglens import __version__

    if not {"customer_id", "segment"} <= set(assignments.columns):
        raise UsageError("assignments need columns customer_id and segment")
    if assignments["customer_id"].is_duplicated().any():
        raise UsageError("assignments list a customer more than once")
    cols = [c for c in ("customer_id", "segment", "revenue") if c in assignments.columns]
    table = assignments.select(
        pl.col("customer_id").cast(pl.String), pl.col("segment").cast(pl.String), *cols[2:]
    )
    # a value the database would refuse is named before anything is written
    check_values(table, _TEXT_LIMITS, source=None, rows_of="the run's segments")
    rows = table.to_dicts()
    with store.write() as s:
        run = Run(
            segmenter=segmenter,
            parameters=parameters,
            as_of=_as_datetime(as_of),
            data_hash=data_hash,
            seglens_version=__version__,
            n_customers=len(rows),
            created_at=utcnow(),
        )
        s.add(run)
        s.flush()
        for i in range(0, len(rows), _CHUNK):
            s.execute(
                Base.metadata.tables["assignments"].insert(),
                [{**r, "run_id": run.id} for r in rows[i : i + _CHUNK]],
            )
        if features is not None:
            feats = features.with_columns(pl.col("customer_id").cast(pl.String))
            frows = [
                {
                    "run_id": run.id,
                    "customer_id": r.pop("customer_id"),
                    "features": {k: _jsonable(v) for k, v in r.items()},
                }
                for r in feats.to_dicts()
            ]
            for i in range(0, len(frows), _CHUNK):
                s.execute(Base.metadata.tables["customer_features"].insert(), frows[i : i + _CHUNK])
        audit(
            s,
            "run.record",
            actor=actor,
            details={"run_id": run.id, "segmenter": segmenter, "customers": len(rows)},
        )
        return run.id


def _jsonable(value: Any) -> Any:
    if isinstance(value, date | datetime):
        return value.isoformat()
    if isinstance(value, float) and value != value:  # NaN is not JSON
        return None
    return value


def list_runs(store: Store) -> pl.DataFrame:
    """All runs, oldest as-of first."""
    cols = (Run.id, Run.segmenter, Run.as_of, Run.n_customers, Run.data_hash, Run.created_at)
    with store.read() as s:
        data = [tuple(r) for r in s.execute(select(*cols).order_by(Run.as_of, Run.id))]
    schema: dict[str, pl.DataType] = {
        "run_id": pl.Int64(),
        "segmenter": pl.String(),
        "as_of": pl.Datetime("us"),
        "n_customers": pl.Int64(),
        "data_hash": pl.String(),
        "created_at": pl.Datetime("us"),
    }
    return pl.DataFrame(data, schema=schema, orient="row")


def run_assignments(store: Store, run_id: int) -> pl.DataFrame:
    """``customer_id``, ``segment``, ``revenue`` of one run."""
    stmt = select(Assignment.customer_id, Assignment.segment, Assignment.revenue).where(
        Assignment.run_id == run_id
    )
    with store.read() as s:
        data = [tuple(r) for r in s.execute(stmt.order_by(Assignment.customer_id))]
    schema = {"customer_id": pl.String, "segment": pl.String, "revenue": pl.Float64}
    return pl.DataFrame(data, schema=schema, orient="row")


@dataclass(frozen=True)
class KpiRecord:
    """One KPI value to store: what, for which period, with its uncertainty and method.

    ``se`` is the standard error in points (stratified or binomial), kept so every later
    comparison uses the estimate's own uncertainty. ``n_fresh``/``n_carried``/``n_expired``
    count the labelled customers whose label judged this run, was carried from an earlier run,
    or was too old or judged another segment. The ``change_*`` fields are the comparison with
    ``compared_to_id`` (the previous period's measurement), made once when this row is stored.
    """

    period: str
    metric: str
    value: float
    n: int
    method: str
    ci_low: float | None = None
    ci_high: float | None = None
    successes: int | None = None
    period_kind: str = "quarter"
    run_id: int | None = None
    se: float | None = None
    design_id: int | None = None
    n_fresh: int | None = None
    n_carried: int | None = None
    n_expired: int | None = None
    compared_to_id: int | None = None
    change_pts: float | None = None
    change_se: float | None = None
    change_ci_low: float | None = None
    change_ci_high: float | None = None
    change_p_value: float | None = None
    n_paired: int | None = None
    significant_drop: bool | None = None


_KPI_FIELDS = tuple(KpiRecord.__dataclass_fields__)


def record_kpi(store: Store, record: KpiRecord, *, actor: str | None = None) -> int:
    """Store one KPI measurement; returns its id."""
    with store.write() as s:
        row = KpiMeasurement(**{f: getattr(record, f) for f in _KPI_FIELDS}, created_at=utcnow())
        s.add(row)
        s.flush()
        audit(s, "kpi.record", actor=actor, details={"kpi_id": row.id, "metric": record.metric})
        return row.id


_KPI_SCHEMA: dict[str, pl.DataType] = {
    "id": pl.Int64(),
    "run_id": pl.Int64(),
    "period": pl.String(),
    "period_kind": pl.String(),
    "metric": pl.String(),
    "value": pl.Float64(),
    "ci_low": pl.Float64(),
    "ci_high": pl.Float64(),
    "n": pl.Int64(),
    "successes": pl.Int64(),
    "method": pl.String(),
    "created_at": pl.Datetime("us"),
    "se": pl.Float64(),
    "design_id": pl.Int64(),
    "n_fresh": pl.Int64(),
    "n_carried": pl.Int64(),
    "n_expired": pl.Int64(),
    "compared_to_id": pl.Int64(),
    "change_pts": pl.Float64(),
    "change_se": pl.Float64(),
    "change_ci_low": pl.Float64(),
    "change_ci_high": pl.Float64(),
    "change_p_value": pl.Float64(),
    "n_paired": pl.Int64(),
    "significant_drop": pl.Boolean(),
}


def kpi_table(store: Store, metric: str | None = None) -> pl.DataFrame:
    """Every stored KPI measurement (optionally of one metric), by period then time stored.

    Columns: the :class:`KpiRecord` fields plus ``id`` and ``created_at``.
    """
    cols = [getattr(KpiMeasurement, c) for c in _KPI_SCHEMA]
    stmt = select(*cols).order_by(
        KpiMeasurement.period, KpiMeasurement.created_at, KpiMeasurement.id
    )
    if metric is not None:
        stmt = stmt.where(KpiMeasurement.metric == metric)
    with store.read() as s:
        data = [tuple(r) for r in s.execute(stmt)]
    return pl.DataFrame(data, schema=_KPI_SCHEMA, orient="row")


def record_alert(
    store: Store,
    *,
    rule: str,
    severity: str,
    message: str,
    details: dict[str, Any],
    period: str | None = None,
    metric: str | None = None,
    segment: str | None = None,
    run_id: int | None = None,
) -> int:
    """Store a raised alert; returns its id.

    An alert already open for the same rule, period, metric and segment is not raised twice:
    its id is returned.
    """
    with store.write() as s:
        same = s.scalar(
            select(Alert.id).where(
                Alert.rule == rule,
                Alert.period.is_(None) if period is None else Alert.period == period,
                Alert.metric.is_(None) if metric is None else Alert.metric == metric,
                Alert.segment.is_(None) if segment is None else Alert.segment == segment,
                Alert.resolved_at.is_(None),
                Alert.acknowledged_at.is_(None),
            )
        )
        if same is not None:
            return int(same)
        alert = Alert(
            rule=rule,
            severity=severity,
            message=message,
            details=details,
            period=period,
            metric=metric,
            segment=segment,
            run_id=run_id,
            created_at=utcnow(),
        )
        s.add(alert)
        s.flush()
        audit(s, "alert.raise", details={"alert_id": alert.id, "rule": rule})
        return alert.id


def acknowledge_alert(store: Store, alert_id: int, *, actor: str | None = None) -> None:
    """Mark an alert as seen by ``actor``."""
    who = actor or current_user()
    with store.write() as s:
        alert = s.get(Alert, alert_id)
        if alert is None:
            raise UsageError(f"no alert with id {alert_id}")
        if alert.acknowledged_at is None:
            alert.acknowledged_at, alert.acknowledged_by = utcnow(), who
            audit(s, "alert.acknowledge", actor=who, details={"alert_id": alert_id})


def resolve_alerts(
    store: Store, *, period: str, keep: set[tuple[str, str | None, str | None]]
) -> list[int]:
    """Resolve the period's unresolved alerts whose condition no longer holds.

    ``keep`` holds ``(rule, metric, segment)`` of the alerts the latest evaluation of ``period``
    raised; every other unresolved alert of that period is marked resolved. Returns their ids.
    """
    done: list[int] = []
    with store.write() as s:
        for alert in s.scalars(
            select(Alert).where(Alert.period == period, Alert.resolved_at.is_(None))
        ):
            if (alert.rule, alert.metric, alert.segment) not in keep:
                alert.resolved_at = utcnow()
                done.append(alert.id)
        if done:
            audit(s, "alert.resolve", details={"alert_ids": done, "period": period})
    return done


def list_alerts(store: Store, *, open_only: bool = False) -> pl.DataFrame:
    """Alerts, newest first (``open_only``: neither acknowledged nor resolved)."""
    cols = (
        Alert.id,
        Alert.created_at,
        Alert.rule,
        Alert.severity,
        Alert.period,
        Alert.metric,
        Alert.segment,
        Alert.message,
        Alert.acknowledged_at,
        Alert.acknowledged_by,
        Alert.resolved_at,
    )
    stmt = select(*cols).order_by(Alert.created_at.desc(), Alert.id.desc())
    if open_only:
        stmt = stmt.where(Alert.acknowledged_at.is_(None), Alert.resolved_at.is_(None))
    with store.read() as s:
        data = [tuple(r) for r in s.execute(stmt)]
    schema: dict[str, pl.DataType] = {
        "id": pl.Int64(),
        "created_at": pl.Datetime("us"),
        "rule": pl.String(),
        "severity": pl.String(),
        "period": pl.String(),
        "metric": pl.String(),
        "segment": pl.String(),
        "message": pl.String(),
        "acknowledged_at": pl.Datetime("us"),
        "acknowledged_by": pl.String(),
        "resolved_at": pl.Datetime("us"),
    }
    return pl.DataFrame(data, schema=schema, orient="row")


def list_audit(store: Store, *, limit: int | None = None) -> pl.DataFrame:
    """The audit log, newest first."""
    cols = (AuditEntry.id, AuditEntry.at, AuditEntry.actor, AuditEntry.action, AuditEntry.subject)
    stmt = select(*cols).order_by(AuditEntry.id.desc())
    if limit is not None:
        stmt = stmt.limit(limit)
    with store.read() as s:
        data = [tuple(r) for r in s.execute(stmt)]
    schema: dict[str, pl.DataType] = {
        "id": pl.Int64(),
        "at": pl.Datetime("us"),
        "actor": pl.String(),
        "action": pl.String(),
        "subject": pl.String(),
    }
    return pl.DataFrame(data, schema=schema, orient="row")


def table_counts(store: Store) -> dict[str, int]:
    """Rows per store table."""
    with store.read() as s:
        return {
            name: int(s.scalar(select(func.count()).select_from(table)) or 0)
            for name, table in Base.metadata.tables.items()
        }


def record_import(
    store: Store,
    *,
    kind: str,
    source: str,
    file_hash: str,
    rows_read: int,
    rows_loaded: int,
    report: dict[str, Any],
    actor: str | None = None,
) -> tuple[int, bool]:
    """Record an imported file once per content hash; returns ``(import_id, newly_recorded)``."""
    with store.write() as s:
        found = s.scalar(
            select(Import.id).where(Import.kind == kind, Import.file_hash == file_hash)
        )
        if found is not None:
            return int(found), False
        imp = Import(
            kind=kind,
            source=source,
            file_hash=file_hash,
            rows_read=rows_read,
            rows_loaded=rows_loaded,
            report=report,
            created_at=utcnow(),
            created_by=actor or current_user(),
        )
        s.add(imp)
        s.flush()
        audit(s, f"{kind}.import", actor=actor, details={"import_id": imp.id, "source": source})
        return imp.id, True
