"""``seglens export --engine spark``: segments to CRM files, Parquet or a table, in Spark.

The segments never travel to the driver: the checks are Spark counts (a few example values
come back for the message), and each Arrow batch runs :func:`seglens.export.crm.export_rows`
(``mapInArrow``) — the embedded export's own per-row code: pseudonyms, headers, formula
escaping, dates — so both engines write the same rows. Cells that are not text are written
as Polars' CSV writer writes them (the embedded writer), not as Spark's (``1.0E7``).

Outputs are folders of part files (CSV with a header, or Parquet) or a catalog table, written
by :func:`seglens.spark.sources.write_output` as every Spark output: into a staging folder
(table) next to the target, which replaces the target only when the write succeeded, so a
failed write leaves the earlier export as it was.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, Literal

import polars as pl

from seglens.errors import UsageError
from seglens.export import crm
from seglens.spark.sources import local_path, write_output

__all__ = ["export_on_spark"]

_TEXT = ("hubspot", "salesforce", "csv")
# RFC 4180 as Polars writes it: "" inside quotes, quotes only when needed, spaces and a
# leading '#' kept as they are (Spark's defaults trim, escape with \\ and quote '#').
_CSV_OPTIONS = {
    "header": "true",
    "quote": '"',
    "escape": '"',
    "escapeQuotes": "true",
    "quoteAll": "false",
    "comment": "\u0000",
    "ignoreLeadingWhiteSpace": "false",
    "ignoreTrailingWhiteSpace": "false",
    "lineSep": "\n",
    "encoding": "UTF-8",
    "emptyValue": '""',
}


def export_on_spark(
    sdf: Any,
    target: str,
    *,
    format: str,
    as_of: dt.date | None = None,
    extra_columns: Sequence[str] = (),
    pseudonym_key: bytes | None = None,
) -> crm.ExportResult:
    """Write the segments ``sdf`` (``customer_id``, ``segment``, extras) as the embedded
    :func:`seglens.export.export_segments` would, with Spark.

    ``target`` is a folder (CSV part files for hubspot/salesforce/csv, at most
    ``HUBSPOT_MAX_ROWS`` rows per HubSpot file; Parquet parts for parquet) or
    ``table:db.name``. The result lists the part files written.
    """
    if format not in crm.FORMATS:
        raise UsageError(
            f"unknown export format {format!r}", hint=f"use one of {', '.join(crm.FORMATS)}"
        )
    if format == "db":
        raise UsageError(
            "--format db is written by the embedded engine (one transaction), not by Spark",
            hint="write a Spark table with --engine spark --format parquet --output "
            "table:db.name, or drop --engine spark to write the database table in one "
            "transaction from a segments file",
        )
    if pseudonym_key is not None:
        crm.check_pseudonym_key(pseudonym_key)
    frame, rows = _checked(sdf, as_of or dt.date.today(), list(extra_columns))
    out = _rows(frame, format, pseudonym_key)
    writer_rows = crm.HUBSPOT_MAX_ROWS if format == "hubspot" else None
    escaped, paths = _write(out, target, format, writer_rows)
    columns = [c for c in out.columns if c != _ESCAPED]
    notes = []
    if format == "hubspot" and len(paths) > 1:
        notes.append(
            f"split into {len(paths)} files of at most {crm.HUBSPOT_MAX_ROWS:,} rows (HubSpot)"
        )
    return crm.ExportResult(format, paths, rows, columns, escaped, pseudonym_key is not None, notes)


def _checked(sdf: Any, as_of: dt.date, extra: list[str]) -> tuple[Any, int]:
    """The export's columns and row count, after the embedded export's checks made as Spark
    counts (one job when all is well; a few examples come back for a message)."""
    from pyspark.sql import functions as F  # noqa: N812 - the usual alias

    for col in ("customer_id", "segment", *extra):
        if col not in sdf.columns:
            raise crm.missing_column_error(col, sdf.columns)
    frame = sdf.select(
        F.col("customer_id").cast("string").alias("customer_id"),
        F.col("segment").cast("string").alias("segment"),
        F.lit(as_of).cast("date").alias("segment_date"),
        *[F.col(c) for c in extra],
    )
    missing = F.col("customer_id").isNull() | F.col("segment").isNull()
    counts = frame.agg(
        F.count(F.lit(1)).alias("rows"),
        F.sum(F.when(missing, 1).otherwise(0)).alias("missing"),
        F.countDistinct("customer_id").alias("ids"),
    ).first()
    rows, nulls, ids = int(counts["rows"]), int(counts["missing"] or 0), int(counts["ids"])
    if nulls:
        examples = [tuple(r) for r in frame.where(missing).limit(5).collect()]
        raise crm.missing_values_error(nulls, examples)
    if ids < rows:
        dup = frame.groupBy("customer_id").count().where(F.col("count") > 1)
        first = [r["customer_id"] for r in dup.orderBy("customer_id").limit(5).collect()]
        raise crm.duplicate_ids_error(dup.count(), first)
    return frame, rows


_ESCAPED = "__seglens_escaped"


def _rows(frame: Any, format: str, key: bytes | None) -> Any:
    """``export_rows`` on every Arrow batch, plus the escaped cells per row (text formats)."""
    from pyspark.sql.types import IntegerType, StringType, StructField, StructType

    headers = crm.HEADERS[format]
    text = format in _TEXT
    if key is None and not text:
        return frame.toDF(*[headers.get(c, c) for c in frame.columns])
    fields = [
        StructField(headers.get(f.name, f.name), StringType() if text else f.dataType, True)
        for f in frame.schema.fields
    ]
    if text:
        fields.append(StructField(_ESCAPED, IntegerType(), False))
    schema = StructType(fields)

    def batches(parts: Iterator[Any]) -> Iterator[Any]:
        import pyarrow as pa
        from pyspark.sql.pandas.types import to_arrow_schema

        target = to_arrow_schema(schema)
        for batch in parts:
            got = pl.from_arrow(pa.Table.from_batches([batch]))
            assert isinstance(got, pl.DataFrame)
            rows, escaped = crm.export_rows(got, format=format, pseudonym_key=key)  # type: ignore[arg-type]
            if text:
                rows = _as_csv_text(rows).with_columns(escaped.alias(_ESCAPED))
            yield from rows.to_arrow().cast(target).to_batches()

    return frame.mapInArrow(batches, schema)


def _as_csv_text(frame: pl.DataFrame) -> pl.DataFrame:
    """Every column as the text Polars' CSV writer gives it (numbers as the embedded export
    writes them): the non-text columns written to CSV and read back as text."""
    other = [c for c, t in frame.schema.items() if t != pl.String]
    if not other:
        return frame
    written = frame.select(other).write_csv(quote_style="necessary")
    text = pl.read_csv(written.encode("utf-8"), infer_schema=False)
    return frame.with_columns(text.get_column(c) for c in other)


def _write(out: Any, target: str, format: str, max_rows: int | None) -> tuple[int, list[Path]]:
    """Write ``out`` to ``target`` (:func:`seglens.spark.sources.write_output`: through a staging
    copy, so a failed write keeps the earlier export); the cells escaped and the parts."""
    from pyspark.sql import Observation
    from pyspark.sql import functions as F  # noqa: N812 - the usual alias

    observed = Observation("seglens_export")
    if _ESCAPED in out.columns:
        out = out.observe(observed, F.sum(_ESCAPED).alias("escaped")).drop(_ESCAPED)
    else:
        out = out.observe(observed, F.count(F.lit(1)).alias("rows"))
    options: dict[str, Any] = dict(_CSV_OPTIONS) if format in _TEXT else {}
    if max_rows is not None:
        options["maxRecordsPerFile"] = max_rows
    kind: Literal["csv", "parquet"] = "csv" if format in _TEXT else "parquet"
    write_output(out, target, kind=kind, options=options, what="export")
    path = local_path(target)
    return int(observed.get.get("escaped") or 0), [] if path is None else sorted(
        path.glob("part-*")
    )
