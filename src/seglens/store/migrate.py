"""Schema migrations: bring any seglens database to the current schema.

The Alembic scripts ship inside the package (``seglens/store/migrations``), so an installed
seglens can upgrade a database without a checkout. :func:`upgrade` is safe to call from several
processes at once: it takes the database's write lock (SQLite ``BEGIN IMMEDIATE``, a PostgreSQL
advisory lock) and runs every pending revision in one transaction.
"""

from __future__ import annotations

import logging
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, text

__all__ = ["current_revision", "head_revision", "upgrade"]

log = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
_PG_LOCK_KEY = 0x5E611E45  # arbitrary constant: "seglens" migration advisory lock


def _config() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    return cfg


def head_revision() -> str:
    """The newest schema revision this seglens knows.

    Examples
    --------
    >>> head_revision() >= "0002"
    True
    """
    head = ScriptDirectory.from_config(_config()).get_current_head()
    assert head is not None
    return head


def _revision_of(conn: Connection) -> str | None:
    return MigrationContext.configure(conn).get_current_revision()


def current_revision(engine: Engine) -> str | None:
    """The schema revision of the database behind ``engine`` (``None`` when empty).

    Examples
    --------
    >>> from seglens.store.engine import make_engine
    >>> current_revision(make_engine("sqlite://")) is None
    True
    """
    with engine.connect() as conn:
        return _revision_of(conn)


def upgrade(engine: Engine, revision: str = "head") -> tuple[str | None, str | None]:
    """Run pending migrations up to ``revision``; return ``(before, after)`` revisions.

    Examples
    --------
    >>> from seglens.store.engine import make_engine
    >>> import tempfile, pathlib
    >>> with tempfile.TemporaryDirectory() as d:
    ...     before, after = upgrade(make_engine(str(pathlib.Path(d) / "s.db")))
    >>> before is None and after == head_revision()
    True
    """
    target = head_revision() if revision == "head" else revision
    with engine.begin() as conn:  # BEGIN IMMEDIATE on SQLite: one migrator at a time
        if conn.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_LOCK_KEY})
        before = _revision_of(conn)
        if before != target:
            log.info("migrating %s from %s to %s", engine.url.render_as_string(), before, target)
            cfg = _config()
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, revision)
        after = _revision_of(conn)
    return before, after
