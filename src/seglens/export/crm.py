"""Segments to files a CRM imports: HubSpot, Salesforce, plain CSV, Parquet.

Conventions: UTF-8, one row per customer, the key column each CRM matches records on, the
segment as one property with exact values, dates as ``yyyy-MM-dd``. Text cells that a
spreadsheet would run as a formula (starting with ``= + - @``, tab or carriage return) are
prefixed with ``'`` (OWASP "CSV injection"); :func:`read_export` undoes it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final, Literal

import polars as pl

from seglens.errors import DataError, UsageError
from seglens.io.atomic import atomic_path, check_folder

__all__ = [
    "FORMATS",
    "ExportResult",
    "check_pseudonym_key",
    "duplicate_ids_error",
    "escape_formula",
    "export_rows",
    "export_segments",
    "missing_column_error",
    "missing_values_error",
    "pseudonymize",
    "read_export",
    "unescape_formula",
]

logger = logging.getLogger(__name__)

Format = Literal["hubspot", "salesforce", "csv", "parquet", "db"]
FORMATS: Final = ("hubspot", "salesforce", "csv", "parquet", "db")
FORMULA_START: Final = ("=", "+", "-", "@", "\t", "\r")
HUBSPOT_MAX_ROWS: Final = 1_048_576

# canonical -> header, per file format
HEADERS: Final[dict[str, dict[str, str]]] = {
    "csv": {"customer_id": "customer_id", "segment": "segment", "segment_date": "segment_date"},
    "parquet": {"customer_id": "customer_id", "segment": "segment", "segment_date": "segment_date"},
    "db": {"customer_id": "customer_id", "segment": "segment", "segment_date": "segment_date"},
    # a custom unique-value contact property, a dropdown property and a date property
    "hubspot": {
        "customer_id": "seglens_customer_id",
        "segment": "seglens_segment",
        "segment_date": "seglens_segment_date",
        "email": "Email",
    },
    # an External ID field and two custom fields on Contact (API names)
    "salesforce": {
        "customer_id": "Customer_ID__c",
        "segment": "Segment__c",
        "segment_date": "Segment_Date__c",
        "email": "Email",
    },
}


@dataclass(frozen=True)
class ExportResult:
    """What was written: files (or the table), rows, columns and how many cells were escaped."""

    format: str
    paths: list[Path]
    rows: int
    columns: list[str]
    escaped_cells: int = 0
    pseudonymized: bool = False
    notes: list[str] = field(default_factory=list)


def escape_formula(value: str | None) -> str | None:
    """Prefix ``'`` to a cell a spreadsheet would evaluate as a formula.

    Cells that already start with quotes before a formula character get one more, so that
    :func:`unescape_formula` restores every value exactly.

    Examples
    --------
    >>> escape_formula("=HYPERLINK(\\"http://x\\")"), escape_formula("Champions")
    ('\\'=HYPERLINK("http://x")', 'Champions')
    """
    if value and value.lstrip("'").startswith(FORMULA_START):
        return "'" + value
    return value


def unescape_formula(value: str | None) -> str | None:
    """Undo :func:`escape_formula` (only a ``'`` followed by a formula character is removed).

    Examples
    --------
    >>> unescape_formula("'=1+2"), unescape_formula("'quoted'")
    ('=1+2', "'quoted'")
    """
    if value and value.startswith("'") and value.lstrip("'").startswith(FORMULA_START):
        return value[1:]
    return value


def check_pseudonym_key(key: bytes) -> None:
    """Refuse a key shorter than 16 bytes (before any work, on every engine)."""
    if len(key) < 16:
        raise UsageError(
            "the pseudonym key is too short (at least 16 bytes)",
            hint="generate one with: python -c 'import secrets; print(secrets.token_hex(32))'",
        )


def pseudonymize(ids: pl.Series, key: bytes) -> pl.Series:
    """Keyed-hash pseudonyms: HMAC-SHA256 of each id, first 32 hex characters (128 bits).

    The same key always gives the same pseudonym, so exports can be joined back by whoever
    holds the key and by nobody else. Keep the key out of the export's destination.

    Examples
    --------
    >>> import polars as pl
    >>> p = pseudonymize(pl.Series(["17850", "17850", "13047"]), b"0123456789abcdef")
    >>> p[0] == p[1] != p[2], len(p[0])
    (True, 32)
    """
    check_pseudonym_key(key)
    return ids.cast(pl.String).map_elements(
        lambda s: hmac.new(key, s.encode("utf-8"), hashlib.sha256).hexdigest()[:32],
        return_dtype=pl.String,
    )


def missing_column_error(column: str, columns: Sequence[str]) -> DataError:
    """The error for a column the export needs and the segments lack."""
    return DataError(f"column {column!r} is missing", column=column, hint=f"have {list(columns)}")


def missing_values_error(rows: int, examples: Sequence[object]) -> DataError:
    """The error for rows with no customer_id or no segment (``examples``: a few such rows)."""
    return DataError(
        f"{rows} row(s) have no customer_id or segment",
        values=list(examples),
        hint="drop unassigned customers or give them a segment",
    )


def duplicate_ids_error(ids: int, examples: Sequence[object]) -> DataError:
    """The error for customer ids on more than one row (``examples``: the smallest few)."""
    return DataError(
        f"{ids} customer_id(s) appear more than once",
        column="customer_id",
        values=list(examples),
        hint="a CRM import needs one row per customer",
    )


def _prepare(
    assignments: pl.DataFrame, *, as_of: dt.date, extra_columns: Sequence[str]
) -> pl.DataFrame:
    for col in ("customer_id", "segment", *extra_columns):
        if col not in assignments.columns:
            raise missing_column_error(col, assignments.columns)
    frame = assignments.select(
        pl.col("customer_id").cast(pl.String),
        pl.col("segment").cast(pl.String),
        pl.lit(as_of, dtype=pl.Date).alias("segment_date"),
        *[pl.col(c) for c in extra_columns],
    )
    nulls = frame.filter(pl.col("customer_id").is_null() | pl.col("segment").is_null())
    if nulls.height:
        raise missing_values_error(nulls.height, nulls.head(5).rows())
    dup = frame.filter(pl.col("customer_id").is_duplicated())["customer_id"].unique().sort()
    if dup.len():
        raise duplicate_ids_error(dup.len(), dup.head(5).to_list())
    return frame


def export_rows(
    frame: pl.DataFrame, *, format: Format, pseudonym_key: bytes | None
) -> tuple[pl.DataFrame, pl.Series]:
    """The per-row part of an export, for checked rows (``customer_id``, ``segment``,
    ``segment_date``, extra columns): pseudonyms, the format's headers and, for the text
    formats, formula escaping and dates as ``yyyy-MM-dd``; with the cells escaped per row.

    It depends on nothing but each row, so the Spark export runs it on every Arrow batch:
    one definition of the rows for both engines.
    """
    if pseudonym_key is not None:
        frame = frame.with_columns(pseudonymize(frame["customer_id"], pseudonym_key))
    headers = HEADERS[format]
    frame = frame.rename({c: headers[c] for c in frame.columns if c in headers})
    if format in ("parquet", "db"):
        return frame, pl.Series("escaped", [0] * frame.height, dtype=pl.Int32)
    return _escape_text(frame)


def _escape_text(frame: pl.DataFrame) -> tuple[pl.DataFrame, pl.Series]:
    risky = []  # customer_id and segment are always text, so never empty
    cols = []
    for name, dtype in frame.schema.items():
        col = pl.col(name)
        if dtype == pl.String:
            risky.append(col.str.contains(r"^'*[=+\-@\t\r]").fill_null(False).cast(pl.Int32))
            col = col.map_elements(escape_formula, return_dtype=pl.String)
        elif dtype == pl.Date:
            col = col.dt.strftime("%Y-%m-%d")
        cols.append(col.alias(name))
    escaped = frame.select(pl.sum_horizontal(risky).cast(pl.Int32).alias("escaped"))["escaped"]
    return frame.select(cols), escaped


def export_segments(
    assignments: pl.DataFrame,
    destination: str | Path,
    *,
    format: Format = "csv",
    as_of: dt.date | None = None,
    extra_columns: Sequence[str] = (),
    pseudonym_key: bytes | None = None,
    table: str = "seglens_segments",
    if_exists: Literal["replace", "append", "fail"] = "replace",
) -> ExportResult:
    """Write current segments where a CRM (or a database) can take them.

    Parameters
    ----------
    assignments
        ``customer_id``, ``segment`` and any ``extra_columns`` (e.g. ``email``, ``clv``).
    destination
        A file path (for ``db``: an SQLAlchemy URL such as ``sqlite:///seg.db``).
    format
        ``hubspot``, ``salesforce``, ``csv``, ``parquet`` or ``db``.
    as_of
        The segmentation date written as ``segment_date`` (default: today).
    pseudonym_key
        Replace ids by keyed-hash pseudonyms (:func:`pseudonymize`).
    table, if_exists
        For ``db``: the table, and what to do with its current rows. The write is one
        transaction: on any error the table is left as it was.

    Examples
    --------
    >>> import datetime as dt, polars as pl, tempfile, pathlib
    >>> seg = pl.DataFrame({"customer_id": ["001", "002"], "segment": ["Champions", "=cmd"]})
    >>> out = pathlib.Path(tempfile.mkdtemp()) / "seg.csv"
    >>> r = export_segments(seg, out, format="hubspot", as_of=dt.date(2024, 5, 1))
    >>> r.rows, r.escaped_cells
    (2, 1)
    >>> read_export(out, format="hubspot")["segment"].to_list()
    ['Champions', '=cmd']
    """
    if format not in FORMATS:
        raise UsageError(
            f"unknown export format {format!r}", hint=f"use one of {', '.join(FORMATS)}"
        )
    if pseudonym_key is not None:
        check_pseudonym_key(pseudonym_key)
    frame = _prepare(assignments, as_of=as_of or dt.date.today(), extra_columns=extra_columns)
    frame, per_row = export_rows(frame, format=format, pseudonym_key=pseudonym_key)
    if format == "db":
        from seglens.export.db import write_table

        write_table(frame, str(destination), table=table, if_exists=if_exists)
        return ExportResult(format, [], frame.height, frame.columns, 0, pseudonym_key is not None)
    path = check_folder(destination)
    if format == "parquet":
        with atomic_path(path) as tmp:
            frame.write_parquet(tmp)
        return ExportResult(
            format, [path], frame.height, frame.columns, 0, pseudonym_key is not None
        )
    escaped = int(per_row.sum())
    paths = _write_csv(frame, path, max_rows=HUBSPOT_MAX_ROWS if format == "hubspot" else None)
    notes = []
    if len(paths) > 1:
        notes.append(
            f"split into {len(paths)} files of at most {HUBSPOT_MAX_ROWS:,} rows (HubSpot)"
        )
    if escaped:
        logger.info("escaped %d cell(s) that a spreadsheet would run as formulas", escaped)
    return ExportResult(
        format, paths, frame.height, frame.columns, escaped, pseudonym_key is not None, notes
    )


def _write_csv(frame: pl.DataFrame, path: Path, *, max_rows: int | None) -> list[Path]:
    """Each file is written atomically: a failure leaves the earlier file as it was."""
    if max_rows is None or frame.height <= max_rows:
        with atomic_path(path) as tmp:
            frame.write_csv(tmp, quote_style="necessary")
        return [path]
    paths = []
    for i, start in enumerate(range(0, frame.height, max_rows), start=1):
        part = path.with_name(f"{path.stem}-part{i}{path.suffix}")
        with atomic_path(part) as tmp:
            frame.slice(start, max_rows).write_csv(tmp, quote_style="necessary")
        paths.append(part)
    return paths


def read_export(path: str | Path, *, format: Format = "csv") -> pl.DataFrame:
    """Read an export back as assignments (``customer_id``, ``segment``, ``segment_date``, ...).

    Undoes the header renaming and the formula escaping; ids stay strings (leading zeros kept).
    """
    if format == "db":
        raise UsageError("read a db export with SQL; read_export reads files")
    p = Path(path)
    if format == "parquet":
        frame = pl.read_parquet(p)
    else:
        frame = pl.read_csv(p, infer_schema=False, encoding="utf8")
        frame = frame.with_columns(
            pl.col(c).map_elements(unescape_formula, return_dtype=pl.String) for c in frame.columns
        )
    back = {v: k for k, v in HEADERS[format].items()}
    frame = frame.rename({c: back[c] for c in frame.columns if c in back})
    if "segment_date" in frame.columns and frame.schema["segment_date"] == pl.String:
        frame = frame.with_columns(pl.col("segment_date").str.to_date("%Y-%m-%d"))
    return frame
