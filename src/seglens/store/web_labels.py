"""Reviewed labels: a batch of confirmations or corrections from a person, optionally idempotent.

What the web app's review queue, customer page and label API write. A batch is one
transaction: the label rows, one audit entry per label (subject = the customer's keyed-hash
pseudonym) and, with an idempotency key, the stored answer under that key. A retry with the same
key and items gets the stored answer and writes nothing; the same key with other items is
refused (:class:`IdempotencyConflictError`).

Each label is bound to the run the reviewer judged (``run_id``; default: the latest run) and the
segment that run showed for the customer (``judged_segment``; default: the run's assignment).
A ``judged_segment`` that is not the run's assignment is refused: the label would claim to judge
something the run never said.

Each label has a purpose: ``kpi`` (the default; evidence for the KPI, e.g. the audit queue) or
``teach`` (asked for because the model is least sure about the customer, e.g. the teach queue;
stored with ``purpose = "teach"``, which every KPI selection drops).
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from seglens.errors import UsageError
from seglens.store.accounts import IdempotencyKey
from seglens.store.core import Store, audit, pseudonym, pseudonym_key, utcnow
from seglens.store.labels import PURPOSES
from seglens.store.models import Assignment, AuditEntry, Label, Run

__all__ = [
    "MARK_KINDS",
    "UNDO_WINDOW_HOURS",
    "IdempotencyConflictError",
    "LabelBatch",
    "ReviewedLabel",
    "Undone",
    "add_reviewed_labels",
    "record_review_mark",
    "review_marks",
    "undo_last_review",
]

_CHUNK = 1000


@dataclass(frozen=True)
class ReviewedLabel:
    """One confirmation or correction: the customer, the right segment, why, and what was judged.

    ``run_id`` is the run the reviewer was shown (``None``: the latest run); ``judged_segment``
    the segment it showed for the customer (``None``: that run's assignment). ``purpose`` is
    ``"kpi"`` (counts for the KPI) or ``"teach"`` (teaches models, never counted).
    """

    customer_id: str
    segment: str
    note: str | None = None
    run_id: int | None = None
    judged_segment: str | None = None
    purpose: str = "kpi"

    def __post_init__(self) -> None:
        if self.purpose not in PURPOSES:
            raise UsageError(
                f"unknown label purpose {self.purpose!r}", hint=f"use one of {', '.join(PURPOSES)}"
            )


@dataclass(frozen=True)
class LabelBatch:
    """The answer to a batch: the stored labels as JSON objects, and whether it was a replay.

    ``labels`` holds ``id, customer_id, segment, note, labeled_by, labeled_at`` (RFC 3339,
    UTC), ``source, run_id, judged_segment, purpose`` per label, in the order given.
    """

    labels: list[dict[str, Any]]
    replayed: bool = False


class IdempotencyConflictError(UsageError):
    """The idempotency key was already used for a different request."""


def _request_hash(items: Sequence[ReviewedLabel]) -> str:
    """The identity of a batch's content, compared when its idempotency key comes again."""
    rows: list[list[Any]] = []
    for i in items:
        row: list[Any] = [i.customer_id, i.segment, i.note]
        if i.run_id is not None or i.judged_segment is not None:
            row += [i.run_id, i.judged_segment]  # batches without a binding hash as before
        if i.purpose != "kpi":
            row.append({"purpose": i.purpose})  # kpi items hash as before
        rows.append(row)
    return hashlib.sha256(json.dumps(rows).encode()).hexdigest()


def _stored(store: Store, user_id: int, key: str) -> IdempotencyKey | None:
    with store.read() as s:
        return s.scalar(
            select(IdempotencyKey).where(
                IdempotencyKey.user_id == user_id, IdempotencyKey.key == key
            )
        )


def _replay(row: IdempotencyKey, rhash: str) -> LabelBatch:
    if row.request_hash != rhash:
        raise IdempotencyConflictError(
            "this Idempotency-Key was already used for a different request",
            hint="use a new key for a new submission",
        )
    return LabelBatch(list(row.response.get("labels", [])), replayed=True)


def _runs(s: Session, items: Sequence[ReviewedLabel]) -> list[int]:
    """The run each item judges; refuses unknown runs and a store without any run."""
    latest = s.scalar(select(Run.id).order_by(Run.as_of.desc(), Run.id.desc()).limit(1))
    if latest is None:
        raise UsageError("there is no segmentation run yet to label against")
    asked = {i.run_id for i in items if i.run_id is not None}
    known = set(s.scalars(select(Run.id).where(Run.id.in_(asked)))) if asked else set()
    if asked - known:
        raise UsageError(
            f"no segmentation run {min(asked - known)} in the store",
            hint="label against a run listed by GET /api/runs",
        )
    return [latest if i.run_id is None else i.run_id for i in items]


def _check_segments(s: Session, items: Sequence[ReviewedLabel], runs: list[int]) -> None:
    """Refuse segments the judged run does not use (one indexed probe per run and segment)."""
    for run_id in sorted(set(runs)):
        wanted = sorted({i.segment for i, r in zip(items, runs, strict=True) if r == run_id})
        bad = [
            seg
            for seg in wanted
            if s.scalar(
                select(Assignment.customer_id)
                .where(Assignment.run_id == run_id, Assignment.segment == seg)
                .limit(1)
            )
            is None
        ]
        if bad:
            allowed = s.scalars(
                select(Assignment.segment).where(Assignment.run_id == run_id).distinct()
            )
            raise UsageError(
                f"unknown segment(s): {', '.join(map(repr, bad[:5]))}",
                hint=f"run {run_id}'s segments are: {', '.join(sorted(allowed))}",
            )


def _assigned(
    s: Session, items: Sequence[ReviewedLabel], runs: list[int]
) -> dict[tuple[int, str], str]:
    """Each judged run's segment for the customers it is asked about."""
    found: dict[tuple[int, str], str] = {}
    for run_id in sorted(set(runs)):
        ids = sorted({i.customer_id for i, r in zip(items, runs, strict=True) if r == run_id})
        for start in range(0, len(ids), _CHUNK):
            stmt = select(Assignment.customer_id, Assignment.segment).where(
                Assignment.run_id == run_id, Assignment.customer_id.in_(ids[start : start + _CHUNK])
            )
            found.update(((run_id, cid), seg) for cid, seg in s.execute(stmt))
    return found


def _check_customers(s: Session, items: Sequence[ReviewedLabel], known: set[str]) -> None:
    """Refuse customers no run has segmented (``known``: those the judged runs segment)."""
    ids = sorted({i.customer_id for i in items} - known)
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start : start + _CHUNK]
        stmt = select(Assignment.customer_id).where(Assignment.customer_id.in_(chunk)).distinct()
        known.update(s.scalars(stmt))
    unknown = len({i.customer_id for i in items} - known)
    if unknown:
        raise UsageError(f"{unknown} customer id(s) are in no segmentation run")


