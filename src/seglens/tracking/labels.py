"""Which labels count for a run's KPI: fresh, carried or expired.

A label is evidence about the segmentation it judged (``labels.run_id``) and the segment it was
shown (``labels.judged_segment``). For a run ``R``, each labelled customer of ``R`` is:

``fresh``
    it has a label that judged ``R``; the deciding label among them follows the label policy
    (``latest`` or ``majority``).
``carried``
    no label judged ``R``, but its most recent label from an earlier run judged the segment
    ``R`` still assigns, and is no older than ``max_age_days`` at ``R``'s as-of date. The
    reviewer's verdict on that segment still applies, so it counts.
``expired``
    its most recent earlier label judged another segment (the customer moved), is too old, or
    is unbound (recorded before any run). It does not count; it is reported.

Labels that judged a *later* run never count for ``R``. With ``carry="none"`` only fresh labels
count. One function, :func:`select_labels`, decides this for every surface (``track``,
``history``, ``report``, web, API).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

import polars as pl

from seglens.errors import UsageError

__all__ = ["CarryPolicy", "LabelSelection", "select_labels"]

CarryMode = Literal["unchanged", "none"]


@dataclass(frozen=True)
class CarryPolicy:
    """When a label given for an earlier run still counts for a later one.

    Attributes
    ----------
    mode
        ``"unchanged"`` (default): only when the customer's segment is the one the reviewer
        judged; ``"none"``: never (only labels that judged the run count).
    max_age_days
        The oldest a carried label may be at the run's as-of date (default 183 days, about two
        quarters).
    """

    mode: CarryMode = "unchanged"
    max_age_days: int = 183

    def __post_init__(self) -> None:
        if self.mode not in ("unchanged", "none"):
            raise UsageError(f"unknown carry mode {self.mode!r}", hint="use unchanged or none")
        if self.max_age_days < 0:
            raise UsageError(f"max_age_days must be >= 0, got {self.max_age_days}")


@dataclass(frozen=True)
class LabelSelection:
    """The labels of one run's customers, each with its status.

    ``table`` columns: ``customer_id``, ``segment`` (the label), ``assigned`` (the run's
    segment), ``status`` (fresh / carried / expired), ``label_id``, ``label_run_id``,
    ``judged_segment``, ``labeled_at``, ``source``, ``correct`` (label equals assignment).
    """

    run_id: int
    table: pl.DataFrame

    @property
    def counted(self) -> pl.DataFrame:
        """Fresh and carried labels: the ones the KPI uses."""
        return self.table.filter(pl.col("status") != "expired")

    def count(self, status: str) -> int:
        """Customers with that status."""
        return int((self.table["status"] == status).sum())

    @property
    def counts(self) -> dict[str, int]:
        """``{"fresh": ..., "carried": ..., "expired": ...}``."""
        return {s: self.count(s) for s in ("fresh", "carried", "expired")}


_EMPTY = {
    "customer_id": pl.String(),
    "segment": pl.String(),
    "assigned": pl.String(),
    "status": pl.String(),
    "label_id": pl.Int64(),
    "label_run_id": pl.Int64(),
    "judged_segment": pl.String(),
    "labeled_at": pl.Datetime("us"),
    "source": pl.String(),
    "correct": pl.Boolean(),
}


def _decide(labels: pl.DataFrame, policy: str) -> pl.DataFrame:
    """One label per customer: the latest, or the most named segment (ties: the latest)."""
    if policy not in ("latest", "majority"):
        raise UsageError(f"unknown label policy {policy!r}", hint="use latest or majority")
    ordered = labels.sort("labeled_at", "id")
    if policy == "latest":
        return ordered.group_by("customer_id", maintain_order=True).last()
    counts = ordered.with_columns(pl.len().over("customer_id", "segment").alias("_votes"))
    return (
        counts.sort("_votes", "labeled_at", "id")
        .group_by("customer_id", maintain_order=True)
        .last()
        .drop("_votes")
    )


def select_labels(
    events: pl.DataFrame,
    *,
    run_id: int,
    run_as_of: datetime,
    assigned: pl.DataFrame,
    runs: pl.DataFrame,
    policy: str = "latest",
    carry: CarryPolicy | None = None,
) -> LabelSelection:
    """Decide, for every labelled customer of run ``run_id``, which label counts and how.

    Parameters
    ----------
    events
        Every label (:func:`seglens.store.label_events`): ``id, customer_id, segment,
        labeled_at, source, run_id, judged_segment``.
    run_id, run_as_of
        The run measured and its as-of date.
    assigned
        The run's ``customer_id`` and ``segment``.
    runs
        Every run's ``run_id`` and ``as_of`` (to know which runs came before this one).
    policy
        How several fresh labels of one customer decide (``latest`` or ``majority``).
    carry
        The carry-forward policy (default :class:`CarryPolicy`).

    Examples
    --------
    >>> import polars as pl
    >>> from datetime import datetime as dt
    >>> ev = pl.DataFrame({"id": [1, 2, 3], "customer_id": ["a", "b", "c"],
    ...     "segment": ["Loyal", "Loyal", "Loyal"], "labeled_at": [dt(2011, 7, 1)] * 3,
    ...     "source": [None] * 3, "run_id": [1, 1, 2], "judged_segment": ["Loyal"] * 3})
    >>> runs = pl.DataFrame({"run_id": [1, 2], "as_of": [dt(2011, 6, 30), dt(2011, 9, 30)]})
    >>> now = pl.DataFrame({"customer_id": ["a", "b", "c"],
    ...                     "segment": ["Loyal", "At risk", "Loyal"]})
    >>> sel = select_labels(ev, run_id=2, run_as_of=dt(2011, 9, 30), assigned=now, runs=runs)
    >>> sel.table.select("customer_id", "status").rows()
    [('a', 'carried'), ('b', 'expired'), ('c', 'fresh')]
    """
    carry = carry or CarryPolicy()
    run_order = runs.select("run_id", "as_of").sort("as_of", "run_id")
    ids = run_order["run_id"].to_list()
    if run_id not in ids:
        raise UsageError(f"no segmentation run {run_id} in the store")
    earlier = ids[: ids.index(run_id)]
    seg = assigned.select(
        pl.col("customer_id").cast(pl.String), pl.col("segment").cast(pl.String).alias("assigned")
    )
    if "purpose" in events.columns:
        events = events.filter(pl.col("purpose").fill_null("kpi") != "teach")
    mine = events.join(seg, on="customer_id", how="inner")
    fresh = _decide(mine.filter(pl.col("run_id") == run_id), policy).with_columns(
        pl.lit("fresh").alias("status")
    )
    older = mine.filter(
        (pl.col("run_id").is_in(earlier) | pl.col("run_id").is_null())
        & ~pl.col("customer_id").is_in(fresh["customer_id"].implode())
    )
    last = older.sort("labeled_at", "id").group_by("customer_id", maintain_order=True).last()
    carries = (
        pl.lit(carry.mode == "unchanged")
        & pl.col("run_id").is_not_null()
        & (pl.col("judged_segment") == pl.col("assigned")).fill_null(False)
        & (pl.col("labeled_at") >= run_as_of - timedelta(days=carry.max_age_days))
    )
    last = last.with_columns(
        pl.when(carries).then(pl.lit("carried")).otherwise(pl.lit("expired")).alias("status")
    )
    cols = ["customer_id", "segment", "assigned", "status", "id", "run_id"]
    cols += ["judged_segment", "labeled_at", "source"]
    both = pl.concat([fresh.select(cols), last.select(cols)], how="vertical")
    table = (
        both.rename({"id": "label_id", "run_id": "label_run_id"})
        .with_columns((pl.col("segment") == pl.col("assigned")).alias("correct"))
        .sort("customer_id")
    )
    if table.is_empty():
        table = pl.DataFrame(schema=_EMPTY)
    return LabelSelection(run_id, table.cast(_EMPTY))  # type: ignore[arg-type]
