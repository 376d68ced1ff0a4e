"""Guards around every database seglens talks to: connect and statement timeouts, values a
database refuses, and a full disk.

Three paths reach a database: the store (:mod:`seglens.store`), transactions read by URL
(:mod:`seglens.io.sources`) and segments exported to a table (:mod:`seglens.export.db`). Each
builds its engine with :func:`connect_args`, so a server that accepts the connection and never
answers ends after the connect timeout, and a statement that runs too long is cancelled by the
server after the statement timeout. Both end in an error that names the database (password
hidden), the limit and how to raise it (:func:`explain_db_error`).

Limits: ``--db-connect-timeout`` / ``--db-statement-timeout`` (before the command, e.g.
``seglens --db-statement-timeout 3600 features ...``), else ``SEGLENS_DB_CONNECT_TIMEOUT`` /
``SEGLENS_DB_STATEMENT_TIMEOUT`` (seconds), else 30 s to connect and 600 s per statement
(0 = no statement limit). A ``connect_timeout`` or ``statement_timeout`` already in the URL wins.
PostgreSQL applies both; SQLite files have no connection to wait for; other databases get no
limit from seglens (put the driver's own timeout in the URL).

No SQLAlchemy here: the callers pass what they parsed, so this module is shared by the store
and the two user-database paths without widening the import contract.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, Final

import polars as pl

from seglens.errors import DataError, SeglensError, UsageError

__all__ = [
    "CONNECT_ENV",
    "STATEMENT_ENV",
    "DbTimeouts",
    "check_values",
    "connect_args",
    "db_timeouts",
    "explain_db_error",
    "use_db_timeouts",
]

CONNECT_ENV: Final = "SEGLENS_DB_CONNECT_TIMEOUT"
STATEMENT_ENV: Final = "SEGLENS_DB_STATEMENT_TIMEOUT"


@dataclass(frozen=True)
class DbTimeouts:
    """Seconds to wait for a connection, and for one statement (0 = no statement limit).

    Examples
    --------
    >>> DbTimeouts()
    DbTimeouts(connect_s=30.0, statement_s=600.0)
    """

    connect_s: float = 30.0
    statement_s: float = 600.0


_OVERRIDE: ContextVar[DbTimeouts | None] = ContextVar("seglens_db_timeouts", default=None)


def _seconds(raw: str, name: str, *, zero_ok: bool) -> float:
    try:
        value = float(raw)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or value < 0 or (value == 0 and not zero_ok):
        low = "0 (no limit) or more" if zero_ok else "more than 0"
        raise UsageError(
            f"{name}={raw} is not a number of seconds", hint=f"give seconds, {low}, e.g. 60"
        )
    return value


def db_timeouts() -> DbTimeouts:
    """The limits in force: the CLI options (:func:`use_db_timeouts`), else the environment,
    else the defaults."""
    override = _OVERRIDE.get()
    if override is not None:
        return override
    connect = os.environ.get(CONNECT_ENV)
    statement = os.environ.get(STATEMENT_ENV)
    default = DbTimeouts()
    return DbTimeouts(
        default.connect_s if not connect else _seconds(connect, CONNECT_ENV, zero_ok=False),
        default.statement_s if not statement else _seconds(statement, STATEMENT_ENV, zero_ok=True),
    )


@contextmanager
def use_db_timeouts(
    connect_s: float | None = None, statement_s: float | None = None
) -> Iterator[DbTimeouts]:
    """Within the block, use these limits (``None``: keep the one otherwise in force)."""
    if connect_s is not None:
        _seconds(f"{connect_s:g}", "--db-connect-timeout", zero_ok=False)
    if statement_s is not None:
        _seconds(f"{statement_s:g}", "--db-statement-timeout", zero_ok=True)
    base = db_timeouts()
    chosen = DbTimeouts(
        base.connect_s if connect_s is None else float(connect_s),
        base.statement_s if statement_s is None else float(statement_s),
    )
    token = _OVERRIDE.set(chosen)
    try:
        yield chosen
    finally:
        _OVERRIDE.reset(token)


def connect_args(
    backend: str, query: Mapping[str, str | Sequence[str]], timeouts: DbTimeouts | None = None
) -> dict[str, Any]:
    """Driver arguments that apply ``timeouts`` for a database of kind ``backend`` (the URL's
    backend name) whose URL carries ``query``; settings already in the URL are kept.

    Examples
    --------
    >>> connect_args("postgresql", {}, DbTimeouts(5, 2.5))
    {'connect_timeout': 5, 'options': '-c statement_timeout=2500'}
    >>> connect_args("postgresql", {"options": "-csearch_path=crm"}, DbTimeouts(5, 0))
    {'connect_timeout': 5}
    >>> connect_args("sqlite", {})
    {}
    """
    if backend != "postgresql":
        return {}
    limits = timeouts or db_timeouts()
    args: dict[str, Any] = {}
    if "connect_timeout" not in query:
        args["connect_timeout"] = max(2, math.ceil(limits.connect_s))  # libpq: whole s, 2 or more
    raw = query.get("options", "")
    options = raw if isinstance(raw, str) else " ".join(raw)
    if limits.statement_s > 0 and "statement_timeout" not in options:
        mine = f"-c statement_timeout={round(limits.statement_s * 1000)}"
        args["options"] = f"{options} {mine}" if options else mine
    return args


def _how_to_raise(kind: str) -> str:
    option, env = (
        ("--db-connect-timeout", CONNECT_ENV)
        if kind == "connect"
        else ("--db-statement-timeout", STATEMENT_ENV)
    )
    return f"raise it with `seglens {option} SECONDS <command> ...` or {env}=SECONDS"


def explain_db_error(err: BaseException, where: str) -> SeglensError | None:
    """A clear error for a timeout, a full disk or a refused value behind the DBAPI error
    ``err`` (``None`` for anything else); ``where`` names the database, its password hidden."""
    orig = getattr(err, "orig", None) or err
    text = str(orig).strip().splitlines()[0] if str(orig).strip() else type(orig).__name__
    limits = db_timeouts()
    if type(orig).__name__ == "ConnectionTimeout" or "timeout expired" in text:
        return DataError(
            f"the database did not answer within the {limits.connect_s:g} s connect timeout",
            source=where,
            hint="check that the server is running and reachable at that address; "
            + _how_to_raise("connect"),
        )
    if getattr(orig, "sqlstate", None) == "57014" and "statement timeout" in text:
        return DataError(
            f"a statement ran longer than the {limits.statement_s:g} s statement timeout and "
            "was cancelled; nothing was changed",
            source=where,
            hint="make the query smaller or faster, or " + _how_to_raise("statement"),
        )
    if getattr(orig, "sqlite_errorname", None) == "SQLITE_FULL" or getattr(
        orig, "sqlstate", None
    ) in (
        "53100",  # PostgreSQL disk_full
    ):
        return DataError(
            f"the disk is full ({text}); the transaction was rolled back and the database "
            "keeps its earlier data",
            source=where,
            hint="free disk space (or move the database to another disk) and run the command again",
        )
    state = str(getattr(orig, "sqlstate", "") or "")
    if state.startswith("22") or "NUL (0x00)" in text:
        return DataError(
            f"the database refused a value ({text}); nothing was changed",
            source=where,
            hint="clean the value in the source file and run the command again",
        )
    return None


def check_values(
    frame: pl.DataFrame,
    limits: Mapping[str, int | None],
    *,
    source: str | None,
    first_line: int | None = None,
    rows_of: str | None = None,
    lines: Sequence[int] | None = None,
) -> None:
    """Refuse text a database would reject, before anything is written: a NUL character, or
    more than ``limits[column]`` characters (``None``: no length limit).

    The error names the column, the row (``line N`` when ``lines`` gives each row's file line
    or ``first_line`` the first row's, else ``row N`` of the table, ``rows_of`` saying which)
    and the value.

    Examples
    --------
    >>> try:
    ...     check_values(pl.DataFrame({"id": ["a", "abcd"]}), {"id": 3}, source="t")
    ... except DataError as err:
    ...     print(err.message.split(";")[0])
    row 2: the value 'abcd' (4 characters) is over the 3 characters the database allows
    """
    for column, limit in limits.items():
        if column not in frame.columns or frame.schema[column] != pl.String:
            continue
        values = frame.get_column(column)
        bad_nul = values.str.contains("\x00", literal=True).fill_null(False)
        too_long = (
            values.str.len_chars().fill_null(0) > limit
            if limit is not None
            else pl.Series([False] * frame.height)
        )
        for mask, why in (
            (bad_nul, "contains a NUL character (\\x00), which databases refuse"),
            (too_long, f"is over the {limit} characters the database allows"),
        ):
            hits = mask.arg_true()
            if hits.len():
                where = (
                    f"line {lines[int(hits[0])]}"
                    if lines is not None
                    else f"line {first_line + int(hits[0])}"
                    if first_line is not None
                    else f"row {int(hits[0]) + 1}" + (f" of {rows_of}" if rows_of else "")
                )
                raise _refused(frame, column, int(hits[0]), why, source, where, hits.len())


def _refused(
    frame: pl.DataFrame,
    column: str,
    index: int,
    why: str,
    source: str | None,
    where: str,
    count: int,
) -> DataError:
    value = str(frame.get_column(column)[index])
    shown = value if len(value) <= 60 else f"{value[:57]}..."
    more = f" ({count - 1} more rows like it)" if count > 1 else ""
    return DataError(
        f"{where}: the value {shown!r} ({len(value)} characters) {why}{more}; nothing was written",
        source=source,
        column=column,
        hint="fix or remove the value in the source and run the command again",
    )
