"""One tracking step with the per-customer work on Spark (``seglens track --engine spark``).

The same step as :func:`seglens.tracking.track`: segment the customers as of a date, store the
run, import labels, measure the period's KPI and compare it. Features, the fit sample, scoring,
each customer's revenue in the period and the *segment hold* proxy's counts are computed in
Spark; the KPI, its interval, the comparison and the alerts come from the embedded code
(:func:`seglens.tracking.measure.measure_run` over the store), so they are the same figures.
The store keeps every customer's segment of a run, as on the embedded engine: those rows (and
the feature rows) are collected to be written.
"""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any

from seglens.errors import DataError
from seglens.spark.commands import segment_on_spark, to_polars
from seglens.spark.features import spark_features
from seglens.store import Store
from seglens.tracking.alerts import AlertRules
from seglens.tracking.periods import Period, period_of
from seglens.tracking.track import LabelsInput, TrackResult, _end_of, _fresh, record_step

__all__ = ["check_lines_as_of", "spark_data_hash", "track_on_spark"]


def spark_data_hash(lines: Any) -> str:
    """An order-independent content hash of the lines (Spark keeps no row order): ``spark:``,
    the sum of the rows' 64-bit hashes modulo 2**64 and the row count, in hex."""
    from pyspark.sql import functions as F  # noqa: N812

    h = F.xxhash64(*[F.col(c) for c in lines.columns])
    row = lines.select(F.sum(h.cast("decimal(38,0)")).alias("s"), F.count(F.lit(1))).first()
    return f"spark:{int(row[0] or 0) % 2**64:016x}:{int(row[1]):x}"


def check_lines_as_of(lines: Any, end: datetime) -> None:
    """Refuse an as-of date before the first transaction, as the embedded ``check_as_of``."""
    from pyspark.sql import functions as F  # noqa: N812

    first = lines.select(F.min("timestamp")).first()[0]
    if not isinstance(first, datetime) or first > end:
        when = f"the first is on {first:%Y-%m-%d}" if isinstance(first, datetime) else "none"
        raise DataError(
            f"no transaction on or before the as-of date {end:%Y-%m-%d} ({when})",
            hint="choose an --as-of date on or after the first transaction",
        )


def _hold(lines: Any, now: Any, segmenter: Any, period: Period, sample: int) -> tuple[int, int]:
    """Segment hold counts: fit on the previous period's features, re-assign now, count held."""
    from pyspark.sql import functions as F  # noqa: N812

    before_end = datetime.combine(period.previous().end, time.max)
    if lines.filter(F.col("timestamp") <= F.lit(before_end)).limit(1).count() == 0:
        return 0, 0
    before = spark_features(lines, as_of=before_end).frame.localCheckpoint()
    common = before.select("customer_id").join(now.select("customer_id"), "customer_id")
    fitted = segment_on_spark(before, _fresh(segmenter), sample_target=sample).model
    from seglens.segmenters.spark import assign_spark

    a = assign_spark(fitted, before.join(common, "customer_id")).select("customer_id", "segment")
    b = assign_spark(fitted, now.join(common, "customer_id")).select(
        "customer_id", F.col("segment").alias("now")
    )
    row = (
        a.join(b, "customer_id")
        .select(F.sum((F.col("segment") == F.col("now")).cast("long")), F.count(F.lit(1)))
        .first()
    )
    return int(row[0] or 0), int(row[1])


def track_on_spark(
    store: Store,
    lines: Any,
    *,
    as_of: date | datetime,
    segmenter: Any = None,
    labels: LabelsInput | None = None,
    period_kind: str = "quarter",
    policy: Any = "latest",
    rules: AlertRules | None = None,
    carry: Any = None,
    sample: int,
) -> TrackResult:
    """:func:`seglens.tracking.track` for canonical lines held in a Spark DataFrame."""
    from pyspark.sql import functions as F  # noqa: N812

    end = _end_of(as_of)
    check_lines_as_of(lines, end)
    period = period_of(end, period_kind)
    seen = lines.filter(F.col("timestamp") <= F.lit(end))
    features = spark_features(lines, as_of=end).frame.localCheckpoint()
    res = segment_on_spark(features, _fresh(segmenter), sample_target=sample)
    start = datetime.combine(period.start, time.min)
    revenue = (
        seen.filter(F.col("timestamp") >= F.lit(start))
        .groupBy(F.col("customer_id").cast("string").alias("customer_id"))
        .agg(F.sum("amount").alias("revenue"))
    )
    assigned = to_polars(
        res.assignments.select("customer_id", F.col("segment").cast("string").alias("segment"))
        .join(revenue, "customer_id", "left")
        .fillna({"revenue": 0.0})
    ).sort("customer_id")
    held, n = _hold(lines, features, segmenter, period, sample)
    return record_step(
        store,
        assigned,
        model=res.model,
        features=to_polars(features).sort("customer_id"),
        as_of=end,
        period=period,
        data_hash=spark_data_hash(seen),
        labels=labels,
        hold=(held, n) if n else None,
        period_kind=period_kind,
        policy=policy,
        rules=rules,
        carry=carry,
    )
