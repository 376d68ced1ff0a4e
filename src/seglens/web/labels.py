"""Labels submitted through the web app: who submitted them, and the HTTP answer.

The store validates, binds and writes a submission (one label or a batch) in one transaction,
with its audit entries and, when the client sent an ``Idempotency-Key``, the stored answer
(:func:`seglens.store.add_reviewed_labels`). A retry with the same key and body gets the stored
answer and writes nothing; the same key with another body is refused (409).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from seglens.store import IdempotencyConflictError, Store, add_reviewed_labels
from seglens.store import ReviewedLabel as LabelInput
from seglens.web.users import Principal

__all__ = ["IdempotencyConflictError", "LabelInput", "Submitted", "submit_labels"]


@dataclass(frozen=True)
class Submitted:
    """The answer to a submission: HTTP status and body, and whether it was a replay."""

    status_code: int
    body: dict[str, Any]
    replayed: bool = False


def submit_labels(
    store: Store,
    principal: Principal,
    items: list[LabelInput],
    *,
    source: str,
    idempotency_key: str | None = None,
) -> Submitted:
    """Store ``items`` as labelled by ``principal``; see the module docstring."""
    done = add_reviewed_labels(
        store,
        items,
        labeled_by=principal.username,
        source=source,
        user_id=principal.user_id,
        idempotency_key=idempotency_key,
    )
    return Submitted(201, {"labels": done.labels}, replayed=done.replayed)
