"""The audit sample of a segmentation held in Spark (``seglens audit-sample --engine spark``).

Only the customers per segment and the drawn customers reach the driver. The plan is
:func:`seglens.audit.plan_audit` on those counts and the draw is
:func:`seglens.audit.sampling.draw_positions` - positions among each segment's ids sorted by
``customer_id`` - so one seed audits exactly the customers the embedded engine audits.

Finding the customer at a position needs each customer's rank within its segment. A window
``row_number() OVER (PARTITION BY segment ORDER BY customer_id)`` would sort each segment in one
task (as many tasks as segments, the largest segment on one core). Instead the table is sorted by
``(segment, customer_id)`` across all shuffle partitions, each row numbered within its partition
(``monotonically_increasing_id``), and the driver turns the counts per (partition, segment) - a
few hundred rows - into the id of each drawn position. The sorted table is checkpointed once
(executor memory and disk, the size of the two columns) so both passes see the same partitions.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import numpy as np

from seglens.audit.sampling import AuditPlan, audit_sheet, draw_positions
from seglens.errors import DataError

__all__ = ["ranked_segments", "spark_draw_audit_sample"]

_LOCAL = (1 << 33) - 1  # monotonically_increasing_id: partition index << 33 | row in partition


def ranked_segments(assignments: Any, source: str) -> tuple[Any, dict[str, int]]:
    """The segmentation sorted and numbered for the draw, and its customers per segment.

    The first is a checkpointed Spark table (``customer_id``, ``segment`` as text, ``_row``) for
    :func:`spark_draw_audit_sample`; the second is sorted by segment name, as the embedded
    command plans. The checks (rows without a segment or id, repeated ids:
    :func:`seglens.spark.accuracy.segment_sizes`; an empty segmentation) run on the checkpoint,
    so the source is read once (plus the sort's sampling pass).
    """
    from pyspark.sql import functions as F  # noqa: N812

    from seglens.spark.accuracy import segment_sizes

    ranked = (
        assignments.select(
            F.col("customer_id").cast("string").alias("customer_id"),
            F.col("segment").cast("string").alias("segment"),
        )
        .orderBy("segment", "customer_id")
        .withColumn("_row", F.monotonically_increasing_id())
        .localCheckpoint(eager=True)
    )
    sizes = segment_sizes(ranked)
    if not sizes:
        raise DataError(
            "the segmentation has no rows",
            source=source,
            hint="check the query or table: audit-sample needs one row per customer",
        )
    return ranked, dict(sorted(sizes.items()))


def _rows_of(ranked: Any, plan: AuditPlan, positions: list[np.ndarray]) -> list[int]:
    """The ``_row`` number of every drawn position, from the rows per (partition, segment)."""
    from pyspark.sql import functions as F  # noqa: N812

    blocks = (
        ranked.groupBy(F.shiftright("_row", 33).alias("part"), "segment")
        .agg(F.count(F.lit(1)).alias("n"), F.min("_row").alias("first"))
        .collect()
    )
    spans: dict[str, list[tuple[int, int, int]]] = defaultdict(list)  # segment: (part, n, first)
    for b in blocks:
        spans[b["segment"]].append((int(b["part"]), int(b["n"]), int(b["first"])))
    rows: list[int] = []
    for s, pos in zip(plan.strata, positions, strict=True):
        ordered = sorted(spans.get(s.segment, []))
        starts = np.cumsum([0] + [n for _, n, _ in ordered])
        if starts[-1] != s.population:
            raise DataError(
                f"segment {s.segment!r} has {starts[-1]} customers but the plan says "
                f"{s.population}",
                hint="the source changed while it was read; draw again",
            )
        block = np.searchsorted(starts, pos, side="right") - 1
        rows.extend(int(ordered[b][2] + p - starts[b]) for b, p in zip(block, pos, strict=True))
    return rows


def spark_draw_audit_sample(ranked: Any, plan: AuditPlan, *, random_state: int = 0) -> Any:
    """The audit sheet (a Polars frame) of a segmentation ranked by :func:`ranked_segments`.

    The same sheet as :func:`seglens.audit.draw_audit_sample` on the same customers and seed;
    only the drawn rows are collected.
    """
    from pyspark.sql import functions as F  # noqa: N812

    if "_row" not in ranked.columns:
        raise TypeError("spark_draw_audit_sample takes the table ranked_segments returns")
    positions = draw_positions(plan, random_state)
    rows = _rows_of(ranked, plan, positions)
    wanted = ranked.sparkSession.createDataFrame([(r,) for r in rows], "_row long")
    got = ranked.join(F.broadcast(wanted), "_row").select("_row", "customer_id").collect()
    by_row = {int(r["_row"]): r["customer_id"] for r in got}
    picked, i = [], 0
    for s in plan.strata:
        picked.append(np.array([by_row.get(r) for r in rows[i : i + s.sample]], dtype=object))
        i += s.sample
    if len(by_row) != len(rows):
        raise DataError(
            f"{len(rows) - len(by_row)} drawn customer(s) were not found again in the source",
            hint="the source changed while it was read; draw again",
        )
    return audit_sheet(plan, picked)
