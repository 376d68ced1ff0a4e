"""The :class:`Store` handle: one database, its engines and sessions, and the audit helper."""

from __future__ import annotations

import getpass
import hashlib
import hmac
import logging
import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from seglens.db_guard import explain_db_error
from seglens.errors import SeglensError
from seglens.store.engine import make_engine, resolve_db_url
from seglens.store.migrate import current_revision, head_revision, upgrade
from seglens.store.models import AuditEntry

__all__ = [
    "Store",
    "audit",
    "current_user",
    "file_sha256",
    "open_store",
    "pseudonym",
    "pseudonym_key",
    "utcnow",
]

log = logging.getLogger(__name__)


def utcnow() -> datetime:
    """The current time as naive UTC (how the store keeps every timestamp)."""
    return datetime.now(UTC).replace(tzinfo=None)


def current_user() -> str:
    """Who is acting: ``$SEGLENS_USER``, else the login name."""
    try:
        return os.environ.get("SEGLENS_USER") or getpass.getuser()
    except (KeyError, OSError):  # no passwd entry (containers)
        return "unknown"


def pseudonym_key() -> bytes:
    """The secret key for customer pseudonyms.

    ``$SEGLENS_PSEUDONYM_KEY`` when set (use it when several machines share one database);
    otherwise a random key kept in ``$XDG_CONFIG_HOME/seglens/pseudonym.key`` (mode 0600),
    created on first use. The key never goes into the database, so the pseudonyms there cannot
    be reversed by hashing candidate ids.
    """
    env = os.environ.get("SEGLENS_PSEUDONYM_KEY")
    if env:
        return env.encode()
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    path = Path(base) / "seglens" / "pseudonym.key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_hex(32))
        try:
            os.link(tmp, path)  # atomic: the first process to get here sets the key
        except FileExistsError:
            pass
        finally:
            tmp.unlink()
    return path.read_text().strip().encode()


def pseudonym(customer_id: str, key: bytes | None = None) -> str:
    """Keyed hash (HMAC-SHA256, 32 hex digits) standing in for a customer id in the audit log.

    Examples
    --------
    >>> p = pseudonym("17850", key=b"k")
    >>> len(p), p == pseudonym("17850", key=b"k"), p == pseudonym("17850", key=b"other")
    (32, True, False)
    """
    mac = hmac.new(key if key is not None else pseudonym_key(), customer_id.encode(), "sha256")
    return mac.hexdigest()[:32]


@dataclass
class Store:
    """An open seglens database.

    Use :func:`open_store` to get one. ``write()`` gives a session whose transaction holds the
    write lock from its start (SQLite ``BEGIN IMMEDIATE``), ``read()`` one that never waits for
    writers. Both commit on success and roll back on error.
    """

    url: str
    engine: Engine
    read_engine: Engine

    @property
    def dialect(self) -> str:
        """``"sqlite"`` or ``"postgresql"``."""
        return self.engine.dialect.name

    @property
    def sqlite_path(self) -> Path | None:
        """The database file for a SQLite store, else ``None``."""
        if self.dialect != "sqlite" or not self.engine.url.database:
            return None
        return Path(self.engine.url.database)

    @property
    def where(self) -> str:
        """The store's URL with its password hidden (for messages)."""
        return self.engine.url.render_as_string(hide_password=True)

    @contextmanager
    def write(self) -> Iterator[Session]:
        """A session for one write transaction (committed when the block ends)."""
        with self._explained(), sessionmaker(self.engine, expire_on_commit=False).begin() as s:
            yield s

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A session for reading."""
        with self._explained(), sessionmaker(self.read_engine, expire_on_commit=False).begin() as s:
            yield s

    @contextmanager
    def _explained(self) -> Iterator[None]:
        """A timeout or a value the database refuses becomes a clear error naming the store
        (the transaction is already rolled back); other database errors pass unchanged."""
        try:
            yield
        except DBAPIError as err:
            clear = explain_db_error(err, self.where)
            if clear is None:
                raise
            raise clear from err

    def close(self) -> None:
        """Release connections."""
        self.engine.dispose()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def audit(
    session: Session,
    action: str,
    *,
    actor: str | None = None,
    subject: str | None = None,
    details: dict[str, Any] | None = None,
) -> None:
    """Append an audit entry in the caller's transaction (``subject`` must be a pseudonym)."""
    session.add(
        AuditEntry(
            at=utcnow(),
            actor=actor or current_user(),
            action=action,
            subject=subject,
            details=details or {},
        )
    )


def file_sha256(path: Path) -> str:
    """SHA-256 of a file's bytes (the identity of an import)."""
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def open_store(db: str | None = None, *, auto_upgrade: bool = True) -> Store:
    """Open the seglens database, creating or upgrading its schema on first use.

    Parameters
    ----------
    db
        A URL (``sqlite:///PATH``, ``postgresql+psycopg://USER@HOST:PORT/DB``) or a file path.
        Default: ``$SEGLENS_DB``, else ``$XDG_DATA_HOME/seglens/seglens.db``.
    auto_upgrade
        Run pending migrations (``seglens db upgrade``) when the schema is behind.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> with tempfile.TemporaryDirectory() as d:
    ...     with open_store(str(pathlib.Path(d) / "s.db")) as store:
    ...         store.dialect
    'sqlite'
    """
    url = resolve_db_url(db)
    engine = make_engine(url)
    # One connection pool per store: the read engine only changes how SQLite transactions begin.
    store = Store(url=url, engine=engine, read_engine=engine.execution_options(seglens_write=False))
    head = head_revision()
    try:
        rev = current_revision(store.read_engine)
    except DBAPIError as err:  # connection refused, bad credentials, missing database, timeout
        store.close()
        clear = explain_db_error(err, store.where)
        if clear is not None:
            raise clear from err
        raise SeglensError(
            f"cannot open the seglens database at {store.where}: {err}",
            hint="check --db / SEGLENS_DB and that the database server is running",
        ) from err
    if rev != head:
        if rev is not None and rev > head:
            store.close()
            raise SeglensError(
                f"the database schema ({rev}) is newer than this seglens ({head})",
                hint="upgrade seglens",
            )
        if not auto_upgrade:
            store.close()
            raise SeglensError(
                f"the database schema is at {rev or 'nothing'}, seglens needs {head}",
                hint="run `seglens db upgrade`",
            )
        try:
            upgrade(store.engine)
        except DBAPIError as err:  # a timeout or a lock held elsewhere while migrating
            store.close()
            clear = explain_db_error(err, store.where)
            if clear is None:
                raise
            raise clear from err
    return store
