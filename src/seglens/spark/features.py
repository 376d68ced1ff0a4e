"""Customer features computed in Spark and kept there (the one definition, not collected).

:func:`seglens.features.customer_features` with ``engine="spark"`` runs the definition on Spark
but collects the customer table to the driver. :func:`spark_features` runs the same steps and
returns the lazy Spark DataFrame, so features stay on the executors until Spark writes them or
the next stage (sampling, scoring, the KPI's counts) reads them. Only three small queries reach
the driver: the latest timestamp (when ``as_of`` is not given), which optional columns hold
values, and the distinct channels.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import narwhals as nw

from seglens.errors import UsageError
from seglens.features._cutoff import AsOf, resolve_cutoff
from seglens.features._input import (
    canonical_lines,
    channel_columns,
    drop_empty_optional,
    latest_timestamp,
)
from seglens.features.api import OPTIONAL_FEATURES
from seglens.features.catalog import FEATURE_SETS, FeatureSet
from seglens.features.definition import ChannelColumn, feature_frame

__all__ = ["SparkFeatures", "spark_features"]


@dataclass(frozen=True)
class SparkFeatures:
    """Per-customer features as a lazy Spark DataFrame, and how they were made."""

    frame: Any
    """One row per customer (``customer_id`` first); a pyspark DataFrame, not yet computed."""
    as_of: dt.datetime
    omitted: list[str] = field(default_factory=list)
    channels: list[str] = field(default_factory=list)


def spark_features(
    lines: Any,
    *,
    as_of: AsOf = None,
    feature_set: FeatureSet = "all",
    columns: Mapping[str, str] | None = None,
) -> SparkFeatures:
    """Features of canonical transaction lines held in a Spark DataFrame, left in Spark.

    The columns and values equal :func:`seglens.features.customer_features` on the same lines
    (the same Narwhals definition runs on both engines; the tests compare them to 1e-9).
    """
    if feature_set not in FEATURE_SETS:
        raise UsageError(
            f"unknown feature set {feature_set!r}", hint=f"use one of {', '.join(FEATURE_SETS)}"
        )
    frame = canonical_lines(nw.from_native(lines), columns)
    cutoff = resolve_cutoff(as_of, None if as_of is not None else latest_timestamp(frame))
    omitted: list[str] = []
    channels: list[ChannelColumn] = []
    if feature_set == "all":
        frame = drop_empty_optional(frame)
        present = set(frame.collect_schema().names())
        omitted = [f for col, fs in OPTIONAL_FEATURES.items() if col not in present for f in fs]
        channels = [ChannelColumn(v, c) for v, c in channel_columns(frame, cutoff.end)]
    out = feature_frame(frame, cutoff, feature_set=feature_set, channels=channels)
    return SparkFeatures(out.to_native(), cutoff.as_of, omitted, [c.value for c in channels])
