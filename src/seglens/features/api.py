"""``customer_features``: transactions in, one row per customer out, on the chosen engine."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, cast

import narwhals as nw
import polars as pl

from seglens import _html
from seglens.errors import UsageError
from seglens.features._cutoff import AsOf, Cutoff, resolve_cutoff
from seglens.features._input import (
    ENGINES,
    Engine,
    canonical_lines,
    channel_columns,
    drop_empty_optional,
    latest_timestamp,
    native_on_engine,
    source_engine,
)
from seglens.features.catalog import FEATURE_SETS, FeatureSet
from seglens.features.definition import ChannelColumn, feature_frame
from seglens.features.demographics import DemographicsReport, join_demographics

__all__ = ["FeatureTable", "customer_features"]

log = logging.getLogger(__name__)

OPTIONAL_FEATURES: Mapping[str, tuple[str, ...]] = {
    "product_id": ("n_products",),
    "category": ("n_categories", "top_category_share"),
    "channel": ("channel_share_<channel>",),
}


@dataclass
class FeatureTable:
    """Customer features and how they were made.

    Attributes
    ----------
    table
        One row per customer (``customer_id`` first), Polars.
    as_of
        The inclusive cut-off used (lines after it were ignored).
    engine
        The engine that computed the features (``polars``, ``duckdb`` or ``spark``).
    omitted
        Features left out because their source column is absent.
    channels
        Channel values that became ``channel_share_<channel>`` columns.
    demographics
        What joining the customers table did (None without one).
    """

    table: pl.DataFrame
    as_of: dt.datetime
    engine: str
    omitted: list[str] = field(default_factory=list)
    channels: list[str] = field(default_factory=list)
    demographics: DemographicsReport | None = None

    def _repr_html_(self) -> str:
        """Notebook view: customers and features, the cut-off and engine, the first rows."""
        facts: list[tuple[str, object]] = [
            ("n", f"{self.table.height:,} customers"),
            ("features", self.table.width - 1),
            ("as_of", self.as_of),
            ("engine", self.engine),
        ]
        if self.omitted:
            facts.append(("omitted", ", ".join(self.omitted)))
        return _html.card("FeatureTable", facts, _html.frame_table(self.table))


def _pick_engine(transactions: object, engine: str) -> Engine:
    if engine not in ENGINES:
        raise UsageError(f"unknown engine {engine!r}", hint=f"use one of {', '.join(ENGINES)}")
    chosen = engine if engine != "auto" else source_engine(transactions)
    return cast(Engine, chosen)


def customer_features(
    transactions: object,
    *,
    as_of: AsOf = None,
    feature_set: FeatureSet = "all",
    customers: object | None = None,
    columns: Mapping[str, str] | None = None,
    engine: Engine = "auto",
    spark: Any = None,
    fast: bool = True,
) -> FeatureTable:
    """Compute per-customer features from transaction lines.

    Parameters
    ----------
    transactions
        Canonical transaction lines (see :data:`seglens.tables.TRANSACTIONS`): a Polars or pandas
        DataFrame / LazyFrame, a DuckDB relation, a Spark DataFrame, a Parquet path, or the
        :class:`~seglens.io.LoadedTable` that :func:`seglens.io.load_transactions` returns.
    as_of
        Cut-off: a date includes its whole day, a date-time includes lines up to that moment.
        Lines after it are ignored. Default: the day of the latest transaction.
    feature_set
        ``"lifetimes"`` (frequency, recency, T, monetary_value), ``"rfm"`` (plus the marketer's
        RFM) or ``"all"``.
    customers
        Optional customers table (``customer_id`` plus demographics) to join and encode; a frame
        or a :class:`~seglens.io.LoadedTable`.
    columns
        Canonical name -> source column name, for inputs not already canonical.
    engine
        ``"auto"`` (where the data lives: Spark for Spark, DuckDB for DuckDB, else Polars),
        ``"polars"``, ``"duckdb"`` or ``"spark"``.
    spark
        The Spark session for ``engine="spark"`` (default: the active one, or a local one).
    fast
        On Polars, use the tuned query (checked against the definition by the tests).

    Returns
    -------
    FeatureTable
        ``table`` has one row per customer with a purchase at or before ``as_of``.

    Examples
    --------
    >>> import datetime as dt, polars as pl
    >>> day = lambda d: dt.datetime(2024, 1, d)
    >>> lines = pl.DataFrame({
    ...     "customer_id": ["a", "a", "b"], "order_id": ["1", "2", "3"],
    ...     "timestamp": [day(1), day(11), day(5)], "amount": [10.0, 30.0, 5.0]})
    >>> customer_features(lines, as_of="2024-01-31", feature_set="lifetimes").table.rows()
    [('a', 1.0, 10.0, 30.0, 30.0), ('b', 0.0, 0.0, 26.0, 0.0)]
    """
    if feature_set not in FEATURE_SETS:
        raise UsageError(
            f"unknown feature set {feature_set!r}", hint=f"use one of {', '.join(FEATURE_SETS)}"
        )
    chosen = _pick_engine(transactions, engine)
    native = native_on_engine(transactions, chosen, spark)
    lines = canonical_lines(nw.from_native(native), columns)
    cutoff = resolve_cutoff(as_of, None if as_of is not None else latest_timestamp(lines))
    omitted: list[str] = []
    channels: list[ChannelColumn] = []
    if feature_set == "all":
        lines = drop_empty_optional(lines)
        present = set(lines.collect_schema().names())
        omitted = [f for col, fs in OPTIONAL_FEATURES.items() if col not in present for f in fs]
        channels = [ChannelColumn(v, c) for v, c in channel_columns(lines, cutoff.end)]
    log.info("features on %s, as_of %s, set %s", chosen, cutoff.as_of, feature_set)
    table = _compute(lines, cutoff, feature_set, channels, chosen, fast)
    report = None
    if customers is not None:
        table, report = join_demographics(table, customers)
    return FeatureTable(
        table=table,
        as_of=cutoff.as_of,
        engine=chosen,
        omitted=omitted,
        channels=[c.value for c in channels],
        demographics=report,
    )


def _compute(
    lines: nw.LazyFrame[Any],
    cutoff: Cutoff,
    feature_set: FeatureSet,
    channels: list[ChannelColumn],
    engine: str,
    fast: bool,
) -> pl.DataFrame:
    if engine == "polars" and fast:
        from seglens.features._fast import fast_features

        native = lines.to_native()
        assert isinstance(native, pl.LazyFrame)
        return fast_features(native, cutoff, feature_set, channels)
    frame = feature_frame(lines, cutoff, feature_set=feature_set, channels=channels)
    out = frame.collect(backend="polars").to_native()
    assert isinstance(out, pl.DataFrame)
    return out.sort("customer_id")
