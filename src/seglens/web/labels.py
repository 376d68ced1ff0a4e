"""Labels submitted through the web app: validated, audited, optionally idempotent.

A submission (one label or a batch) is one transaction: the label rows, one audit entry per
label (subject = the customer's keyed-hash pseudonym) and, when the client sent an
``Idempotency-Key``, the stored answer under that key. A retry with the same key and body gets
the stored answer and writes nothing; the same key with another body is refused.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass
from datetime import UTC
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from seglens.errors import UsageError
from seglens.store import Store, pseudonym
from seglens.store.accounts import IdempotencyKey
from seglens.store.core import audit, pseudonym_key, utcnow
from seglens.store.models import Assignment, Label, Run
from seglens.web.service import segment_names
from seglens.web.users import Principal

__all__ = ["IdempotencyConflictError", "LabelInput", "Submitted", "submit_labels"]


@dataclass(frozen=True)
class LabelInput:
    """One confirmation or correction: the customer, the right segment and why."""

    customer_id: str
    segment: str
    note: str | None = None


@dataclass(frozen=True)
class Submitted:
    """The answer to a submission: HTTP status and body, and whether it was a replay."""

    status_code: int
    body: dict[str, Any]
    replayed: bool = False


class IdempotencyConflictError(UsageError):
    """The idempotency key was already used for a different request."""


def _request_hash(items: list[LabelInput]) -> str:
    raw = json.dumps([[i.customer_id, i.segment, i.note] for i in items])
    return hashlib.sha256(raw.encode()).hexdigest()


def _stored(store: Store, user_id: int, key: str) -> IdempotencyKey | None:
    with store.read() as s:
        return s.scalar(
            select(IdempotencyKey).where(
                IdempotencyKey.user_id == user_id, IdempotencyKey.key == key
            )
        )


def _replay(row: IdempotencyKey, request_hash: str) -> Submitted:
    if row.request_hash != request_hash:
        raise IdempotencyConflictError(
            "this Idempotency-Key was already used for a different request",
            hint="use a new key for a new submission",
        )
    return Submitted(row.status_code, dict(row.response), replayed=True)


def validate(session: Session, store: Store, items: list[LabelInput]) -> None:
    """Refuse unknown customers and segments the current run does not use.

    Runs inside the caller's transaction (one connection per submission).
    """
    run_id = session.scalar(select(Run.id).order_by(Run.as_of.desc(), Run.id.desc()).limit(1))
    if run_id is None:
        raise UsageError("there is no segmentation run yet to label against")
    allowed = set(segment_names(store, run_id))
    bad_segments = sorted({i.segment for i in items} - allowed)
    if bad_segments:
        raise UsageError(
            f"unknown segment(s): {', '.join(map(repr, bad_segments[:5]))}",
            hint=f"the current run's segments are: {', '.join(sorted(allowed))}",
        )
    ids = sorted({i.customer_id for i in items})
    known: set[str] = set()
    for start in range(0, len(ids), 1000):
        chunk = ids[start : start + 1000]
        stmt = select(Assignment.customer_id).where(Assignment.customer_id.in_(chunk)).distinct()
        known.update(session.scalars(stmt))
    unknown = len(set(ids) - known)
    if unknown:
        raise UsageError(f"{unknown} customer id(s) are in no segmentation run")


def submit_labels(
    store: Store,
    principal: Principal,
    items: list[LabelInput],
    *,
    source: str,
    idempotency_key: str | None = None,
) -> Submitted:
    """Validate and store ``items`` for ``principal``; see the module docstring."""
    if not items:
        raise UsageError("no labels to store")
    rhash = _request_hash(items)
    if idempotency_key is not None:
        found = _stored(store, principal.user_id, idempotency_key)
        if found is not None:
            return _replay(found, rhash)
    key = pseudonym_key()
    now = utcnow()
    try:
        with store.write() as s:
            validate(s, store, items)
            rows = [
                Label(
                    customer_id=i.customer_id,
                    segment=i.segment,
                    labeled_by=principal.username,
                    labeled_at=now,
                    source=source,
                    note=i.note,
                    fingerprint=hashlib.sha256(f"{source}|{uuid.uuid4().hex}".encode()).hexdigest(),
                    recorded_at=now,
                )
                for i in items
            ]
            s.add_all(rows)
            s.flush()
            for row in rows:
                audit(
                    s,
                    "label.add",
                    actor=principal.username,
                    subject=pseudonym(row.customer_id, key),
                    details={"label_id": row.id, "segment": row.segment, "source": source},
                )
            body: dict[str, Any] = {
                "labels": [
                    {
                        "id": r.id,
                        "customer_id": r.customer_id,
                        "segment": r.segment,
                        "note": r.note,
                        "labeled_by": r.labeled_by,
                        "labeled_at": r.labeled_at.replace(tzinfo=UTC).isoformat(),
                        "source": r.source,
                    }
                    for r in rows
                ]
            }
            if idempotency_key is not None:
                s.add(
                    IdempotencyKey(
                        user_id=principal.user_id,
                        key=idempotency_key,
                        request_hash=rhash,
                        status_code=201,
                        response=body,
                        created_at=now,
                    )
                )
    except IntegrityError:
        # Another request with the same key committed first: answer as it did.
        if idempotency_key is None:
            raise
        found = _stored(store, principal.user_id, idempotency_key)
        if found is None:
            raise
        return _replay(found, rhash)
    return Submitted(201, body)
