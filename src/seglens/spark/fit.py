"""Fitting a segmenter on customers held in Spark: a stated, stratified sample, exact cut points.

**Sample size.** A k-means (or mixture) centre is the mean of its customers. On standardised
features (each of unit variance) the standard error of one coordinate of a centre is at most
``1 / sqrt(n_k)``, where ``n_k`` is the number of sampled customers in that segment. To pin every
coordinate of every centre within ``tolerance`` standard deviations at ``confidence``, the smallest
segment needs ``n_k >= (z / tolerance)^2`` customers, and when that segment holds a share
``min_share`` of the customers the sample needs ``n = ceil((z / tolerance)^2 / min_share)``.
The defaults (0.05 SD, 95 %, segments of at least 2 %) give 76,830 customers.

**Stratified draw.** Customers are stratified by purchase frequency (``n_orders`` or
``frequency`` in bands 1, 2-3, 4-7, 8-15, 16+ orders), and every stratum gets its proportional
share of the sample, so the heavy buyers - few, but far from the rest - are represented exactly
in proportion. Inside a stratum the customers with the smallest ``xxhash64(seed, customer_id)``
are taken: the draw is reproducible, independent of partitioning, and the same customers are
drawn again when the data grow. When the population is no larger than the sample, every customer
is used, so small data give exactly the embedded engine's fit.

**RFM cut points** are population quantiles, not sample ones: exact (Spark's ``percentile``,
the same linear interpolation as NumPy's default) up to ``exact_limit`` customers, above it
``approxQuantile`` with a stated relative error (rank error at most ``relative_error * N``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import polars as pl

from seglens.errors import DataError, UsageError
from seglens.stats import z_value

__all__ = [
    "FitSample",
    "draw_sample",
    "fit_on_spark",
    "rfm_edges",
    "sample_size",
]

DEFAULT_TOLERANCE_SD = 0.05
DEFAULT_MIN_SHARE = 0.02
DEFAULT_EXACT_LIMIT = 2_000_000
DEFAULT_RELATIVE_ERROR = 1e-4


def sample_size(
    *,
    tolerance_sd: float = DEFAULT_TOLERANCE_SD,
    min_share: float = DEFAULT_MIN_SHARE,
    confidence: float = 0.95,
) -> int:
    """Customers to sample so every centre coordinate is within ``tolerance_sd`` SDs.

    >>> sample_size()
    76830
    """
    if tolerance_sd <= 0 or not 0 < min_share <= 1:
        raise UsageError(
            f"the centre tolerance ({tolerance_sd}) must be positive and the smallest segment "
            f"share ({min_share}) between 0 and 1"
        )
    return math.ceil((z_value(confidence) / tolerance_sd) ** 2 / min_share)


@dataclass(frozen=True)
class FitSample:
    """The customers a model is fitted on, and how they were drawn."""

    table: pl.DataFrame
    """The sampled customers' features, sorted by ``customer_id`` (as the embedded table)."""
    population: int
    target: int
    strata: dict[str, tuple[int, int]]
    """Stratum -> (customers, sampled)."""
    seed: int

    @property
    def everyone(self) -> bool:
        """Whether the sample is the whole population (the fit is the embedded one)."""
        return self.table.height == self.population


def _band(sdf: Any) -> Any:
    from pyspark.sql import functions as F  # noqa: N812

    col = "n_orders" if "n_orders" in sdf.columns else "frequency"
    orders = F.col(col) + (0 if col == "n_orders" else 1)
    bands = F.least(F.floor(F.log2(F.greatest(orders, F.lit(1)))), F.lit(4)).cast("int")
    return F.concat(F.lit(f"{col}:"), bands.cast("string"))


def draw_sample(features: Any, target: int, *, seed: int = 0) -> FitSample:
    """Draw ``target`` customers from a Spark feature table, stratified by frequency band."""
    from pyspark.sql import Window
    from pyspark.sql import functions as F  # noqa: N812

    banded = features.withColumn("_stratum", _band(features))
    sizes = {str(s): int(n) for s, n in banded.groupBy("_stratum").count().collect()}
    population = sum(sizes.values())
    if population == 0:
        raise DataError("no customer to fit on: the feature table is empty")
    if population <= target:
        table = _collect(features)
        return FitSample(table, population, target, {s: (n, n) for s, n in sizes.items()}, seed)
    want = {s: max(1, round(target * n / population)) for s, n in sizes.items()}
    keep = {s: min(1.0, (want[s] + 5 * math.sqrt(want[s]) + 10) / n) for s, n in sizes.items()}
    u = (F.abs(F.xxhash64(F.lit(seed), F.col("customer_id").cast("string"))) % (1 << 52)) / float(
        1 << 52
    )
    cond = F.lit(False)
    for s, p in keep.items():
        cond = cond | ((F.col("_stratum") == s) & (F.col("_u") < p))
    rank = F.row_number().over(Window.partitionBy("_stratum").orderBy("_u", "customer_id"))
    limit = F.create_map(*[x for s, n in want.items() for x in (F.lit(s), F.lit(n))])
    drawn = (
        banded.withColumn("_u", u)
        .filter(cond)
        .withColumn("_rank", rank)
        .filter(F.col("_rank") <= limit[F.col("_stratum")])
    )
    got = {str(s): int(n) for s, n in drawn.groupBy("_stratum").count().collect()}
    table = _collect(drawn.drop("_stratum", "_u", "_rank"))
    strata = {s: (n, got.get(s, 0)) for s, n in sizes.items()}
    return FitSample(table, population, target, strata, seed)


def _collect(sdf: Any) -> pl.DataFrame:
    out = pl.from_arrow(sdf.toArrow())
    assert isinstance(out, pl.DataFrame)
    return out.sort("customer_id")


def rfm_edges(
    features: Any,
    columns: list[str],
    n_bins: int,
    *,
    population: int,
    exact_limit: int = DEFAULT_EXACT_LIMIT,
    relative_error: float = DEFAULT_RELATIVE_ERROR,
) -> tuple[list[list[float]], str]:
    """Population quantile cut points of ``columns`` computed in Spark; and how (for the log)."""
    from pyspark.sql import functions as F  # noqa: N812

    q = [float(x) for x in np.arange(1, n_bins) / n_bins]
    if population <= exact_limit:
        row = features.select(
            *[F.percentile(F.col(c).cast("double"), F.array(*map(F.lit, q))) for c in columns]
        ).first()
        return [[float(v) for v in row[i]] for i in range(len(columns))], "exact"
    approx = features.approxQuantile([*columns], q, relative_error)
    return [[float(v) for v in edges] for edges in approx], f"approx, rel. error {relative_error:g}"


def fit_on_spark(model: Any, features: Any, sample: FitSample) -> tuple[Any, str]:
    """Fit ``model`` on the sample; an RFM model gets the population's cut points.

    Returns the fitted model and a sentence on how it was fitted.
    """
    model.fit(sample.table)
    how = f"fitted on {sample.table.height:,} of {sample.population:,} customers"
    if sample.everyone:
        return model, how + " (all of them)"
    if hasattr(model, "edges_"):
        edges, kind = rfm_edges(
            features, list(model.columns), int(model.n_bins), population=sample.population
        )
        names = list(model.edges_)
        model.edges_ = dict(zip(names, edges, strict=True))
        model.labels_ = model.predict(sample.table)
        how += f"; RFM cut points from all customers ({kind})"
    return model, how
