"""Segment migration between two runs: who moved where, and how much revenue moved with them."""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from seglens.errors import UsageError

__all__ = ["GONE", "NEW", "MigrationMatrix", "migration_matrix"]

NEW = "(new)"
"""Row label for customers only in the later run."""
GONE = "(gone)"
"""Column label for customers only in the earlier run."""


@dataclass(frozen=True)
class MigrationMatrix:
    """Customers and revenue moved between the segments of two runs.

    Attributes
    ----------
    flows
        Long table: ``from_segment``, ``to_segment``, ``customers``, ``revenue``. Revenue is the
        customer's revenue in the *later* run's window (for ``(gone)`` customers: the earlier
        run's), so a row says how much current business sits on that move.
    stability
        Per earlier segment: the share of its customers (present in both runs) still in it.
    """

    flows: pl.DataFrame
    stability: dict[str, float]

    def wide(self, values: str = "customers") -> pl.DataFrame:
        """The matrix with earlier segments as rows and later segments as columns.

        Examples
        --------
        >>> a = pl.DataFrame({"customer_id": ["1", "2"], "segment": ["A", "A"]})
        >>> b = pl.DataFrame({"customer_id": ["1", "2"], "segment": ["A", "B"]})
        >>> migration_matrix(a, b).wide().rows()
        [('A', 1, 1)]
        """
        if values not in ("customers", "revenue"):
            raise UsageError(f"unknown matrix values {values!r}", hint="customers or revenue")
        if self.flows.is_empty():
            return pl.DataFrame({"from_segment": []}, schema={"from_segment": pl.String})
        out = self.flows.pivot(
            on="to_segment", index="from_segment", values=values, aggregate_function="sum"
        ).fill_null(0)
        cols = sorted(c for c in out.columns if c != "from_segment")
        cols = [c for c in cols if c != GONE] + ([GONE] if GONE in cols else [])
        return out.select("from_segment", *cols).sort(pl.col("from_segment") == NEW, "from_segment")


def _prepare(frame: pl.DataFrame, name: str) -> pl.DataFrame:
    if not {"customer_id", "segment"} <= set(frame.columns):
        raise UsageError(f"{name} needs columns customer_id and segment")
    revenue = pl.col("revenue") if "revenue" in frame.columns else pl.lit(None)
    return frame.select(
        pl.col("customer_id").cast(pl.String),
        pl.col("segment").cast(pl.String),
        revenue.cast(pl.Float64).alias("revenue"),
    )


def migration_matrix(earlier: pl.DataFrame, later: pl.DataFrame) -> MigrationMatrix:
    """Cross-tabulate the segments of the same customers in two runs.

    ``earlier`` and ``later`` have ``customer_id``, ``segment`` and optionally ``revenue``.

    Examples
    --------
    >>> a = pl.DataFrame({"customer_id": ["1", "2", "3"], "segment": ["A", "A", "B"]})
    >>> b = pl.DataFrame({"customer_id": ["1", "2", "4"], "segment": ["A", "B", "B"],
    ...                   "revenue": [10.0, 5.0, 1.0]})
    >>> m = migration_matrix(a, b)
    >>> m.flows.rows()
    [('(new)', 'B', 1, 1.0), ('A', 'A', 1, 10.0), ('A', 'B', 1, 5.0), ('B', '(gone)', 1, 0.0)]
    >>> m.stability
    {'A': 0.5}
    """
    a, b = _prepare(earlier, "earlier"), _prepare(later, "later")
    joined = a.join(b, on="customer_id", how="full", coalesce=True, suffix="_later")
    flows = (
        joined.select(
            pl.col("segment").fill_null(NEW).alias("from_segment"),
            pl.col("segment_later").fill_null(GONE).alias("to_segment"),
            pl.when(pl.col("segment_later").is_null())
            .then(pl.col("revenue"))
            .otherwise(pl.col("revenue_later"))
            .fill_null(0.0)
            .alias("revenue"),
        )
        .group_by("from_segment", "to_segment")
        .agg(pl.len().cast(pl.Int64).alias("customers"), pl.col("revenue").sum())
        .sort("from_segment", "to_segment")
    )
    both = joined.drop_nulls(["segment", "segment_later"])
    stay = (
        both.group_by("segment")
        .agg((pl.col("segment") == pl.col("segment_later")).mean().alias("stay"))
        .sort("segment")
    )
    stability = {str(s): float(v) for s, v in stay.iter_rows()}
    return MigrationMatrix(flows=flows, stability=stability)
