"""What each ``--engine spark`` command does, as plain functions the CLI calls.

Each reads its input with Spark (:mod:`seglens.spark.sources`), keeps the per-customer tables in
Spark, and brings to the driver only counts, the fit sample and the report.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast
from urllib.parse import urlparse

import polars as pl

from seglens.errors import UsageError
from seglens.features.catalog import FEATURE_SETS, FeatureSet
from seglens.io.spark_cleaning import SparkCleaned
from seglens.spark.connect import SparkSettings, open_spark
from seglens.spark.features import SparkFeatures, spark_features
from seglens.spark.fit import FitSample, draw_sample, fit_on_spark
from seglens.spark.sources import (
    describe,
    is_spark_source,
    kind_of,
    local_path,
    read_source,
    write_output,
)

__all__ = [
    "SegmentOnSpark",
    "features_on_spark",
    "ingest_on_spark",
    "read_lines",
    "segment_on_spark",
]


def read_lines(
    session: Any,
    source: str,
    columns: Mapping[str, str] | str | None,
    *,
    config: Any = None,
    delimiter: str | None = None,
    **options: Any,
) -> SparkCleaned:
    """Transactions of ``source`` cleaned on Spark: the canonical lines and the cleaning report.

    CSV/TSV files are read by :func:`seglens.io.spark_reading.read_spark_text`; Parquet,
    ``table:`` and ``sql:`` by Spark; then :func:`seglens.io.spark_cleaning.clean_on_spark`
    applies the embedded engine's cleaning rules (one definition; an already canonical table
    passes unchanged). ``config`` and ``options`` are the ingest config file and options
    (``as_of``, ``drop_duplicates`` ...). Any other source (Excel, a database URL) is loaded by
    the embedded loader and handed over.
    """
    from seglens.io.spark_cleaning import clean_on_spark
    from seglens.io.spark_reading import read_spark_text

    if not is_spark_source(source):
        from seglens.io import load_transactions

        kw = {"columns": columns or None, "config": config, "delimiter": delimiter}
        loaded = load_transactions(source, **kw, **options)
        frame = session.createDataFrame(loaded.table.to_arrow()).localCheckpoint()
        return SparkCleaned(frame, loaded.report)
    text = _text_file(source)
    if text is not None:
        raw = read_spark_text(session, text, delimiter=delimiter)
    else:
        raw = read_source(session, source)
    return clean_on_spark(
        raw, source=describe(source), columns=columns or None, config=config, **options
    )


_NOT_ON_SPARK = {
    "sheet": "--sheet (Excel is read by the embedded loader)",
    "table": "--table (write table:db.name instead)",
    "query": '--query (write "sql:SELECT ..." instead)',
    "encoding": "--encoding (the Spark reader sniffs UTF-8 or Windows-1252 itself)",
}


def spark_options(source: str, keywords: Mapping[str, Any]) -> dict[str, Any]:
    """The ingest options given (as :func:`seglens.io.load_transactions` takes them) that Spark
    cleaning uses; those only the embedded loader has are refused with what to write instead."""
    opts = {k: v for k, v in keywords.items() if v is not None and k != "max_bytes"}
    refused = [_NOT_ON_SPARK[k] for k in opts if k in _NOT_ON_SPARK]
    if refused and is_spark_source(source):
        raise UsageError(
            f"{', '.join(refused)}: not used with --engine spark",
            hint="leave it out; see docs/spark.md for what Spark reads",
        )
    return opts


def ingest_on_spark(
    settings: SparkSettings,
    source: str,
    output: str | None,
    *,
    as_of: str | None,
    keywords: Mapping[str, Any],
) -> tuple[SparkCleaned, str | None]:
    """``seglens ingest --engine spark``: clean on Spark, write the canonical lines there.

    ``keywords`` are the ingest options as :func:`seglens.io.load_transactions` takes them;
    those that only the embedded loader has are refused with what to write instead.
    """
    opts = spark_options(source, keywords)
    session = open_spark(settings)
    columns = opts.pop("columns", None)
    cleaned = read_lines(session, source, columns, as_of=as_of, **opts)
    where = None if output is None else write_output(cleaned.table, output)
    return cleaned, where


def _text_file(source: str) -> Path | None:
    """The local CSV/TSV file ``source`` names (a path or a ``file:`` URI), read with the
    embedded reader's sniffing; None for Parquet, a folder, a table or a query.

    A CSV/TSV at a cluster URI is refused: the sniffing (encoding, delimiter, header, date
    order) needs the file here, and Spark alone would read it as UTF-8 with commas.
    """
    if source.startswith(("table:", "sql:")):
        return None
    path = local_path(source)
    if path is None:  # s3a://, hdfs://, abfss://, gs://, dbfs:/, file://otherhost/
        if kind_of(Path(urlparse(source).path)) not in (None, "parquet"):
            raise UsageError(
                "the spark engine reads CSV/TSV only from local files: at a cluster URI "
                "its encoding, delimiter and header could not be checked",
                source=source,
                hint="convert it to Parquet (seglens ingest FILE -o lines.parquet), or create a "
                "table over the files with Spark SQL, e.g. CREATE TABLE db.lines USING csv "
                "OPTIONS (path 'URI', header 'true', sep ';', encoding 'UTF-8'), and read "
                "table:db.lines",
            )
        return None
    return path if path.is_file() and kind_of(path) not in (None, "parquet") else None


def features_on_spark(
    settings: SparkSettings,
    source: str,
    output: str | None,
    *,
    as_of: str | None = None,
    columns: Mapping[str, str] | None = None,
    feature_set: str = "all",
    keywords: Mapping[str, Any] | None = None,
) -> tuple[SparkFeatures, dict[str, Any]]:
    """Features computed and (when ``output``) written by Spark; a small summary.

    ``keywords``: the ingest options (:func:`spark_options`) the lines are cleaned with.
    """
    if feature_set not in FEATURE_SETS:
        raise UsageError(f"unknown feature set {feature_set!r}", hint="use lifetimes, rfm or all")
    opts = spark_options(source, keywords or {})
    opts.pop("columns", None)  # ``columns`` is the mapping given above
    session = open_spark(settings)
    lines = read_lines(session, source, columns, as_of=as_of, **opts).table
    feats = spark_features(lines, as_of=as_of, feature_set=cast(FeatureSet, feature_set))
    summary: dict[str, Any] = {"columns": list(feats.frame.columns), "as_of": feats.as_of}
    if output is not None:
        ordered = feats.frame.orderBy("customer_id")
        summary["output"] = write_output(ordered, output)
    return feats, summary


@dataclass
class SegmentOnSpark:
    """A segmentation made on Spark: the model, its fit sample and the lazy assignments."""

    model: Any
    sample: FitSample
    how: str
    assignments: Any
    """Every customer's segment (Spark DataFrame, computed by the executors)."""
    sizes: dict[str, int] = field(default_factory=dict)


def segment_on_spark(
    features: Any,
    model: Any,
    *,
    sample_target: int,
    seed: int = 0,
) -> SegmentOnSpark:
    """Fit ``model`` on a stratified sample of a Spark feature table and score everyone."""
    from seglens.segmenters.spark import assign_spark

    features = features.localCheckpoint()
    sample = draw_sample(features, sample_target, seed=seed)
    fitted, how = fit_on_spark(model, features, sample)
    assigned = assign_spark(fitted, features)
    return SegmentOnSpark(fitted, sample, how, assigned)


def segment_sizes(assignments: Any) -> dict[str, int]:
    """Customers per segment (one aggregate query)."""
    rows = assignments.groupBy("segment").count().collect()
    return {str(r["segment"]): int(r["count"]) for r in rows}


def as_of_date(value: dt.datetime) -> dt.date:
    """The calendar day of a cut-off."""
    return value.date()


def to_polars(sdf: Any) -> pl.DataFrame:
    """A (small) Spark result as Polars, through Arrow."""
    out = pl.from_arrow(sdf.toArrow())
    assert isinstance(out, pl.DataFrame)
    return out