def _bindings(s: Session, items: Sequence[ReviewedLabel]) -> list[tuple[int, str | None]]:
    """Validate the batch; ``(run_id, judged_segment)`` of each item."""
    runs = _runs(s, items)
    _check_segments(s, items, runs)
    assigned = _assigned(s, items, runs)
    _check_customers(s, items, {cid for _, cid in assigned})
    out: list[tuple[int, str | None]] = []
    for item, run_id in zip(items, runs, strict=True):
        shown = assigned.get((run_id, item.customer_id))
        if item.judged_segment is not None and item.judged_segment != shown:
            said = "does not segment" if shown is None else f"put {shown!r} on"
            raise UsageError(
                f"run {run_id} {said} customer {item.customer_id!r}, "
                f"not {item.judged_segment!r} as the label says",
                hint="reload the page: it showed another run's segmentation",
            )
        out.append((run_id, shown))
    return out


def _json(row: Label) -> dict[str, Any]:
    return {
        "id": row.id,
        "customer_id": row.customer_id,
        "segment": row.segment,
        "note": row.note,
        "labeled_by": row.labeled_by,
        "labeled_at": row.labeled_at.replace(tzinfo=UTC).isoformat(),
        "source": row.source,
        "run_id": row.run_id,
        "judged_segment": row.judged_segment,
        "purpose": row.purpose,
    }


