"""Campaign lift per segment from a randomized treatment/control test."""

from __future__ import annotations

import math

import numpy as np
import polars as pl

from seglens.errors import DataError
from seglens.impact._stats import interval_columns
from seglens.stats import newcombe_diff, proportion, welch_diff

__all__ = ["arm_rates", "campaign_lift"]

ALL = "(all)"


def _require(frame: pl.DataFrame, cols: list[str]) -> None:
    for col in cols:
        if col not in frame.columns:
            raise DataError(f"column {col!r} is missing", column=col, hint=f"have {frame.columns}")


def _binary(frame: pl.DataFrame, col: str) -> pl.Series:
    s = frame[col].cast(pl.Int64, strict=False)
    bad = frame.filter(~s.is_in([0, 1]) | s.is_null())
    if bad.height:
        raise DataError(
            f"{col} must be 0/1 for every customer",
            column=col,
            values=bad[col].head(5).to_list(),
        )
    return s


def arm_rates(
    frame: pl.DataFrame, *, arm_col: str, response_col: str, level: float = 0.95
) -> pl.DataFrame:
    """Response rate per arm with its Wilson interval (``n``, ``responders``, ``rate``...).

    Examples
    --------
    >>> import polars as pl
    >>> f = pl.DataFrame({"arm": ["t", "t", "c", "c"], "visit": [1, 0, 0, 0]})
    >>> arm_rates(f, arm_col="arm", response_col="visit").select("arm", "n", "rate").rows()
    [('c', 2, 0.0), ('t', 2, 0.5)]
    """
    _require(frame, [arm_col, response_col])
    y = _binary(frame, response_col)
    agg = (
        frame.with_columns(y.alias("_y"))
        .group_by(arm_col)
        .agg(pl.len().alias("n"), pl.col("_y").sum().alias("responders"))
        .sort(arm_col)
    )
    rows = []
    for arm, n, k in agg.iter_rows():
        e = proportion(int(k), int(n), level)
        rows.append({"arm": str(arm), "n": n, "responders": k, **interval_columns("rate", e)})
    return pl.DataFrame(rows)


def campaign_lift(
    frame: pl.DataFrame,
    *,
    arm_col: str,
    control: str,
    response_col: str,
    segment_col: str | None = "segment",
    spend_col: str | None = None,
    level: float = 0.95,
) -> pl.DataFrame:
    """Lift of each treated arm over control, per segment and overall.

    ``lift`` is the difference in response rate (treated minus control) with Newcombe's hybrid
    score interval; ``relative_lift`` is ``lift / control_rate``; with ``spend_col``,
    ``spend_lift`` is the difference in mean spend per customer with a Welch interval. The
    overall row has ``segment = "(all)"``. Only meaningful when arms were assigned at random.

    Examples
    --------
    >>> import polars as pl
    >>> f = pl.DataFrame({"arm": ["t"] * 4 + ["c"] * 4, "visit": [1, 1, 0, 1, 0, 1, 0, 0],
    ...                   "segment": ["x", "y"] * 4})
    >>> r = campaign_lift(f, arm_col="arm", control="c", response_col="visit")
    >>> r.select("segment", "arm", "rate_treated", "rate_control", "lift").rows()
    [('(all)', 't', 0.75, 0.25, 0.5), ('x', 't', 0.5, 0.0, 0.5), ('y', 't', 1.0, 0.5, 0.5)]
    """
    cols = [arm_col, response_col] + [c for c in (segment_col, spend_col) if c]
    _require(frame, cols)
    y = _binary(frame, response_col)
    data = frame.with_columns(y.alias("_y"), pl.col(arm_col).cast(pl.String).alias("_arm"))
    arms = sorted(set(data["_arm"].drop_nulls().to_list()) - {control})
    if control not in set(data["_arm"].to_list()):
        raise DataError(
            f"no customer is in the control arm {control!r}",
            column=arm_col,
            hint=f"arms found: {sorted(set(data['_arm'].drop_nulls().to_list()))}",
        )
    groups: list[tuple[str, pl.DataFrame]] = [(ALL, data)]
    if segment_col:
        for key, sub in sorted(data.group_by(segment_col), key=lambda g: str(g[0][0])):
            groups.append((str(key[0]), sub))
    rows = []
    for seg, sub in groups:
        ctrl = sub.filter(pl.col("_arm") == control)
        for arm in arms:
            trt = sub.filter(pl.col("_arm") == arm)
            k1, n1 = int(trt["_y"].sum()), trt.height
            k0, n0 = int(ctrl["_y"].sum()), ctrl.height
            diff = interval_columns("lift", newcombe_diff(k0, n0, k1, n1, confidence=level))
            rate0 = k0 / n0 if n0 else math.nan
            row: dict[str, object] = {
                "segment": seg,
                "arm": arm,
                "n_treated": n1,
                "n_control": n0,
                "rate_treated": k1 / n1 if n1 else math.nan,
                "rate_control": rate0,
                **diff,
                "relative_lift": diff["lift"] / rate0 if rate0 else math.nan,
            }
            if spend_col:
                s1 = trt[spend_col].cast(pl.Float64).fill_null(0.0).to_numpy()
                s0 = ctrl[spend_col].cast(pl.Float64).fill_null(0.0).to_numpy()
                d, lo, hi = welch_diff(np.asarray(s0), np.asarray(s1), confidence=level)
                row.update({"spend_lift": d, "spend_lift_low": lo, "spend_lift_high": hi})
            rows.append(row)
    return pl.DataFrame(rows)
