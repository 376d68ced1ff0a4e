"""What each ``--engine spark`` command does, as plain functions the CLI calls.

Each reads its input with Spark (:mod:`seglens.spark.sources`), keeps the per-customer tables in
Spark, and brings to the driver only counts, the fit sample and the report.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, cast

import polars as pl

from seglens.errors import UsageError
from seglens.features.catalog import FEATURE_SETS, FeatureSet
from seglens.spark.connect import SparkSettings, open_spark
from seglens.spark.features import SparkFeatures, spark_features
from seglens.spark.fit import FitSample, draw_sample, fit_on_spark
from seglens.spark.sources import is_spark_source, read_source, write_output

__all__ = [
    "SegmentOnSpark",
    "features_on_spark",
    "read_lines",
    "segment_on_spark",
]


def read_lines(session: Any, source: str, columns: Mapping[str, str] | None) -> Any:
    """Canonical transaction lines as a Spark DataFrame.

    Parquet folders/files, ``table:`` and ``sql:`` sources are read by Spark and must hold
    canonical lines (``seglens ingest ... -o lines.parquet`` writes them; ``columns`` maps other
    names). Any other source (a raw CSV/Excel export, a database URL) is loaded and cleaned by the
    embedded loader, then handed to Spark.
    """
    if is_spark_source(source) and not _is_text(source):
        frame = read_source(session, source)
        if columns:
            frame = frame.withColumnsRenamed({src: canon for canon, src in columns.items()})
        return frame
    from seglens.io import load_transactions

    table = load_transactions(source, columns=dict(columns or {}) or None).table
    return session.createDataFrame(table.to_arrow()).localCheckpoint()


def _is_text(source: str) -> bool:
    lower = source.lower()
    return not source.startswith(("table:", "sql:")) and any(
        ext in lower for ext in (".csv", ".tsv", ".txt")
    )


def features_on_spark(
    settings: SparkSettings,
    source: str,
    output: str | None,
    *,
    as_of: str | None = None,
    columns: Mapping[str, str] | None = None,
    feature_set: str = "all",
) -> tuple[SparkFeatures, dict[str, Any]]:
    """Features computed and (when ``output``) written by Spark; a small summary."""
    if feature_set not in FEATURE_SETS:
        raise UsageError(f"unknown feature set {feature_set!r}", hint="use lifetimes, rfm or all")
    session = open_spark(settings)
    lines = read_lines(session, source, columns)
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
