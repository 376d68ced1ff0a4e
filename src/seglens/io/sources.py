"""Open any supported source lazily: files (CSV/TSV, gzip, Parquet, Excel), SQL databases by
SQLAlchemy URL, and in-memory pandas / Polars frames."""

from __future__ import annotations

import os
import re
import stat
from pathlib import Path
from typing import Any, Final

import polars as pl

from seglens.db_guard import connect_args, explain_db_error
from seglens.errors import DataError, UsageError
from seglens.io.excel import read_excel_file
from seglens.io.sources_base import ROW, RawSource
from seglens.io.textfiles import read_text_file

__all__ = [
    "DEFAULT_MAX_BYTES",
    "Source",
    "check_file",
    "describe_source",
    "is_database_url",
    "open_source",
]

DEFAULT_MAX_BYTES: Final = 1_000_000_000
"""Files larger than this (1 GB; gzip: uncompressed) are refused unless the limit is raised."""

Source = str | os.PathLike[str] | pl.DataFrame | pl.LazyFrame | Any
"""A path, a SQLAlchemy URL, or an in-memory pandas / Polars frame."""

_URL: Final = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*://")
_EXCEL: Final = {".xlsx", ".xlsm", ".xltx", ".xltm"}
_PARQUET: Final = {".parquet", ".pq", ".parq"}


def is_database_url(source: object) -> bool:
    """Whether ``source`` is a string that looks like a SQLAlchemy URL (``dialect://...``)."""
    return isinstance(source, str) and bool(_URL.match(source)) and not source.startswith("file:")


def _is_pandas(obj: object) -> bool:
    return type(obj).__module__.split(".")[0] == "pandas" and type(obj).__name__ == "DataFrame"


def describe_source(source: object) -> str:
    """A printable name: the path, the URL without password, or the frame type."""
    if isinstance(source, pl.DataFrame):
        return "<polars DataFrame>"
    if isinstance(source, pl.LazyFrame):
        return "<polars LazyFrame>"
    if _is_pandas(source):
        return "<pandas DataFrame>"
    if is_database_url(source):
        from sqlalchemy.engine import make_url
        from sqlalchemy.exc import ArgumentError

        try:
            return make_url(str(source)).render_as_string(hide_password=True)
        except ArgumentError:
            return str(source)
    return os.fspath(source) if isinstance(source, str | os.PathLike) else repr(source)


def _frame_source(frame: pl.DataFrame | pl.LazyFrame, name: str) -> RawSource:
    lazy = frame.lazy() if isinstance(frame, pl.DataFrame) else frame
    if ROW in lazy.collect_schema().names():
        lazy = lazy.drop(ROW)
    lazy = lazy.with_row_index(ROW)
    text = all(t == pl.String for t in lazy.collect_schema().dtypes())
    return RawSource(
        frame=lazy,
        name=name,
        format="dataframe",
        first_line=1,
        text=False,
        details={"text_only": text},
    )


def _pandas_source(frame: Any) -> RawSource:
    try:
        converted = pl.from_pandas(frame, include_index=False)
    except (TypeError, ValueError, pl.exceptions.PolarsError, ImportError):
        # mixed-type object columns: read every column as text, as a CSV would give it
        converted = pl.from_pandas(frame.astype("string"), include_index=False)
    return _frame_source(converted, "<pandas DataFrame>")


def _parquet_source(path: Path) -> RawSource:
    try:
        pl.scan_parquet(path, glob=False).collect_schema()
    except (pl.exceptions.PolarsError, OSError) as err:
        raise DataError(
            f"the file is not a readable Parquet file ({err})",
            source=str(path),
            hint="check that the file was fully written; re-export it",
        ) from None
    frame = pl.scan_parquet(path, glob=False).with_row_index(ROW)
    return RawSource(frame=frame, name=str(path), format="parquet", first_line=1, text=False)


def _sql_source(url: str, *, table: str | None, query: str | None) -> RawSource:
    import sqlalchemy as sa
    from sqlalchemy.exc import ArgumentError, NoSuchModuleError, SQLAlchemyError

    name = describe_source(url)
    if (table is None) == (query is None):
        raise UsageError(
            "a database source needs exactly one of a table name or a query",
            source=name,
            hint="pass --table NAME (schema.name allowed) or --query 'SELECT ...'",
        )
    try:
        parsed = sa.make_url(url)
        _check_sqlite_file(parsed.get_backend_name(), parsed.database, name)
        args = connect_args(parsed.get_backend_name(), parsed.query)
        engine = sa.create_engine(url, connect_args=args)
    except (ArgumentError, NoSuchModuleError, ImportError) as err:
        raise UsageError(
            f"not a usable database URL ({err})",
            source=name,
            hint="use a SQLAlchemy URL such as sqlite:///path.db or "
            "postgresql+psycopg://user@host:5432/db",
        ) from None
    stmt: Any
    if table is not None:
        schema, _, tname = table.rpartition(".")
        stmt = sa.select(sa.text("*")).select_from(sa.table(tname, schema=schema or None))
        label = f"{name} table {table}"
    else:
        stmt = sa.text(str(query))
        label = f"{name} query"
    try:
        with engine.connect() as conn:
            frame = pl.read_database(stmt, connection=conn, infer_schema_length=None)
    except SQLAlchemyError as err:
        clear = explain_db_error(err, label)
        if clear is not None:
            raise clear from None
        msg = str(getattr(err, "orig", err)).strip().splitlines()[0]
        raise DataError(
            f"the database refused the read: {msg}",
            source=label,
            hint="check the URL, that the server is running, and the table name or query",
        ) from None
    finally:
        engine.dispose()
    frame = frame.with_columns(
        pl.col(c).cast(pl.Float64) for c, t in frame.schema.items() if isinstance(t, pl.Decimal)
    )
    raw = _frame_source(frame, label)
    raw.format = "sql"
    return raw


