"""What Spark reads and writes: files, catalog tables (``table:db.name``) and SQL (``sql:...``).

Inputs are read by Spark itself, on the executors: nothing passes through the driver.
Outputs are written by Spark too: a folder of Parquet (or CSV) part files, or a catalog table.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from seglens.errors import DataError, UsageError

__all__ = ["describe", "is_spark_source", "read_source", "write_output"]

_PARQUET = (".parquet", ".pq")
_TEXT = (".csv", ".tsv", ".txt")


def is_spark_source(source: str) -> bool:
    """Whether Spark reads ``source`` itself (a table, a query, Parquet/CSV file or folder)."""
    if source.startswith(("table:", "sql:")):
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
    """A Spark DataFrame of ``source``: ``table:db.name``, ``sql:SELECT ...``, Parquet or CSV.

    CSV (``.csv``, ``.tsv``, ``.csv.gz``) is read with a header and every column as text, so
    the cleaning rules decide how values are read, as on the embedded engine.
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
    path = Path(source)
    if not path.exists():
        raise DataError("file not found", source=source, hint="check the path")
    kind = kind_of(path) or ("parquet" if path.is_dir() else None)
    if kind == "parquet":
        return session.read.parquet(str(path))
    if kind is not None:
        sep = "\t" if kind == ".tsv" else ","
        return session.read.csv(str(path), header=True, inferSchema=False, sep=sep)
    raise UsageError(
        "Spark reads Parquet, CSV/TSV (optionally .gz), table:db.name or sql:SELECT ...",
        source=source,
        hint="convert the file first (seglens ingest FILE -o lines.parquet)",
    )


def write_output(sdf: Any, target: str) -> str:
    """Write ``sdf`` with Spark to ``table:db.name`` or a folder of part files; where it went.

    A path ending in ``.csv`` gets CSV part files with a header, any other path Parquet. An
    existing folder is replaced; an existing regular file is refused (Spark writes folders).
    """
    if target.startswith("table:"):
        name = target.removeprefix("table:").strip()
        if not name:
            raise UsageError("table: needs a name", hint="write table:db.name")
        sdf.write.mode("overwrite").saveAsTable(name)
        return f"table {name}"
    path = Path(target)
    if path.is_file():
        raise UsageError(
            "Spark writes a folder of part files here, but the path is an existing file",
            source=target,
            hint="remove the file or choose another name",
        )
    if not path.parent.is_dir():
        raise UsageError(
            "the output folder does not exist", source=str(path.parent), hint="create it first"
        )
    writer = sdf.write.mode("overwrite")
    if path.suffix.lower() == ".csv":
        writer.csv(str(path), header=True)
    else:
        writer.parquet(str(path))
    for crc in path.glob(".*.crc"):  # Hadoop's local checksum sidecars: other readers trip on them
        crc.unlink()
    return f"folder {path}"
