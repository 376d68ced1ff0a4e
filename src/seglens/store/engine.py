"""Where the store lives and how connections to it are configured.

The default store is a SQLite file at ``$XDG_DATA_HOME/seglens/seglens.db`` (``~/.local/share``
when ``XDG_DATA_HOME`` is unset). ``SEGLENS_DB`` or an explicit URL overrides it; PostgreSQL is
reached with ``postgresql+psycopg://user@host:port/dbname``.

SQLite connections are set up for several concurrent writers: WAL journal, a busy timeout,
foreign keys on, ``secure_delete`` on (so deleted rows are overwritten, see
:func:`seglens.store.forget_customer`), and write transactions opened with ``BEGIN IMMEDIATE`` so
two writers queue on the lock instead of failing with ``database is locked``.
"""

from __future__ import annotations

import logging
import os
import re
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, make_url
from sqlalchemy.engine import Connection
from sqlalchemy.exc import ArgumentError
from sqlalchemy.pool import NullPool

from seglens.db_guard import connect_args
from seglens.errors import UsageError

__all__ = ["BUSY_TIMEOUT_MS", "default_db_path", "make_engine", "resolve_db_url", "schema_url"]

log = logging.getLogger(__name__)

BUSY_TIMEOUT_MS = 60_000
"""How long a SQLite writer waits for the write lock before giving up (milliseconds)."""

_WRITE_OPTION = "seglens_write"


def default_db_path() -> Path:
    """The default SQLite file: ``$XDG_DATA_HOME/seglens/seglens.db``.

    Examples
    --------
    >>> default_db_path().name
    'seglens.db'
    """
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "seglens" / "seglens.db"


def resolve_db_url(db: str | None = None) -> str:
    """The database URL to use: ``db`` if given, else ``$SEGLENS_DB``, else the default file.

    A plain path (no ``://``) is taken as a SQLite file.

    Examples
    --------
    >>> resolve_db_url("/tmp/x.db")
    'sqlite:////tmp/x.db'
    >>> resolve_db_url("postgresql+psycopg://u@127.0.0.1/db")
    'postgresql+psycopg://u@127.0.0.1/db'
    """
    raw = db or os.environ.get("SEGLENS_DB") or str(default_db_path())
    if "://" not in raw:
        return f"sqlite:///{Path(raw).expanduser().resolve()}"
    if raw.startswith("postgresql://") or raw.startswith("postgres://"):
        # psycopg 3 is the driver we ship; SQLAlchemy's bare scheme means psycopg2.
        raw = "postgresql+psycopg://" + raw.split("://", 1)[1]
    return raw


_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def schema_url(url: str, schema: str) -> str:
    """A PostgreSQL URL whose connections work inside ``schema``: one database can then hold
    several stores (one per team, or a throw-away one per test run).

    The schema goes into libpq's ``options`` (``-csearch_path=SCHEMA``), added to any options
    the URL already has; the schema must exist. Its name must be a plain identifier (letters,
    digits, underscores), so it needs no quoting.

    Examples
    --------
    >>> schema_url("postgresql+psycopg://u@127.0.0.1/db", "crm")
    'postgresql+psycopg://u@127.0.0.1/db?options=-csearch_path%3Dcrm'
    >>> schema_url("postgresql+psycopg://u@h/db?connect_timeout=5", "crm")
    'postgresql+psycopg://u@h/db?connect_timeout=5&options=-csearch_path%3Dcrm'
    """
    if not _IDENTIFIER.fullmatch(schema):
        raise UsageError(
            f"schema name {schema!r} is not a plain identifier",
            hint="use letters, digits and underscores, not starting with a digit",
        )
    parsed = make_url(resolve_db_url(url))
    if parsed.get_backend_name() != "postgresql":
        raise UsageError(
            f"a schema applies to PostgreSQL URLs, not {parsed.get_backend_name()}",
            hint="give a postgresql+psycopg://... URL",
        )
    options = parsed.query.get("options")
    if isinstance(options, tuple):
        options = " ".join(options)
    path = f"-csearch_path={schema}"
    joined = f"{options} {path}" if options else path
    return parsed.update_query_dict({"options": joined}).render_as_string(hide_password=False)


def _sqlite_folder(database: Path) -> None:
    """Create the default store's folder on first use; any other missing folder is an error
    (a mistyped ``--db`` must not create folders and an empty store somewhere unexpected)."""
    if database.expanduser().resolve() == default_db_path().expanduser().resolve():
        database.parent.mkdir(parents=True, exist_ok=True)
        return
    from seglens.io.atomic import check_folder

    check_folder(database, option="--db or SEGLENS_DB")


def _sqlite_connect(dbapi_conn: Any, _record: Any) -> None:
    # Let SQLAlchemy's "begin" hook decide how transactions start (pysqlite would
    # otherwise issue its own deferred BEGIN, which deadlocks concurrent writers).
    dbapi_conn.isolation_level = None
    cur = dbapi_conn.cursor()
    cur.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    cur.execute("PRAGMA journal_mode = WAL")
    cur.execute("PRAGMA synchronous = NORMAL")
    cur.execute("PRAGMA foreign_keys = ON")
    cur.execute("PRAGMA secure_delete = ON")
    cur.close()


def _sqlite_begin(conn: Connection) -> None:
    if conn.get_execution_options().get(_WRITE_OPTION, False):
        conn.exec_driver_sql("BEGIN IMMEDIATE")
    else:
        conn.exec_driver_sql("BEGIN")


def make_engine(url: str, *, write: bool = True, echo: bool = False) -> Engine:
    """Create an engine for ``url`` with seglens' connection settings.

    Parameters
    ----------
    url
        A SQLAlchemy URL or a SQLite file path (see :func:`resolve_db_url`).
    write
        On SQLite, open transactions with ``BEGIN IMMEDIATE`` (take the write lock up front).
        Read-only users pass ``False`` so they never wait for writers.
    echo
        Log every SQL statement (debugging).

    Examples
    --------
    >>> eng = make_engine("sqlite://")
    >>> eng.dialect.name
    'sqlite'
    """
    url = resolve_db_url(url)
    try:
        parsed = make_url(url)
    except ArgumentError as err:
        raise UsageError(
            f"not a database URL: {url!r}",
            hint="use a file path, sqlite:///PATH or postgresql+psycopg://USER@HOST:PORT/DB",
        ) from err
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database
        if database and database != ":memory:":
            _sqlite_folder(Path(database))
        # One connection per checkout: SQLite connections are cheap, and NullPool keeps
        # no file handles open between operations (important for checkpoints and forget).
        engine = create_engine(url, echo=echo, poolclass=NullPool)
        event.listen(engine, "connect", _sqlite_connect)
        event.listen(engine, "begin", _sqlite_begin)
    elif parsed.get_backend_name() == "postgresql":
        # connect and statement timeouts (seglens.db_guard): a silent server cannot hang us
        args = connect_args("postgresql", parsed.query)
        engine = create_engine(url, echo=echo, pool_pre_ping=True, connect_args=args)
    else:
        raise UsageError(
            f"unsupported database {parsed.get_backend_name()!r} in {url!r}",
            hint="seglens stores its data in SQLite or PostgreSQL",
        )
    return engine.execution_options(**{_WRITE_OPTION: write})