def _check_sqlite_file(backend: str, database: str | None, name: str) -> None:
    """A SQLite source must be an existing file: connecting would create an empty one and the
    read would then fail with a misleading "no such table"."""
    if backend != "sqlite" or not database or database == ":memory:":
        return
    path = Path(database)
    if not path.is_file():
        raise DataError(
            "no such database file" if not path.exists() else "this is not a database file",
            source=name,
            hint=f"check the path: {path.resolve()} "
            + ("does not exist" if not path.exists() else "is a folder or a device")
            + " (sqlite:///relative/path.db, sqlite:////absolute/path.db)",
        )


_NOT_FILES: Final = (
    (stat.S_ISFIFO, "a named pipe (FIFO): reading it would wait for whatever writes to it"),
    (stat.S_ISCHR, "a device, not a file (it never ends or has no data of its own)"),
    (stat.S_ISBLK, "a block device, not a file"),
    (stat.S_ISSOCK, "a socket, not a file"),
)


def check_file(path: Path) -> int:
    """Refuse what is not a readable regular file, before anything opens it; its size.

    A missing path, a folder, a named pipe (opening one waits for a writer), a device such as
    ``/dev/zero`` or ``/dev/urandom`` (endless) and an unreadable file each get a clear
    :class:`DataError`.
    """
    name = str(path)
    try:
        info = path.stat()
    except FileNotFoundError:
        raise DataError("no such file", source=name, hint="check the path and spelling") from None
    except OSError as err:
        raise DataError(
            f"the file cannot be opened ({err.strerror or err})",
            source=name,
            hint="check the path and that you may read it",
        ) from None
    if stat.S_ISDIR(info.st_mode):
        raise DataError(
            "this is a folder, not a file",
            source=name,
            hint="pass one file (CSV, Parquet or Excel) from the folder",
        )
    for test, what in _NOT_FILES:
        if test(info.st_mode):
            raise DataError(
                f"this is {what}",
                source=name,
                hint="save the data to a regular file first (e.g. cat SOURCE > data.csv) "
                "and pass that file",
            )
    try:
        with path.open("rb"):
            pass
    except OSError as err:
        raise DataError(
            f"the file cannot be read ({err.strerror or err})",
            source=name,
            hint="check that you may read it (file permissions)",
        ) from None
    return info.st_size


def open_source(
    source: Source,
    *,
    sheet: str | int | None = None,
    table: str | None = None,
    query: str | None = None,
    delimiter: str | None = None,
    encoding: str | None = None,
    max_bytes: int | None = DEFAULT_MAX_BYTES,
) -> RawSource:
    """Open ``source`` as a :class:`RawSource` (nothing is read beyond headers and samples)."""
    if isinstance(source, pl.DataFrame | pl.LazyFrame):
        return _frame_source(source, describe_source(source))
    if _is_pandas(source):
        return _pandas_source(source)
    if is_database_url(source):
        return _sql_source(str(source), table=table, query=query)
    if not isinstance(source, str | os.PathLike):
        raise UsageError(
            f"cannot read transactions from a {type(source).__name__}",
            hint="pass a file path, a SQLAlchemy URL, or a pandas / Polars DataFrame",
        )
    path = Path(source)
    if table is not None or query is not None:
        raise UsageError(
            "--table / --query apply to database URLs, not files",
            source=str(path),
            hint="drop the option, or pass a URL such as sqlite:///file.db",
        )
    check_file(path)
    suffix = path.suffix.lower()
    with path.open("rb") as fh:
        magic = fh.read(8)
    if suffix == ".xls" or magic.startswith(b"\xd0\xcf\x11\xe0"):
        raise DataError(
            "old-style Excel (.xls) workbooks are not supported",
            source=str(path),
            hint="open it in Excel and save as .xlsx, or export the sheet as CSV",
        )
    if suffix in _EXCEL or magic.startswith(b"PK\x03\x04"):
        if max_bytes is not None and path.stat().st_size > max_bytes:
            raise DataError(
                f"the workbook is {path.stat().st_size:,} bytes, over the size limit of "
                f"{max_bytes:,} bytes",
                source=str(path),
                hint="export the sheet as CSV or Parquet, or raise the limit (--max-size)",
            )
        return read_excel_file(path, sheet=sheet)
    if sheet is not None:
        raise UsageError(
            "--sheet applies to Excel workbooks only", source=str(path), hint="drop the option"
        )
    if suffix in _PARQUET or magic.startswith(b"PAR1"):
        return _parquet_source(path)
    return read_text_file(path, delimiter=delimiter, encoding=encoding, max_bytes=max_bytes)
