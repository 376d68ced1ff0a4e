"""Line up a segmentation and a set of labels by customer id, counting everything left out.

Labels usually cover only some customers, sometimes name customers the segmentation does not know,
and may hold several rows per customer (a confirmation, later a correction). Nothing is dropped
silently: :class:`Coverage` counts each case and the report shows it.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
import polars as pl

from seglens.errors import DataError
from seglens.tables import frame_of

__all__ = ["Aligned", "Coverage", "align_labels"]


@dataclass(frozen=True)
class Coverage:
    """How the labels and the segmentation overlap.

    Attributes
    ----------
    n_customers
        Customers in the segmentation.
    n_label_rows
        Rows in the labels table.
    n_blank_labels
        Label rows with no segment (e.g. an audit sheet row not yet reviewed); not counted.
    n_superseded_labels
        Earlier label rows for a customer labelled again (the latest row wins).
    n_labelled_customers
        Distinct customers with a (latest, non-blank) label.
    n_matched
        Labelled customers found in the segmentation: the ``n`` of the accuracy.
    n_labels_unknown_customer
        Labelled customers the segmentation does not contain (not counted in accuracy).
    n_customers_without_label
        Customers of the segmentation nobody labelled.
    """

    n_customers: int
    n_label_rows: int
    n_blank_labels: int
    n_superseded_labels: int
    n_labelled_customers: int
    n_matched: int
    n_labels_unknown_customer: int
    n_customers_without_label: int

    @property
    def label_coverage_pct(self) -> float:
        """Share of the segmentation's customers that carry a label."""
        return 100.0 * self.n_matched / self.n_customers if self.n_customers else 0.0

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON form."""
        return {**asdict(self), "label_coverage_pct": self.label_coverage_pct}


@dataclass(frozen=True)
class Aligned:
    """Labels and segments of the matched customers, in the same order."""

    customer_id: npt.NDArray[np.object_]
    y_true: npt.NDArray[np.object_]
    y_pred: npt.NDArray[np.object_]
    coverage: Coverage


def _frame(x: object, what: str) -> pl.DataFrame:
    x = frame_of(x)
    if isinstance(x, pd.DataFrame):
        x = pl.from_pandas(x)
    if not isinstance(x, pl.DataFrame):
        raise DataError(f"{what} must be a Polars or pandas DataFrame, not {type(x).__name__}")
    missing = [c for c in ("customer_id", "segment") if c not in x.columns]
    if missing:
        raise DataError(
            f"{what} lacks column(s) {', '.join(missing)}; found {', '.join(x.columns)}",
            column=missing[0],
            hint="map your columns, e.g. --columns customer_id=ID,segment=Cluster",
        )
    return x.with_columns(pl.col("customer_id").cast(pl.String), pl.col("segment").cast(pl.String))


def _check_assignments(seg: pl.DataFrame) -> None:
    null_ids = seg["customer_id"].is_null()
    if null_ids.any():
        raise DataError(
            f"the segmentation has {int(null_ids.sum())} row(s) without a customer id",
            column="customer_id",
            lines=[i + 2 for i in np.flatnonzero(null_ids.to_numpy())[:10].tolist()],
        )
    nulls = seg["segment"].is_null()
    if nulls.any():
        rows = np.flatnonzero(nulls.to_numpy())[:10]
        raise DataError(
            f"{int(nulls.sum())} customer(s) have no segment in the segmentation",
            column="segment",
            lines=[int(i) + 2 for i in rows],
            values=[seg["customer_id"][int(i)] for i in rows],
            hint="give every customer a segment (e.g. 'unassigned') or remove those rows",
        )
    dup = seg["customer_id"].is_duplicated()
    if dup.any():
        rows = np.flatnonzero(dup.to_numpy())[:10]
        raise DataError(
            f"{int(seg['customer_id'].filter(dup).n_unique())} customer id(s) appear more than "
            "once in the segmentation",
            column="customer_id",
            lines=[int(i) + 2 for i in rows],
            values=[seg["customer_id"][int(i)] for i in rows],
            hint="a segmentation puts each customer in exactly one segment",
        )


def align_labels(assignments: object, labels: object) -> Aligned:
    """Join labels to segment assignments on ``customer_id``.

    Parameters
    ----------
    assignments
        DataFrame (Polars or pandas) with ``customer_id`` and ``segment``: what the segmentation
        says (the ASSIGNMENTS table).
    labels
        DataFrame with ``customer_id`` and ``segment`` (the LABELS table); when ``labeled_at``
        is present the latest row per customer wins, else the last row.

    Examples
    --------
    >>> import polars as pl
    >>> seg = pl.DataFrame({"customer_id": ["1", "2", "3"], "segment": ["a", "b", "a"]})
    >>> lab = pl.DataFrame({"customer_id": ["1", "2", "9"], "segment": ["a", "a", "b"]})
    >>> al = align_labels(seg, lab)
    >>> al.coverage.n_matched, al.coverage.n_labels_unknown_customer
    (2, 1)
    """
    seg = _frame(assignments, "the segmentation")
    _check_assignments(seg)
    lab = _frame(labels, "the labels").with_row_index("_row")
    n_rows = lab.height
    lab = lab.filter(pl.col("customer_id").is_not_null())
    blank = lab["segment"].is_null() | (lab["segment"].str.strip_chars() == "")
    n_blank = int(blank.sum()) + (n_rows - lab.height)
    lab = lab.filter(~blank)
    order = ["labeled_at", "_row"] if "labeled_at" in lab.columns else ["_row"]
    latest = lab.sort(order, nulls_last=False).unique(
        "customer_id", keep="last", maintain_order=True
    )
    latest = latest.sort("_row").select("customer_id", pl.col("segment").str.strip_chars())
    joined = latest.join(
        seg.select("customer_id", pl.col("segment").alias("_assigned")),
        on="customer_id",
        how="inner",
        maintain_order="left",
    )
    coverage = Coverage(
        n_customers=seg.height,
        n_label_rows=n_rows,
        n_blank_labels=n_blank,
        n_superseded_labels=lab.height - latest.height,
        n_labelled_customers=latest.height,
        n_matched=joined.height,
        n_labels_unknown_customer=latest.height - joined.height,
        n_customers_without_label=seg.height - joined.height,
    )
    if joined.height == 0:
        raise DataError(
            "no labelled customer is in the segmentation: there is nothing to compare",
            hint="check that both files use the same customer ids (leading zeros, prefixes)",
        )
    return Aligned(
        joined["customer_id"].to_numpy().astype(object),
        joined["segment"].to_numpy().astype(object),
        joined["_assigned"].to_numpy().astype(object),
        coverage,
    )
