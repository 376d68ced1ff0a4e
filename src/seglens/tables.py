"""The canonical tables every part of seglens reads and writes.

Whatever the source (CSV, Parquet, Excel, a database, a DataFrame), data is brought into one of
three shapes before anything else touches it. This module is the single place that defines them;
loaders produce them, features / accuracy / tracking consume them.

Transactions (one row per order line)
    ============== =================== =====================================================
    column         type                meaning
    ============== =================== =====================================================
    customer_id    string              exactly as written in the source (leading zeros
                                       kept; ``17850.0`` read from a float column becomes
                                       ``17850``)
    order_id       string              invoice / order number; lines of one order share it
    timestamp      datetime (naive)    when the order was placed. *Naive local time of the
                                       source*: seglens does not shift time zones. Sources
                                       with an offset are converted to UTC, then made naive.
    amount         float64             net line value in the data's currency (negative for
                                       returns)
    quantity       float64, optional   units on the line (negative for returns)
    product_id     string, optional    product / stock code
    category       string, optional    product category
    channel        string, optional    sales channel (web, store, phone, ...)
    is_return      bool                the line is a return or cancellation; kept, never
                                       silently dropped (it nets against purchases)
    ============== =================== =====================================================

Customers (one row per customer)
    ``customer_id`` (string) plus any demographic columns, numeric or categorical.

Labels (ground truth from the feedback loop; one row per confirmation or correction)
    ============== =================== =====================================================
    customer_id    string              the customer checked
    segment        string              the segment the reviewer says is right
    labeled_by     string, optional    who checked (user name or team)
    labeled_at     datetime, optional  when
    source         string, optional    where the label came from (sales, service, audit...)
    note           string, optional    the reviewer's reason
    run_id         int64, optional     the segmentation run the reviewer judged
    judged_segment string, optional    the segment the reviewer was shown
    purpose        string, optional    ``kpi`` (evidence for the KPI, the default) or
                                       ``teach`` (asked for to teach a model, e.g. by
                                       ``seglens labels suggest``; never counted in a KPI);
                                       one purpose per file
    ============== =================== =====================================================

Segment assignments (what a segmentation says)
    ``customer_id`` (string), ``segment`` (string).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import polars as pl

__all__ = [
    "ASSIGNMENTS",
    "CUSTOMERS",
    "LABELS",
    "TRANSACTIONS",
    "Column",
    "TableSpec",
    "frame_of",
]


def frame_of(obj: object) -> object:
    """The frame inside a seglens result (``LoadedTable``, ``FeatureTable``: its ``.table``);
    any other input unchanged — so library functions accept each other's results.

    Examples
    --------
    >>> frame_of(pl.DataFrame({"a": [1]})).shape
    (1, 1)
    """
    table = getattr(obj, "table", None)
    if isinstance(table, pl.DataFrame) and type(obj).__module__.startswith("seglens."):
        return table
    return obj


@dataclass(frozen=True)
class Column:
    """One column of a canonical table: its name, Polars type, whether required, and meaning."""

    name: str
    dtype: pl.DataType
    required: bool
    description: str


@dataclass(frozen=True)
class TableSpec:
    """A canonical table: an ordered set of columns, some required."""

    name: str
    columns: tuple[Column, ...]
    open_ended: bool = False
    """Whether extra columns (e.g. demographics) are kept."""

    @property
    def required(self) -> tuple[str, ...]:
        """Names of the columns a source must provide (directly or by mapping)."""
        return tuple(c.name for c in self.columns if c.required)

    @property
    def optional(self) -> tuple[str, ...]:
        """Names of the columns a source may provide."""
        return tuple(c.name for c in self.columns if not c.required)

    @property
    def names(self) -> tuple[str, ...]:
        """All canonical column names, in order."""
        return tuple(c.name for c in self.columns)

    def schema(self) -> dict[str, pl.DataType]:
        """Canonical Polars schema (name -> dtype)."""
        return {c.name: c.dtype for c in self.columns}

    def column(self, name: str) -> Column:
        """Look up a column by name."""
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(name)


TRANSACTIONS: Final = TableSpec(
    "transactions",
    (
        Column("customer_id", pl.String(), True, "customer identifier, kept as written"),
        Column("order_id", pl.String(), True, "order / invoice number"),
        Column("timestamp", pl.Datetime("us"), True, "order time, naive local time"),
        Column("amount", pl.Float64(), True, "net line value; negative for returns"),
        Column("quantity", pl.Float64(), False, "units on the line"),
        Column("product_id", pl.String(), False, "product / stock code"),
        Column("category", pl.String(), False, "product category"),
        Column("channel", pl.String(), False, "sales channel"),
        Column("is_return", pl.Boolean(), False, "line is a return or cancellation"),
    ),
)

CUSTOMERS: Final = TableSpec(
    "customers",
    (Column("customer_id", pl.String(), True, "customer identifier"),),
    open_ended=True,
)

LABELS: Final = TableSpec(
    "labels",
    (
        Column("customer_id", pl.String(), True, "the customer checked"),
        Column("segment", pl.String(), True, "the segment the reviewer says is right"),
        Column("labeled_by", pl.String(), False, "who checked"),
        Column("labeled_at", pl.Datetime("us"), False, "when"),
        Column("source", pl.String(), False, "origin of the label (sales, service, audit)"),
        Column("note", pl.String(), False, "the reviewer's reason"),
        Column("run_id", pl.Int64(), False, "the segmentation run the reviewer judged"),
        Column("judged_segment", pl.String(), False, "the segment the reviewer was shown"),
        Column("purpose", pl.String(), False, "kpi (counts for the KPI) or teach (never counts)"),
    ),
)

ASSIGNMENTS: Final = TableSpec(
    "assignments",
    (
        Column("customer_id", pl.String(), True, "customer identifier"),
        Column("segment", pl.String(), True, "segment name or cluster id"),
    ),
    open_ended=True,
)
