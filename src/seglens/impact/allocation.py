"""A suggested budget split across segments, proportional to expected value."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import polars as pl

from seglens.errors import DataError, UsageError

__all__ = ["Allocation", "allocate_budget"]


@dataclass(frozen=True)
class Allocation:
    """The split (one row per segment) and the assumptions behind it, in words."""

    table: pl.DataFrame
    assumptions: list[str] = field(default_factory=list)


def allocate_budget(
    segments: pl.DataFrame,
    budget: float,
    *,
    segment_col: str = "segment",
    customers_col: str = "customers",
    value_col: str = "clv_mean",
    lift: pl.DataFrame | None = None,
    lift_col: str = "relative_lift",
) -> Allocation:
    """Split ``budget`` across segments in proportion to customers x CLV x measured lift.

    Parameters
    ----------
    segments
        One row per segment: ``segment_col``, ``customers_col`` and ``value_col`` (e.g. the
        ``segments`` table of :func:`seglens.impact.segment_clv`; an ``(all)`` row is ignored).
        ``{value_col}_low``/``_high`` columns, when present, give each share a range.
    lift
        Optional per-segment campaign lift (``segment_col``, ``lift_col`` and ``lift_high``):
        segments whose lift interval lies wholly at or below zero get nothing; segments without
        a measurement get the average measured lift.

    Examples
    --------
    >>> import polars as pl
    >>> s = pl.DataFrame({"segment": ["a", "b"], "customers": [100, 300], "clv_mean": [30.0, 5.0]})
    >>> a = allocate_budget(s, 1000.0)
    >>> [(r["segment"], round(r["budget"], 2)) for r in a.table.iter_rows(named=True)]
    [('a', 666.67), ('b', 333.33)]
    """
    if budget < 0 or not math.isfinite(budget):
        raise UsageError(f"budget must be a non-negative number, got {budget}")
    for col in (segment_col, customers_col, value_col):
        if col not in segments.columns:
            raise DataError(f"column {col!r} is missing", column=col)
    seg = segments.filter(pl.col(segment_col) != "(all)").with_columns(
        pl.col(segment_col).cast(pl.String)
    )
    assumptions = [
        f"expected value of a segment = {customers_col} x {value_col}"
        + (" x relative lift of the campaign" if lift is not None else ""),
        "budget share proportional to expected value; negative values count as zero",
        "returns to spend are assumed linear (no saturation within a segment)",
    ]
    factor = pl.lit(1.0)
    if lift is not None:
        lf = lift.select(
            pl.col(segment_col).cast(pl.String),
            pl.col(lift_col).alias("_lift"),
            (pl.col("lift_high") <= 0).alias("_no_effect")
            if "lift_high" in lift.columns
            else pl.lit(False).alias("_no_effect"),
        )
        mean_lift = float(lf["_lift"].mean() or 0.0)  # type: ignore[arg-type]
        seg = seg.join(lf, on=segment_col, how="left")
        missing = seg.filter(pl.col("_lift").is_null())[segment_col].to_list()
        if missing:
            assumptions.append(
                f"no lift measured for {missing}: the average measured lift {mean_lift:.3f} is used"
            )
        seg = seg.with_columns(
            pl.col("_lift").fill_null(mean_lift), pl.col("_no_effect").fill_null(False)
        )
        factor = pl.when(pl.col("_no_effect")).then(0.0).otherwise(pl.col("_lift").clip(0.0))
        if seg["_no_effect"].any():
            assumptions.append("segments whose lift interval lies at or below zero get no budget")

    def weight(col: str) -> pl.Expr:
        return (pl.col(customers_col) * pl.col(col).clip(0.0) * factor).fill_null(0.0)

    seg = seg.with_columns(weight(value_col).alias("expected_value"))
    total = float(seg["expected_value"].sum())
    if total <= 0:
        raise DataError("no segment has a positive expected value: nothing to allocate on")
    seg = seg.with_columns((pl.col("expected_value") / total).alias("share"))
    cols = ["share"]
    if f"{value_col}_low" in seg.columns and f"{value_col}_high" in seg.columns:
        # range of each share: its own value at its bounds, the others at their estimates
        for bound in ("low", "high"):
            own = weight(f"{value_col}_{bound}")
            seg = seg.with_columns(
                (own / (total - pl.col("expected_value") + own)).alias(f"share_{bound}")
            )
        cols += ["share_low", "share_high"]
        assumptions.append(f"share ranges use the {value_col} interval of that segment alone")
    out = seg.select(
        segment_col,
        customers_col,
        value_col,
        "expected_value",
        *cols,
        (pl.col("share") * budget).alias("budget"),
    ).sort("expected_value", descending=True)
    return Allocation(out, assumptions)