def _write(
    s: Session,
    items: Sequence[ReviewedLabel],
    *,
    labeled_by: str,
    source: str,
    now: datetime,
) -> list[dict[str, Any]]:
    bindings = _bindings(s, items)
    rows = [
        Label(
            customer_id=i.customer_id,
            segment=i.segment,
            run_id=run_id,
            judged_segment=judged,
            labeled_by=labeled_by,
            labeled_at=now,
            source=source,
            note=i.note,
            purpose=i.purpose,
            # A reviewed label is a distinct event even when its content repeats an earlier one.
            fingerprint=hashlib.sha256(f"{source}|{uuid.uuid4().hex}".encode()).hexdigest(),
            recorded_at=now,
        )
        for i, (run_id, judged) in zip(items, bindings, strict=True)
    ]
    s.add_all(rows)
    s.flush()
    key = pseudonym_key()
    for row in rows:
        audit(
            s,
            "label.add",
            actor=labeled_by,
            subject=pseudonym(row.customer_id, key),
            details={
                "label_id": row.id,
                "segment": row.segment,
                "source": source,
                "run_id": row.run_id,
                "purpose": row.purpose,
            },
        )
    return [_json(r) for r in rows]


def add_reviewed_labels(
    store: Store,
    items: Sequence[ReviewedLabel],
    *,
    labeled_by: str,
    source: str,
    user_id: int | None = None,
    idempotency_key: str | None = None,
) -> LabelBatch:
    """Validate and store a batch of reviewed labels in one transaction (all or none).

    Unknown runs, segments the judged run does not use, customers in no run and a
    ``judged_segment`` other than the run's assignment are refused with :class:`UsageError`.
    With ``idempotency_key`` (per ``user_id``), the answer is stored with the labels and
    replayed for a retry with the same items.

    Examples
    --------
    >>> import tempfile, polars as pl
    >>> from datetime import date
    >>> from seglens.store import open_store, record_run
    >>> a = pl.DataFrame({"customer_id": ["1", "2"], "segment": ["Loyal", "At risk"]})
    >>> with tempfile.TemporaryDirectory() as d, open_store(f"{d}/s.db") as st:
    ...     rid = record_run(st, a, segmenter="X", parameters={}, as_of=date(2024, 3, 31),
    ...                      data_hash="h")
    ...     done = add_reviewed_labels(st, [ReviewedLabel("2", "Loyal", "came back")],
    ...                                labeled_by="ana", source="web")
    >>> row = done.labels[0]
    >>> row["segment"], row["judged_segment"], row["run_id"] == rid, done.replayed
    ('Loyal', 'At risk', True, False)
    """
    if not items:
        raise UsageError("no labels to store")
    if idempotency_key is not None and user_id is None:
        raise UsageError("an idempotency key belongs to a user: pass user_id")
    rhash = _request_hash(items)
    if idempotency_key is not None and user_id is not None:
        found = _stored(store, user_id, idempotency_key)
        if found is not None:
            return _replay(found, rhash)
    now = utcnow()
    try:
        with store.write() as s:
            labels = _write(s, items, labeled_by=labeled_by, source=source, now=now)
            if idempotency_key is not None and user_id is not None:
                s.add(
                    IdempotencyKey(
                        user_id=user_id,
                        key=idempotency_key,
                        request_hash=rhash,
                        status_code=201,  # the column keeps the HTTP answer: 201 Created
                        response={"labels": labels},
                        created_at=now,
                    )
                )
    except IntegrityError:
        # Another request with the same key committed first: answer as it did.
        if idempotency_key is None or user_id is None:
            raise
        found = _stored(store, user_id, idempotency_key)
        if found is None:
            raise
        return _replay(found, rhash)
    return LabelBatch(labels)


# --- The review queue's other actions: skip, unsure, and undo of the reviewer's last action ---

MARK_KINDS = ("skip", "unsure")
"""What a reviewer can say instead of a verdict: ``skip`` (later) or ``unsure`` (cannot tell)."""

UNDO_WINDOW_HOURS = 12
"""Only an action of the last 12 hours (a session's length) can be undone."""

_UNDOABLE = ("label.add", "review.skip", "review.unsure")


@dataclass(frozen=True)
class Undone:
    """What :func:`undo_last_review` took back: ``label`` (deleted) or a ``skip``/``unsure`` mark.

    ``subject`` is the customer's pseudonym (the audit log never holds the raw id);
    ``customer_id`` is known for a label (from its row) and ``None`` for a mark.
    """

    kind: str
    subject: str | None
    customer_id: str | None
    segment: str | None
    run_id: int | None


