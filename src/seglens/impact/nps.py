"""Net Promoter Score per segment, with a confidence interval."""

from __future__ import annotations

import math

import numpy as np
import polars as pl

from seglens.errors import DataError
from seglens.stats import Estimate, z_value

__all__ = ["nps", "nps_by_segment"]


def nps(scores: object, *, level: float = 0.95) -> Estimate:
    """Net Promoter Score (% promoters 9-10 minus % detractors 0-6) on the -100..100 scale.

    The interval is the adjusted Wald interval for a difference of two multinomial shares
    (Rocks 2016): one pseudo-response is added to each of the three categories (n + 3) before the
    variance ``p_pro + p_det - (p_pro - p_det)**2`` is used; it keeps its coverage on small
    samples where the plain Wald interval does not.

    Parameters
    ----------
    scores
        Survey answers on the 0-10 scale; missing answers (NaN/None) are dropped.
    level
        Confidence level.

    Examples
    --------
    >>> e = nps([10, 9, 9, 8, 7, 3, 10, 6, 9, 10])
    >>> e.value_pct, e.n
    (40.0, 10)
    >>> -100 <= e.ci_low_pct < e.value_pct < e.ci_high_pct <= 100
    True
    """
    arr = np.asarray(scores, dtype=np.float64).ravel()
    arr = arr[~np.isnan(arr)]
    bad = arr[(arr < 0) | (arr > 10) | (arr != np.round(arr))]
    if bad.size:
        raise DataError(
            "NPS scores must be whole numbers from 0 to 10",
            values=bad[:5].tolist(),
            hint="map other scales to 0-10 first",
        )
    n = int(arr.size)
    if n == 0:
        return Estimate(math.nan, 0, math.nan, math.nan, level, "adjusted-wald")
    pro = int(np.sum(arr >= 9))
    det = int(np.sum(arr <= 6))
    value = 100.0 * (pro - det) / n
    na = n + 3
    pp, pd = (pro + 1) / na, (det + 1) / na
    centre = pp - pd
    se = math.sqrt((pp + pd - centre**2) / na)
    z = z_value(level)
    low = max(-1.0, centre - z * se)
    high = min(1.0, centre + z * se)
    return Estimate(value, n, 100 * low, 100 * high, level, "adjusted-wald", 100 * se)


def nps_by_segment(
    frame: pl.DataFrame,
    *,
    segment_col: str = "segment",
    score_col: str = "score",
    level: float = 0.95,
) -> pl.DataFrame:
    """NPS per segment and overall (``segment = "(all)"``), each with n, shares and CI.

    Examples
    --------
    >>> import polars as pl
    >>> f = pl.DataFrame({"segment": ["a"] * 4 + ["b"] * 4, "score": [10, 9, 2, 8, 0, 5, 9, 6]})
    >>> nps_by_segment(f).select("segment", "n", "nps").rows()
    [('(all)', 8, -12.5), ('a', 4, 25.0), ('b', 4, -50.0)]
    """
    for col in (segment_col, score_col):
        if col not in frame.columns:
            raise DataError(f"column {col!r} is missing", column=col)
    groups: list[tuple[str, pl.Series]] = [("(all)", frame[score_col])]
    for key, sub in frame.group_by(segment_col, maintain_order=True):
        groups.append((str(key[0]), sub[score_col]))
    rows = []
    for name, s in sorted(groups, key=lambda g: (g[0] != "(all)", g[0])):
        vals = s.drop_nulls().cast(pl.Float64).to_numpy()
        e = nps(vals, level=level)
        n = max(e.n, 1)
        rows.append(
            {
                "segment": name,
                "n": e.n,
                "promoters_pct": 100.0 * float(np.sum(vals >= 9)) / n,
                "detractors_pct": 100.0 * float(np.sum(vals <= 6)) / n,
                "nps": e.value_pct,
                "nps_low": e.ci_low_pct,
                "nps_high": e.ci_high_pct,
            }
        )
    return pl.DataFrame(rows)
