"""The store's tables (SQLAlchemy 2 declarative models, schema revision ``0004``).

Migrations in :mod:`seglens.store.migrations` create exactly these tables; a test checks the two
agree. Times are naive UTC. Customer ids are stored as written in the source (strings).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

__all__ = [
    "Alert",
    "Assignment",
    "AuditDesign",
    "AuditEntry",
    "AuditMember",
    "Base",
    "CustomerFeatures",
    "Import",
    "KpiMeasurement",
    "Label",
    "Run",
]

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_name)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Declarative base with a naming convention (stable constraint names across engines)."""

    metadata = MetaData(naming_convention=NAMING)


class Import(Base):
    """One imported file: what, from where, its content hash, row counts and cleaning report."""

    __tablename__ = "imports"
    __table_args__ = (UniqueConstraint("kind", "file_hash", name="uq_imports_kind_file_hash"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    source: Mapped[str] = mapped_column(Text)
    file_hash: Mapped[str] = mapped_column(String(64))
    rows_read: Mapped[int] = mapped_column(Integer)
    rows_loaded: Mapped[int] = mapped_column(Integer)
    report: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    created_by: Mapped[str] = mapped_column(String(200))


class Run(Base):
    """One segmentation run: the segmenter, its parameters, the as-of date and the data it saw."""

    __tablename__ = "runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    segmenter: Mapped[str] = mapped_column(String(200))
    parameters: Mapped[dict[str, Any]] = mapped_column(JSON)
    as_of: Mapped[datetime] = mapped_column(DateTime, index=True)
    data_hash: Mapped[str] = mapped_column(String(64))
    seglens_version: Mapped[str] = mapped_column(String(50))
    n_customers: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime)


class Assignment(Base):
    """The segment a run put one customer in, with the customer's revenue in that run's window."""

    __tablename__ = "assignments"

    run_id: Mapped[int] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True)
    customer_id: Mapped[str] = mapped_column(String(200), primary_key=True, index=True)
    segment: Mapped[str] = mapped_column(String(200))
    revenue: Mapped[float | None] = mapped_column(Float, nullable=True)


class CustomerFeatures(Base):
    """The feature row a run computed for one customer (kept so a run can be re-examined)."""

    __tablename__ = "customer_features"

    run_id: Mapped[int] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True)
    customer_id: Mapped[str] = mapped_column(String(200), primary_key=True, index=True)
    features: Mapped[dict[str, Any]] = mapped_column(JSON)


class Label(Base):
    """One confirmation or correction of a customer's segment. Append-only: never updated.

    ``run_id`` and ``judged_segment`` say what the reviewer judged: the segmentation run and the
    segment it showed for the customer. A label is evidence about that run; it counts for a
    later run only under the carry-forward policy (:mod:`seglens.tracking.labels`).
    """

    __tablename__ = "labels"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    customer_id: Mapped[str] = mapped_column(String(200), index=True)
    segment: Mapped[str] = mapped_column(String(200))
    run_id: Mapped[int | None] = mapped_column(
        ForeignKey("runs.id", ondelete="SET NULL"), nullable=True, index=True
    )
    judged_segment: Mapped[str | None] = mapped_column(String(200), nullable=True)
    purpose: Mapped[str] = mapped_column(String(10), server_default="kpi")
    """``kpi`` (random audits, feedback: evidence for the KPI) or ``teach`` (asked for because a
    model learns most from it; never counted in the KPI, which stays on random samples)."""
    labeled_by: Mapped[str | None] = mapped_column(String(200), nullable=True)
    labeled_at: Mapped[datetime] = mapped_column(DateTime)
    source: Mapped[str | None] = mapped_column(String(200), nullable=True)
    note: Mapped[str | None] = mapped_column(Text, nullable=True)
    import_id: Mapped[int | None] = mapped_column(
        ForeignKey("imports.id", ondelete="SET NULL"), nullable=True, index=True
    )
    fingerprint: Mapped[str] = mapped_column(String(64), unique=True)
    recorded_at: Mapped[datetime] = mapped_column(DateTime)


