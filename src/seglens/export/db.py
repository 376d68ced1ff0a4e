"""Write segments to a database table in one transaction (any SQLAlchemy URL)."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

import polars as pl
import sqlalchemy as sa

from seglens.db_guard import check_values, connect_args, explain_db_error
from seglens.errors import DataError, UsageError
from seglens.io.atomic import check_folder

__all__ = ["write_table"]

_TYPES: dict[type[pl.DataType], sa.types.TypeEngine[Any]] = {
    pl.String: sa.Text(),
    pl.Date: sa.Date(),
    pl.Float64: sa.Float(),
    pl.Float32: sa.Float(),
    pl.Int64: sa.BigInteger(),
    pl.Int32: sa.Integer(),
    pl.Boolean: sa.Boolean(),
}


def _engine(url: str) -> sa.Engine:
    """An engine with seglens' connect and statement timeouts; a SQLite file may be new, but
    its folder must exist."""
    try:
        parsed = sa.make_url(url)
    except sa.exc.ArgumentError as err:
        raise UsageError(f"not a database URL: {url!r}", hint="e.g. sqlite:///segments.db") from err
    backend = parsed.get_backend_name()
    if backend == "sqlite" and parsed.database and parsed.database != ":memory:":
        check_folder(parsed.database, option="--output")
    try:
        return sa.create_engine(url, connect_args=connect_args(backend, parsed.query))
    except (sa.exc.ArgumentError, sa.exc.NoSuchModuleError, ImportError) as err:
        raise UsageError(
            f"not a usable database URL ({err})",
            source=parsed.render_as_string(hide_password=True),
            hint="e.g. sqlite:///segments.db or postgresql+psycopg://user@host:5432/db",
        ) from None


def write_table(
    frame: pl.DataFrame,
    url: str,
    *,
    table: str,
    if_exists: Literal["replace", "append", "fail"] = "replace",
) -> int:
    """Write ``frame`` (with ``customer_id`` as key) plus ``exported_at`` into ``table``.

    ``replace`` deletes the table's rows and inserts the new ones; ``append`` inserts;
    ``fail`` refuses a table that already has rows. All in one transaction: on error nothing
    changes. The table is created when absent.
    """
    if not table.replace("_", "").isalnum():
        raise UsageError(f"table name {table!r} must be letters, digits and underscores")
    engine = _engine(url)
    where = engine.url.render_as_string(hide_password=True)
    # a value the database would refuse is named (row, column, value) before anything is written
    check_values(frame, dict.fromkeys(frame.columns), source=where, rows_of="the export")
    meta = sa.MetaData()
    cols = [
        sa.Column(name, _TYPES.get(type(dtype), sa.Text()), primary_key=(name == "customer_id"))
        for name, dtype in frame.schema.items()
    ]
    cols.append(sa.Column("exported_at", sa.DateTime(), nullable=False))
    target = sa.Table(table, meta, *cols)
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)
    rows = [{**r, "exported_at": now} for r in frame.to_dicts()]
    try:
        with engine.begin() as conn:
            meta.create_all(conn, checkfirst=True)
            existing = conn.execute(sa.select(sa.func.count()).select_from(target)).scalar_one()
            if existing and if_exists == "fail":
                raise DataError(
                    f"table {table!r} already has {existing} rows",
                    source=where,
                    hint="use --if-exists replace or append",
                )
            if if_exists == "replace":
                conn.execute(target.delete())
            if rows:
                conn.execute(target.insert(), rows)
    except sa.exc.SQLAlchemyError as err:
        clear = explain_db_error(err, where)
        if clear is not None:
            raise clear from err
        raise DataError(
            f"writing table {table!r} failed; nothing was changed ({type(err).__name__}: "
            f"{str(err.orig if isinstance(err, sa.exc.DBAPIError) else err).splitlines()[0]})",
            source=where,
            hint="an existing table must have the exported columns; drop it or pick --table",
        ) from err
    finally:
        engine.dispose()
    return len(rows)
