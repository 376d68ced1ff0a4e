"""Read-only questions the web app and the report ask the store: runs, features, customers.

Each answer is a frozen dataclass or a Polars frame with a fixed schema, so callers never see a
session or an ORM row. Runs never change once recorded, so what these return about a run can be
cached by the caller (the web app does, per store URL and run id).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import polars as pl
from sqlalchemy import and_, func, or_, select
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from seglens.store.core import Store
from seglens.store.labels import label_history
from seglens.store.models import (
    Assignment,
    AuditDesign,
    AuditEntry,
    CustomerFeatures,
    Import,
    Label,
    Run,
)

__all__ = [
    "CustomerRecord",
    "RunInfo",
    "customer_record",
    "features_of",
    "latest_label_of",
    "latest_run",
    "list_imports",
    "previous_run",
    "recent_audit",
    "run_features",
    "run_info",
    "run_inputs_recorded_at",
    "run_segment_names",
    "safe_url",
]


@dataclass(frozen=True)
class RunInfo:
    """One stored segmentation run."""

    id: int
    segmenter: str
    parameters: dict[str, Any]
    as_of: datetime
    n_customers: int
    created_at: datetime
    seglens_version: str
    data_hash: str


def _info(run: Run) -> RunInfo:
    return RunInfo(
        run.id,
        run.segmenter,
        dict(run.parameters),
        run.as_of,
        run.n_customers,
        run.created_at,
        run.seglens_version,
        run.data_hash,
    )


def run_info(store: Store, run_id: int) -> RunInfo | None:
    """A run by id, or ``None``."""
    with store.read() as s:
        run = s.get(Run, run_id)
        return None if run is None else _info(run)


def latest_run(store: Store) -> RunInfo | None:
    """The run with the latest as-of date (the "current" segmentation; ties: the last recorded).

    Examples
    --------
    >>> import tempfile, polars as pl
    >>> from seglens.store import open_store, record_run
    >>> a = pl.DataFrame({"customer_id": ["1"], "segment": ["Loyal"]})
    >>> with tempfile.TemporaryDirectory() as d, open_store(f"{d}/s.db") as st:
    ...     first = latest_run(st)
    ...     rid = record_run(st, a, segmenter="X", parameters={}, as_of=datetime(2024, 3, 31),
    ...                      data_hash="h")
    ...     first, latest_run(st).id == rid
    (None, True)
    """
    with store.read() as s:
        run = s.scalar(select(Run).order_by(Run.as_of.desc(), Run.id.desc()).limit(1))
        return None if run is None else _info(run)


def previous_run(store: Store, run_id: int) -> RunInfo | None:
    """The run with the latest as-of date before ``run_id``'s (``None``: first or unknown run)."""
    with store.read() as s:
        as_of = s.scalar(select(Run.as_of).where(Run.id == run_id))
        if as_of is None:
            return None
        stmt = (
            select(Run).where(Run.as_of < as_of).order_by(Run.as_of.desc(), Run.id.desc()).limit(1)
        )
        run = s.scalar(stmt)
        return None if run is None else _info(run)


def run_segment_names(store: Store, run_id: int) -> list[str]:
    """The segments a run uses, sorted (empty for an unknown run)."""
    stmt = select(Assignment.segment).where(Assignment.run_id == run_id).distinct()
    with store.read() as s:
        return sorted(s.scalars(stmt))


def run_features(store: Store, run_id: int) -> pl.DataFrame:
    """The feature rows a run stored: ``customer_id`` (text) plus its feature columns.

    A run recorded without features gives an empty frame with only ``customer_id``.
    """
    stmt = select(CustomerFeatures.customer_id, CustomerFeatures.features).where(
        CustomerFeatures.run_id == run_id
    )
    with store.read() as s:
        rows = s.execute(stmt.order_by(CustomerFeatures.customer_id)).all()
    if not rows:
        return pl.DataFrame(schema={"customer_id": pl.String})
    frame = pl.DataFrame(
        [{"customer_id": cid, **feats} for cid, feats in rows], infer_schema_length=None
    )
    return frame.with_columns(pl.col("customer_id").cast(pl.String))