def record_review_mark(
    store: Store,
    customer_id: str,
    kind: str,
    *,
    actor: str,
    run_id: int,
    design_id: int | None,
) -> int:
    """Note that ``actor`` skipped a customer or was unsure about it; returns the entry id.

    A mark is not a verdict: no label is written, so it never counts in the KPI and never
    teaches a model. It is an audit-log entry (``review.skip`` / ``review.unsure``, subject the
    customer's pseudonym), so it is who-did-what like every other action, needs no table of its
    own, and is taken back by an appended ``review.undo`` entry, never by deleting history.
    """
    if kind not in MARK_KINDS:
        raise UsageError(
            f"unknown review mark {kind!r}", hint=f"use one of {', '.join(MARK_KINDS)}"
        )
    with store.write() as s:
        entry = AuditEntry(
            at=utcnow(),
            actor=actor,
            action=f"review.{kind}",
            subject=pseudonym(customer_id),
            details={"run_id": run_id, "design_id": design_id},
        )
        s.add(entry)
        s.flush()
        return int(entry.id)


def _undone_marks(s: Session, actor: str, since: datetime) -> set[int]:
    stmt = select(AuditEntry.details).where(
        AuditEntry.actor == actor, AuditEntry.action == "review.undo", AuditEntry.at >= since
    )
    return {int(d["entry_id"]) for d in s.scalars(stmt) if d.get("entry_id") is not None}


def review_marks(store: Store, *, actor: str, design_id: int | None, run_id: int) -> dict[str, str]:
    """``actor``'s standing marks on a design's customers: ``{pseudonym: "skip" | "unsure"}``.

    The latest mark per customer wins; marks taken back by an undo are left out.
    """
    stmt = (
        select(AuditEntry.id, AuditEntry.action, AuditEntry.subject, AuditEntry.details)
        .where(AuditEntry.actor == actor, AuditEntry.action.in_(("review.skip", "review.unsure")))
        .order_by(AuditEntry.id)
    )
    with store.read() as s:
        undone = _undone_marks(s, actor, datetime(1970, 1, 1))
        rows = s.execute(stmt).all()
    marks: dict[str, str] = {}
    for entry_id, action, subject, details in rows:
        same = details.get("design_id") == design_id and details.get("run_id") == run_id
        if same and entry_id not in undone and subject is not None:
            marks[subject] = action.removeprefix("review.")
    return marks


def undo_last_review(store: Store, *, actor: str, source: str = "web") -> Undone | None:
    """Take back ``actor``'s most recent review action of the last :data:`UNDO_WINDOW_HOURS`.

    A label (written by ``actor`` through ``source``) is deleted, with a ``label.undo`` audit
    entry naming it, so no KPI counts it again and the next measurement leaves it out; a skip or
    unsure mark gets a ``review.undo`` entry. Repeated calls step further back. ``None`` when
    there is nothing left to undo.
    """
    since = utcnow() - timedelta(hours=UNDO_WINDOW_HOURS)
    stmt = (
        select(AuditEntry)
        .where(
            AuditEntry.actor == actor,
            AuditEntry.action.in_(_UNDOABLE),
            AuditEntry.at >= since,
        )
        .order_by(AuditEntry.id.desc())
    )
    with store.write() as s:
        undone = _undone_marks(s, actor, since)
        for entry in s.scalars(stmt):
            if entry.action != "label.add":
                if entry.id in undone:
                    continue
                audit(
                    s,
                    "review.undo",
                    actor=actor,
                    subject=entry.subject,
                    details={"entry_id": entry.id, "kind": entry.action},
                )
                kind = entry.action.removeprefix("review.")
                run = entry.details.get("run_id")
                return Undone(kind, entry.subject, None, None, run)
            label = s.get(Label, entry.details.get("label_id"))
            if label is None or label.labeled_by != actor or label.source != source:
                continue
            found = Undone("label", entry.subject, label.customer_id, label.segment, label.run_id)
            audit(
                s,
                "label.undo",
                actor=actor,
                subject=entry.subject,
                details={
                    "label_id": label.id,
                    "segment": label.segment,
                    "run_id": label.run_id,
                    "purpose": label.purpose,
                },
            )
            s.delete(label)
            return found
    return None
