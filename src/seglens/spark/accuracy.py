"""The KPI of a segmentation held in Spark: labels joined in Spark, the report by the kernel.

Labels are few (people reviewed them); segmentations may be huge. The labels are read and
reduced to the latest label per customer with the embedded code (:func:`seglens.accuracy.align.
align_labels`, so blank and superseded rows count the same), sent to Spark, and joined there with
the assignments. Spark returns only: the customers per segment, and the segment x label counts
(the contingency table) - or, when the segment -> label mapping is learnt from the labels, the
matched pairs in label order, which cross-fitting needs. The report is then
:func:`seglens.accuracy.accuracy_report` on those counts: the same statistics kernel, the same
figures and intervals as the embedded engine.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np
import polars as pl

from seglens.accuracy import SegmentRule, accuracy_report
from seglens.accuracy.align import Aligned, align_labels
from seglens.accuracy.report import AccuracyReport
from seglens.errors import DataError
from seglens.settings import DEFAULT_SETTINGS

__all__ = ["segment_sizes", "spark_accuracy_report"]

_DECLARED = ("names",)


def _latest_labels(labels: pl.DataFrame) -> Aligned:
    """The latest non-blank label per customer, in label order (the embedded definition)."""
    ids = labels.select(pl.col("customer_id").cast(pl.String)).drop_nulls().unique()
    return align_labels(ids.with_columns(pl.lit("-").alias("segment")), labels)


def segment_sizes(assignments: Any) -> dict[str, int]:
    """Customers per segment; a segmentation without ids, segments or with repeats refused."""
    from pyspark.sql import functions as F  # noqa: N812

    rows = (
        assignments.groupBy(F.col("segment").cast("string").alias("s"))
        .agg(
            F.count(F.lit(1)).alias("n"),
            F.count("customer_id").alias("ids"),
            F.countDistinct("customer_id").alias("distinct"),
        )
        .collect()
    )
    sizes = {r["s"]: int(r["n"]) for r in rows}
    if None in sizes:
        raise DataError(
            f"{sizes[None]} customer(s) have no segment in the segmentation",
            column="segment",
            hint="give every customer a segment (e.g. 'unassigned') or remove those rows",
        )
    no_id = sum(int(r["n"]) - int(r["ids"]) for r in rows)
    if no_id:
        raise DataError(
            f"the segmentation has {no_id} row(s) without a customer id", column="customer_id"
        )
    distinct = int(assignments.select(F.countDistinct("customer_id")).first()[0])
    if distinct != sum(sizes.values()):
        raise DataError(
            f"{sum(sizes.values()) - distinct} row(s) of the segmentation repeat a customer id",
            column="customer_id",
            hint="a segmentation puts each customer in exactly one segment",
        )
    return sizes


def _matched(assignments: Any, latest: Aligned) -> Any:
    from pyspark.sql import functions as F  # noqa: N812

    session = assignments.sparkSession
    order = pl.DataFrame(
        {
            "customer_id": latest.customer_id.astype(str),
            "_label": latest.y_true.astype(str),
            "_order": np.arange(latest.customer_id.size, dtype=np.int64),
        }
    )
    lab = session.createDataFrame(order.to_arrow())
    seg = assignments.select(
        F.col("customer_id").cast("string").alias("customer_id"),
        F.col("segment").cast("string").alias("_assigned"),
    )
    return seg.join(F.broadcast(lab), on="customer_id", how="inner")


def spark_accuracy_report(
    assignments: Any,
    labels: pl.DataFrame,
    *,
    match: str = "names",
    confidence: float = DEFAULT_SETTINGS.confidence,
    rule: SegmentRule | None = None,
    sizes: dict[str, int] | None = None,
) -> AccuracyReport:
    """:func:`seglens.accuracy.accuracy_report_from_tables` for assignments held in Spark.

    ``assignments`` is a Spark DataFrame (``customer_id``, ``segment``, one row per customer);
    ``labels`` the loaded labels table (``customer_id``, ``segment``, optional ``labeled_at``);
    ``sizes`` the customers per segment when already counted (:func:`segment_sizes`).
    """
    latest = _latest_labels(labels)
    sizes = segment_sizes(assignments) if sizes is None else sizes
    n_customers = sum(sizes.values())
    matched = _matched(assignments, latest)
    if match in _DECLARED:
        counts = matched.groupBy("_label", "_assigned").count().collect()
        pairs = sorted((r["_label"], r["_assigned"], int(r["count"])) for r in counts)
        y_true = np.array([p[0] for p in pairs for _ in range(p[2])], dtype=object)
        y_pred = np.array([p[1] for p in pairs for _ in range(p[2])], dtype=object)
    else:
        rows = matched.orderBy("_order").select("_label", "_assigned").collect()
        y_true = np.array([r["_label"] for r in rows], dtype=object)
        y_pred = np.array([r["_assigned"] for r in rows], dtype=object)
    n = int(y_true.size)
    if n == 0:
        raise DataError(
            "no labelled customer is in the segmentation: there is nothing to compare",
            hint="check that both files use the same customer ids (leading zeros, prefixes)",
        )
    coverage = replace(
        latest.coverage,
        n_customers=n_customers,
        n_matched=n,
        n_labels_unknown_customer=latest.coverage.n_labelled_customers - n,
        n_customers_without_label=n_customers - n,
    )
    return accuracy_report(
        y_true, y_pred, match=match, confidence=confidence, rule=rule, coverage=coverage
    )