class KpiMeasurement(Base):
    """One KPI value for one period: value, confidence interval, n, method and the run behind it."""

    __tablename__ = "kpi_measurements"
    __table_args__ = (Index("ix_kpi_measurements_metric_period", "metric", "period"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[int | None] = mapped_column(
        ForeignKey("runs.id", ondelete="SET NULL"), nullable=True
    )
    period: Mapped[str] = mapped_column(String(20))
    period_kind: Mapped[str] = mapped_column(String(10), server_default="quarter")
    metric: Mapped[str] = mapped_column(String(100))
    value: Mapped[float] = mapped_column(Float)
    ci_low: Mapped[float | None] = mapped_column(Float, nullable=True)
    ci_high: Mapped[float | None] = mapped_column(Float, nullable=True)
    n: Mapped[int] = mapped_column(Integer)
    successes: Mapped[int | None] = mapped_column(Integer, nullable=True)
    method: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(DateTime)
    se: Mapped[float | None] = mapped_column(Float, nullable=True)
    design_id: Mapped[int | None] = mapped_column(
        ForeignKey("audit_designs.id", ondelete="SET NULL"), nullable=True
    )
    n_fresh: Mapped[int | None] = mapped_column(Integer, nullable=True)
    n_carried: Mapped[int | None] = mapped_column(Integer, nullable=True)
    n_expired: Mapped[int | None] = mapped_column(Integer, nullable=True)
    # The comparison with the previous period's measurement of the same metric, made once when
    # this row is stored; every view (history, alerts, report, web, API) reads it from here.
    compared_to_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    change_pts: Mapped[float | None] = mapped_column(Float, nullable=True)
    change_se: Mapped[float | None] = mapped_column(Float, nullable=True)
    change_ci_low: Mapped[float | None] = mapped_column(Float, nullable=True)
    change_ci_high: Mapped[float | None] = mapped_column(Float, nullable=True)
    change_p_value: Mapped[float | None] = mapped_column(Float, nullable=True)
    n_paired: Mapped[int | None] = mapped_column(Integer, nullable=True)
    significant_drop: Mapped[bool | None] = mapped_column(Boolean, nullable=True)


class Alert(Base):
    """An alert raised by a tracking rule; acknowledged once someone has looked at it."""

    __tablename__ = "alerts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    rule: Mapped[str] = mapped_column(String(50))
    severity: Mapped[str] = mapped_column(String(20))
    period: Mapped[str | None] = mapped_column(String(20), nullable=True)
    metric: Mapped[str | None] = mapped_column(String(100), nullable=True)
    segment: Mapped[str | None] = mapped_column(String(200), nullable=True)
    message: Mapped[str] = mapped_column(Text)
    details: Mapped[dict[str, Any]] = mapped_column(JSON)
    run_id: Mapped[int | None] = mapped_column(
        ForeignKey("runs.id", ondelete="SET NULL"), nullable=True
    )
    created_at: Mapped[datetime] = mapped_column(DateTime)
    acknowledged_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    acknowledged_by: Mapped[str | None] = mapped_column(String(200), nullable=True)
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)


class AuditDesign(Base):
    """A drawn audit sample of one run: its strata, their sizes, the seed and the allocation.

    The stratified estimate of the run's accuracy is computed from this design (weights
    ``N_h / N`` from ``strata``), not from whichever labels happen to exist.
    """

    __tablename__ = "audit_designs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"), index=True)
    strata: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    """``[{"segment", "population", "sample"}, ...]``"""
    seed: Mapped[int] = mapped_column(Integer)
    allocation: Mapped[str] = mapped_column(String(20))
    confidence: Mapped[float] = mapped_column(Float)
    margin_pts: Mapped[float | None] = mapped_column(Float, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    created_by: Mapped[str] = mapped_column(String(200))


class AuditMember(Base):
    """One customer drawn into an audit design, with the stratum it was drawn from."""

    __tablename__ = "audit_members"

    design_id: Mapped[int] = mapped_column(
        ForeignKey("audit_designs.id", ondelete="CASCADE"), primary_key=True
    )
    customer_id: Mapped[str] = mapped_column(String(200), primary_key=True, index=True)
    stratum: Mapped[str] = mapped_column(String(200))


class AuditEntry(Base):
    """Who did what, when. ``subject`` is a keyed-hash pseudonym, never a raw customer id."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime, index=True)
    actor: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(50))
    subject: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    details: Mapped[dict[str, Any]] = mapped_column(JSON)
