"""What Spark reads and writes: files, cluster paths, catalog tables (``table:db.name``) and
SQL (``sql:...``).

Inputs are read by Spark itself, on the executors: nothing passes through the driver.
Outputs are written by Spark too: a folder of Parquet (or CSV) part files, or a catalog table.
A local folder or a table is written under a staging name and swapped in only once the write
succeeded, so a failing job leaves the earlier output as it was (:func:`write_output`).
"""

from __future__ import annotations

import re
import secrets
import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlparse

from seglens.errors import DataError, UsageError

__all__ = ["describe", "is_spark_source", "is_uri", "local_path", "read_source", "write_output"]

_PARQUET = (".parquet", ".pq")
_TEXT = (".csv", ".tsv", ".txt")
# A scheme of two or more letters (a Windows drive letter is not one): s3a://, hdfs://,
# abfss://, gs://, dbfs:/, file:/// ... Spark (Hadoop) resolves the filesystem itself.
_URI = re.compile(r"^[a-z][a-z0-9+.-]+:/", re.IGNORECASE)
# Schemes of database URLs (SQLAlchemy dialects): the embedded loader reads those.
_DATABASES = frozenset(
    {"sqlite", "postgresql", "postgres", "mysql", "mariadb", "mssql", "oracle", "duckdb"}
)


def is_uri(source: str) -> bool:
    """Whether ``source`` is a path with a filesystem scheme (``s3a://bucket/lines``,
    ``file:///data/x.parquet``) that Spark resolves; database URLs and ``table:``/``sql:``
    are not."""
    if not _URI.match(source) or source.startswith(("table:", "sql:")):
        return False
    scheme = source.split(":", 1)[0].lower()
    return "+" not in scheme and scheme not in _DATABASES


def local_path(target: str) -> Path | None:
    """The local path ``target`` names (a plain path or a ``file:`` URI), else None (a table, a
    query, a cluster URI). Like Hadoop, a ``file:`` URI's ``%`` escapes are not decoded."""
    if target.startswith(("table:", "sql:")):
        return None
    if not is_uri(target):
        return Path(target)
    url = urlparse(target)
    if url.scheme.lower() == "file" and url.netloc in ("", "localhost"):
        return Path(url.path)
    return None


def is_spark_source(source: str) -> bool:
    """Whether Spark reads ``source`` itself (a table, a query, a Parquet/CSV file or folder, a
    cluster URI)."""
    if source.startswith(("table:", "sql:")) or is_uri(source):
        return True
    path = Path(source)
    return path.is_dir() or kind_of(path) is not None


def kind_of(path: Path) -> str | None:
    """``parquet`` or the text extension of ``path`` (``x.csv.gz`` is CSV), else None."""
    suffixes = [s.lower() for s in path.suffixes]
    for s in reversed(suffixes):
        if s in _PARQUET:
            return "parquet"
        if s in _TEXT:
            return s
    return None


def describe(source: str) -> str:
    """A short name of ``source`` for messages (a query is shortened)."""
    if source.startswith("sql:") and len(source) > 64:
        return source[:61] + "..."
    return source


def read_source(session: Any, source: str) -> Any:
    """A Spark DataFrame of ``source``: ``table:db.name``, ``sql:SELECT ...``, Parquet or CSV,
    as a local path or a URI (``s3a://bucket/lines``, ``hdfs://...``, ``file:///...``).

    CSV (``.csv``, ``.tsv``, ``.csv.gz``) is read with a header and every column as text, so
    the cleaning rules decide how values are read, as on the embedded engine. A URI is not
    checked here (the driver may not reach the cluster's filesystem): Spark's own error when
    it cannot read it comes back as a :class:`DataError` naming the source.
    """
    if source.startswith("table:"):
        name = source.removeprefix("table:").strip()
        if not name:
            raise UsageError("table: needs a name", hint="write table:db.name")
        if not session.catalog.tableExists(name):
            raise DataError(
                f"Spark's catalog has no table {name!r}",
                source=source,
                hint="check the name (db.table) and the session's catalog settings",
            )
        return session.table(name)
    if source.startswith("sql:"):
        query = source.removeprefix("sql:").strip()
        if not query:
            raise UsageError("sql: needs a query", hint='write "sql:SELECT ... FROM db.table"')
        return session.sql(query)
    uri = is_uri(source)
    if uri:
        path = Path(urlparse(source).path)
        kind = kind_of(path) or ("parquet" if not path.suffix else None)
    else:
        path = Path(source)
        if not path.exists():
            raise DataError("file not found", source=source, hint="check the path")
        kind = kind_of(path) or ("parquet" if path.is_dir() else None)
    if kind is None:
        raise UsageError(
            "Spark reads Parquet, CSV/TSV (optionally .gz), table:db.name or sql:SELECT ...",
            source=source,
            hint="convert the file first (seglens ingest FILE -o lines.parquet)",
        )
    where = str(path)
    if uri:  # Hadoop takes file:/// only: file://localhost/x names the same file
        url = urlparse(source)
        local = url.scheme.lower() == "file" and url.netloc == "localhost"
        where = f"file://{url.path}" if local else source
    try:
        if kind == "parquet":
            return session.read.parquet(where)
        sep = "\t" if kind == ".tsv" else ","
        return session.read.csv(where, header=True, inferSchema=False, sep=sep)
    except Exception as err:
        if not uri:
            raise
        raise DataError(
            f"Spark could not read it ({_first_line(err)})",
            source=source,
            hint="check the path, and that the cluster reaches this filesystem "
            "(its connector and credentials in the Spark configuration)",
        ) from err


