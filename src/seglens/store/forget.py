"""Forget a customer: remove their rows everywhere and make sure the bytes are gone.

Labels, assignments and stored feature rows of the customer are deleted, raw ids are scrubbed
from stored import reports, and one audit entry records the erasure under a keyed-hash
pseudonym (:func:`seglens.store.core.pseudonym`). On SQLite every connection runs with
``secure_delete`` on, so freed space is overwritten with zeros, and the write-ahead log is
checkpointed and truncated afterwards: a byte search of the database and its ``-wal`` file no
longer finds the id. On PostgreSQL the rows are deleted and the tables vacuumed; copies in WAL
archives and backups are outside seglens' reach.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import delete, select, text

from seglens.errors import SeglensError, UsageError
from seglens.store.core import Store, audit, pseudonym, pseudonym_key
from seglens.store.models import Assignment, CustomerFeatures, Import, Label

__all__ = ["ForgetResult", "forget_customer", "scrub"]

log = logging.getLogger(__name__)


@dataclass
class ForgetResult:
    """What :func:`forget_customer` removed (row counts per table) and the audit pseudonym."""

    pseudonym: str
    removed: dict[str, int] = field(default_factory=dict)
    reports_scrubbed: int = 0
    checkpointed: bool = False

    @property
    def total(self) -> int:
        """Rows removed in all tables."""
        return sum(self.removed.values())


def scrub(value: Any, needle: str) -> Any:
    """``value`` (JSON-like) with every leaf equal to ``needle`` removed.

    Examples
    --------
    >>> scrub({"ids": ["7", "8"], "first": "7", "n": 7}, "7")
    {'ids': ['8'], 'first': None, 'n': 7}
    """
    if isinstance(value, dict):
        return {k: scrub(v, needle) for k, v in value.items()}
    if isinstance(value, list):
        return [scrub(v, needle) for v in value if not (isinstance(v, str) and v == needle)]
    if isinstance(value, str) and value == needle:
        return None
    return value


def _checkpoint(store: Store, attempts: int = 50) -> bool:
    with store.read_engine.connect() as conn:
        for _ in range(attempts):
            busy, _log, _done = conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)").one()
            if busy == 0:
                return True
            time.sleep(0.1)  # a reader still holds an old snapshot
    return False


def forget_customer(store: Store, customer_id: str, *, actor: str | None = None) -> ForgetResult:
    """Remove every trace of ``customer_id`` from the store.

    Raises :class:`~seglens.errors.SeglensError` when the SQLite log cannot be checkpointed
    (another process keeps a read transaction open); running it again later completes it.

    Examples
    --------
    >>> import tempfile
    >>> from seglens.store import add_label, open_store
    >>> with tempfile.TemporaryDirectory() as d, open_store(f"{d}/s.db") as st:
    ...     _ = add_label(st, "C-1", "Loyal")
    ...     forget_customer(st, "C-1").removed["labels"]
    1
    """
    if not customer_id.strip():
        raise UsageError("an empty customer id cannot be forgotten")
    key = pseudonym_key()
    result = ForgetResult(pseudonym=pseudonym(customer_id, key))
    with store.write() as s:
        for name, model in (
            ("labels", Label),
            ("assignments", Assignment),
            ("customer_features", CustomerFeatures),
        ):
            res = s.execute(delete(model).where(model.customer_id == customer_id))
            result.removed[name] = int(getattr(res, "rowcount", 0) or 0)
        for imp in s.scalars(select(Import)):
            cleaned = scrub(imp.report, customer_id)
            if cleaned != imp.report:
                imp.report = cleaned
                result.reports_scrubbed += 1
        audit(
            s,
            "customer.forget",
            actor=actor,
            subject=result.pseudonym,
            details={"removed": result.removed, "reports_scrubbed": result.reports_scrubbed},
        )
    if store.dialect == "sqlite":
        result.checkpointed = _checkpoint(store)
        if not result.checkpointed:
            raise SeglensError(
                "the rows are deleted but old copies remain in the write-ahead log, because "
                "another process keeps the database open for reading",
                hint="close other seglens processes and run `seglens forget` again",
            )
    else:
        with store.engine.connect() as conn:
            conn = conn.execution_options(isolation_level="AUTOCOMMIT")
            for table in ("labels", "assignments", "customer_features", "imports"):
                conn.execute(text(f"VACUUM {table}"))
    log.info("forgot a customer (%s): %s", result.pseudonym, result.removed)
    return result