@dataclass(frozen=True)
class CustomerRecord:
    """What the store holds about one customer.

    ``segments`` has ``run_id, as_of, segment, revenue`` per run that segmented the customer
    (oldest as-of first); ``features`` are from the latest run that stored any
    (``features_run``); ``labels`` is the customer's :func:`~seglens.store.label_history`.
    """

    customer_id: str
    segments: pl.DataFrame
    features: dict[str, Any]
    features_run: int | None
    labels: pl.DataFrame


_SEGMENTS_SCHEMA: dict[str, pl.DataType] = {
    "run_id": pl.Int64(),
    "as_of": pl.Datetime("us"),
    "segment": pl.String(),
    "revenue": pl.Float64(),
}


def customer_record(store: Store, customer_id: str) -> CustomerRecord | None:
    """The customer's segment in each run, latest features and labels; ``None`` if unknown."""
    with store.read() as s:
        seg_rows = s.execute(
            select(Run.id, Run.as_of, Assignment.segment, Assignment.revenue)
            .join(Assignment, Assignment.run_id == Run.id)
            .where(Assignment.customer_id == customer_id)
            .order_by(Run.as_of, Run.id)
        ).all()
        feat = s.execute(
            select(CustomerFeatures.run_id, CustomerFeatures.features)
            .join(Run, Run.id == CustomerFeatures.run_id)
            .where(CustomerFeatures.customer_id == customer_id)
            .order_by(Run.as_of.desc(), Run.id.desc())
            .limit(1)
        ).first()
    labels = label_history(store, customer_id)
    if not seg_rows and labels.is_empty():
        return None
    segments = pl.DataFrame([tuple(r) for r in seg_rows], schema=_SEGMENTS_SCHEMA, orient="row")
    return CustomerRecord(
        customer_id,
        segments,
        dict(feat[1]) if feat else {},
        int(feat[0]) if feat else None,
        labels,
    )


_IMPORTS_SCHEMA: dict[str, pl.DataType] = {
    "id": pl.Int64(),
    "kind": pl.String(),
    "source": pl.String(),
    "file_hash": pl.String(),
    "rows_read": pl.Int64(),
    "rows_loaded": pl.Int64(),
    "created_at": pl.Datetime("us"),
    "created_by": pl.String(),
}


def list_imports(store: Store, kind: str | None = None) -> pl.DataFrame:
    """Imported files (optionally of one ``kind``, e.g. ``labels``), oldest first."""
    stmt = select(*(getattr(Import, c) for c in _IMPORTS_SCHEMA)).order_by(Import.id)
    if kind is not None:
        stmt = stmt.where(Import.kind == kind)
    with store.read() as s:
        data = [tuple(r) for r in s.execute(stmt)]
    return pl.DataFrame(data, schema=_IMPORTS_SCHEMA, orient="row")


def safe_url(url: str) -> str:
    """A database URL with any password masked, fit to show in a report or a log.

    Examples
    --------
    >>> safe_url("postgresql+psycopg://ana:secret@127.0.0.1:5432/seglens")
    'postgresql+psycopg://ana:***@127.0.0.1:5432/seglens'
    >>> safe_url("/data/seglens.db")
    '/data/seglens.db'
    """
    try:
        return make_url(url).render_as_string(hide_password=True)
    except (ArgumentError, ValueError):  # a plain path: nothing secret to hide
        return url


def run_inputs_recorded_at(store: Store, run_id: int) -> datetime | None:
    """When the newest input of run ``run_id``'s KPI was stored; ``None`` when it has none.

    The inputs are the labels that can count for the run (those judging it, an earlier run or
    no run; labels of later runs never count), the run's audit designs and the undoing of a
    label (``label.undo`` in the audit log: the label is gone, so is its time). A stored
    measurement older than this is out of date: measure the run again.
    """
    with store.read() as s:
        as_of = s.scalar(select(Run.as_of).where(Run.id == run_id))
        if as_of is None:
            return None
        not_later = or_(
            Label.run_id.is_(None),
            Run.as_of < as_of,
            and_(Run.as_of == as_of, Run.id <= run_id),
        )
        labels_at = s.scalar(
            select(func.max(Label.recorded_at))
            .select_from(Label)
            .outerjoin(Run, Run.id == Label.run_id)
            .where(not_later)
        )
        design_at = s.scalar(
            select(func.max(AuditDesign.created_at)).where(AuditDesign.run_id == run_id)
        )
        # An undone (deleted) label changes the inputs too; any run's undo re-measures once.
        undo_at = s.scalar(select(func.max(AuditEntry.at)).where(AuditEntry.action == "label.undo"))
    times = [t for t in (labels_at, design_at, undo_at) if t is not None]
    return max(times) if times else None