def write_output(
    sdf: Any,
    target: str,
    *,
    kind: Literal["parquet", "csv"] | None = None,
    options: Mapping[str, Any] | None = None,
    what: str = "output",
) -> str:
    """Write ``sdf`` with Spark to ``table:db.name`` or a folder of part files; where it went.

    ``kind``: CSV part files with a header or Parquet; by default CSV for a target ending in
    ``.csv``, else Parquet. ``options`` are given to Spark's writer (``maxRecordsPerFile``,
    CSV options). ``what`` names the output in the error message (``export``).

    A local folder (a path or a ``file:`` URI) or a table is written under a staging name next
    to it and swapped in only after Spark succeeded: when the job fails, the earlier output is
    kept as it was and the staging copy removed (a :class:`DataError` says so). A cluster URI
    (``s3a://``, ``hdfs://`` ...) is overwritten by Spark directly: the driver cannot rename
    there safely (object stores have no rename, Spark Connect gives no filesystem access), so
    a failed job can lose the earlier output; write ``table:`` for the guarantee there.
    An existing regular file is refused (Spark writes folders).
    """
    if kind is None:
        kind = "csv" if target.lower().endswith(".csv") else "parquet"
    opts = {k: str(v) for k, v in (options or {}).items()}
    if kind == "csv":
        opts.setdefault("header", "true")
    if target.startswith("table:"):
        name = target.removeprefix("table:").strip()
        if not name:
            raise UsageError("table: needs a name", hint="write table:db.name")
        _write_table(sdf, name, opts, what)
        return f"table {name}"
    # "error" (= errorifexists): the one spelling the Spark Connect client also accepts
    writer = sdf.write.mode("error").options(**opts)
    path = local_path(target)
    if path is None:
        try:
            getattr(writer.mode("overwrite"), kind)(target)
        except Exception as err:
            raise _failed(target, None, err, what) from err
        return f"folder {target}"
    _write_folder(writer, path, kind, what)
    return f"folder {path}"


def _write_folder(writer: Any, path: Path, kind: str, what: str) -> None:
    """Spark writes a sibling staging folder, renamed over ``path`` once complete."""
    if path.is_file():
        raise UsageError(
            "Spark writes a folder of part files here, but the path is an existing file",
            source=str(path),
            hint="remove the file or choose another name",
        )
    if not path.parent.is_dir():
        raise UsageError(
            "the output folder does not exist", source=str(path.parent), hint="create it first"
        )
    token = secrets.token_hex(4)
    staging = path.with_name(f".{path.name}.{token}.tmp")
    try:
        getattr(writer, kind)(str(staging))
    except Exception as err:
        shutil.rmtree(staging, ignore_errors=True)
        raise _failed(str(path), path.exists(), err, what) from err
    for crc in staging.glob(".*.crc"):  # Hadoop's local checksum sidecars trip other readers
        crc.unlink()
    old = path.with_name(f".{path.name}.{token}.old")
    if path.exists():
        path.rename(old)
    try:
        staging.rename(path)
    except OSError:
        if old.exists():
            old.rename(path)
        shutil.rmtree(staging, ignore_errors=True)
        raise
    shutil.rmtree(old, ignore_errors=True)


def _write_table(sdf: Any, name: str, options: dict[str, str], what: str) -> None:
    """Spark writes a staging table, renamed to ``name`` once complete.

    The staging table is created empty first and then filled (``insertInto``): a job that
    fails while filling it leaves a catalog table whose DROP removes its files. (A failed
    ``saveAsTable`` leaves its folder in the warehouse without a table to drop.) The empty
    table is made from the schema alone, so ``sdf`` is computed once (observations see one
    result).
    """
    session = sdf.sparkSession
    token = secrets.token_hex(4)
    staging, old = f"{name}__seglens_{token}", f"{name}__seglens_old_{token}"
    try:
        empty = session.createDataFrame([], sdf.schema)
        empty.write.mode("error").options(**options).saveAsTable(staging)
        sdf.write.options(**options).insertInto(staging, overwrite=True)
    except Exception as err:
        session.sql(f"DROP TABLE IF EXISTS {staging}")
        raise _failed(f"table:{name}", session.catalog.tableExists(name), err, what) from err
    had = session.catalog.tableExists(name)
    if had:
        session.sql(f"ALTER TABLE {name} RENAME TO {old}")
    try:
        session.sql(f"ALTER TABLE {staging} RENAME TO {name}")
    except Exception:
        if had:
            session.sql(f"ALTER TABLE {old} RENAME TO {name}")
        session.sql(f"DROP TABLE IF EXISTS {staging}")
        raise
    if had:
        session.sql(f"DROP TABLE {old}")


def _first_line(err: Exception) -> str:
    text = str(err).strip()
    return text.splitlines()[0][:300] if text else type(err).__name__


def _failed(target: str, kept: bool | None, err: Exception, what: str) -> DataError:
    """The error of a failed write: Spark's first line and what became of the earlier output
    (``kept`` None: Spark overwrote a cluster path, which may be partly written)."""
    if kept is None:
        fate = "Spark overwrites a cluster path directly, so what was there may be lost"
    elif kept:
        fate = f"the earlier {what} was kept unchanged"
    else:
        fate = "nothing was written"
    return DataError(
        f"Spark could not write the {what} ({_first_line(err)}); {fate}",
        source=target,
        hint="fix the cause above and run the command again",
    )
