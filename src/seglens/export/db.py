"""Write segments to a database table in one transaction (any SQLAlchemy URL)."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

import polars as pl
import sqlalchemy as sa

from seglens.errors import DataError, UsageError

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
    try:
        engine = sa.create_engine(url)
    except sa.exc.ArgumentError as err:
        raise UsageError(f"not a database URL: {url!r}", hint="e.g. sqlite:///segments.db") from err
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
                    source=url,
                    hint="use --if-exists replace or append",
                )
            if if_exists == "replace":
                conn.execute(target.delete())
            if rows:
                conn.execute(target.insert(), rows)
    except sa.exc.SQLAlchemyError as err:
        raise DataError(
            f"writing table {table!r} failed; nothing was changed ({type(err).__name__}: "
            f"{str(err.orig if isinstance(err, sa.exc.DBAPIError) else err).splitlines()[0]})",
            source=url,
            hint="an existing table must have the exported columns; drop it or pick --table",
        ) from err
    finally:
        engine.dispose()
    return len(rows)