def run_inputs_version(store: Store, run_id: int) -> tuple[int, ...]:
    """A fingerprint of the inputs of run ``run_id``'s KPI (the same inputs as
    :func:`run_inputs_recorded_at`): how many there are and their highest ids.

    Two equal fingerprints mean no input was added or removed in between, whatever the clocks
    said: a label whose ``recorded_at`` was taken before a measurement read the labels, but
    committed after, changes the fingerprint although its time looks already counted.
    """
    with store.read() as s:
        as_of = s.scalar(select(Run.as_of).where(Run.id == run_id))
        if as_of is None:
            return ()
        not_later = or_(
            Label.run_id.is_(None),
            Run.as_of < as_of,
            and_(Run.as_of == as_of, Run.id <= run_id),
        )
        labels = s.execute(
            select(func.count(Label.id), func.max(Label.id))
            .select_from(Label)
            .outerjoin(Run, Run.id == Label.run_id)
            .where(not_later)
        ).one()
        designs = s.execute(
            select(func.count(AuditDesign.id), func.max(AuditDesign.id)).where(
                AuditDesign.run_id == run_id
            )
        ).one()
        undos = s.scalar(select(func.count(AuditEntry.id)).where(AuditEntry.action == "label.undo"))
    return (*(int(v or 0) for v in (*labels, *designs)), int(undos or 0))


_CHUNK = 1000


def features_of(store: Store, run_id: int, customer_ids: list[str]) -> dict[str, dict[str, Any]]:
    """The feature rows run ``run_id`` stored for ``customer_ids`` (only those asked for)."""
    found: dict[str, dict[str, Any]] = {}
    with store.read() as s:
        for start in range(0, len(customer_ids), _CHUNK):
            stmt = select(CustomerFeatures.customer_id, CustomerFeatures.features).where(
                CustomerFeatures.run_id == run_id,
                CustomerFeatures.customer_id.in_(customer_ids[start : start + _CHUNK]),
            )
            found.update((cid, dict(f)) for cid, f in s.execute(stmt))
    return found


def latest_label_of(store: Store, customer_ids: list[str]) -> dict[str, tuple[str, datetime]]:
    """Each customer's most recent label, any purpose or run: ``{id: (segment, labeled_at)}``.

    The latest ``labeled_at`` wins, then the latest stored (the ``latest`` label policy's order).
    """
    found: dict[str, tuple[str, datetime]] = {}
    with store.read() as s:
        for start in range(0, len(customer_ids), _CHUNK):
            stmt = (
                select(Label.customer_id, Label.segment, Label.labeled_at)
                .where(Label.customer_id.in_(customer_ids[start : start + _CHUNK]))
                .order_by(Label.labeled_at, Label.id)
            )
            found.update((cid, (seg, at)) for cid, seg, at in s.execute(stmt))
    return found


def recent_audit(store: Store, *, limit: int = 50) -> list[dict[str, Any]]:
    """The newest audit entries with their details (``id, at, actor, action, subject, details``).

    What the Admin page's audit log shows: besides who did what, the customer's pseudonym
    (``subject``) and the details stored with the entry (e.g. a label's ``segment`` and run).
    """
    stmt = select(
        AuditEntry.id,
        AuditEntry.at,
        AuditEntry.actor,
        AuditEntry.action,
        AuditEntry.subject,
        AuditEntry.details,
    ).order_by(AuditEntry.id.desc())
    with store.read() as s:
        rows = s.execute(stmt.limit(limit)).all()
    keys = ("id", "at", "actor", "action", "subject", "details")
    return [dict(zip(keys, (*r[:5], dict(r[5] or {})), strict=True)) for r in rows]
