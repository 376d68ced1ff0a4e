"""Impact-table helpers over the :mod:`seglens.stats` kernel (fraction columns, bootstrap means).

The intervals themselves (Wilson, Newcombe, Welch, bootstrap) live in :mod:`seglens.stats`;
impact tables show rates as fractions (0-1), so :func:`interval_columns` rescales a kernel
:class:`~seglens.stats.Estimate` (percent) into ``{key}``/``_low``/``_high`` columns.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

from seglens.impact._mle import FloatArray
from seglens.stats import Estimate, bootstrap_interval

__all__ = ["interval_columns", "segment_mean_table"]


def interval_columns(key: str, e: Estimate) -> dict[str, float]:
    """``{key}``, ``{key}_low``, ``{key}_high`` as fractions; NaN throughout when ``e.n == 0``.

    A plain proportion keeps its exact ``successes / n`` as the value.

    Examples
    --------
    >>> from seglens.stats import proportion
    >>> cols = interval_columns("rate", proportion(1, 3))
    >>> cols["rate"], round(cols["rate_low"], 4), round(cols["rate_high"], 4)
    (0.3333333333333333, 0.0615, 0.7923)
    """
    if e.n == 0:
        return {key: math.nan, f"{key}_low": math.nan, f"{key}_high": math.nan}
    value = e.successes / e.n if e.successes is not None else e.value_pct / 100
    return {key: value, f"{key}_low": e.ci_low_pct / 100, f"{key}_high": e.ci_high_pct / 100}


def segment_mean_table(
    segments: npt.NDArray[np.str_],
    values: dict[str, FloatArray],
    *,
    n_resamples: int = 1000,
    level: float = 0.95,
    seed: int = 0,
) -> list[dict[str, object]]:
    """Per segment (and ``(all)``): n, and each value's mean and total with bootstrap intervals."""
    names = ["(all)", *sorted(set(segments.tolist()))]
    onehot = np.column_stack(
        [np.ones(segments.size)] + [(segments == s).astype(np.float64) for s in names[1:]]
    )
    rows: list[dict[str, object]] = [
        {"segment": s, "customers": int(onehot[:, i].sum())} for i, s in enumerate(names)
    ]
    for key, v in values.items():

        def stat(w: FloatArray, v: FloatArray = v) -> FloatArray:
            tot = (w * v) @ onehot
            cnt = w @ onehot
            with np.errstate(invalid="ignore", divide="ignore"):
                return np.hstack([tot / cnt, tot])

        point = stat(np.ones((1, v.size)))[0]
        lo, hi = bootstrap_interval(
            stat, v.size, n_resamples=n_resamples, confidence=level, seed=seed
        )
        k = len(names)
        for i, row in enumerate(rows):
            row[f"{key}_mean"] = float(point[i])
            row[f"{key}_mean_low"] = float(lo[i])
            row[f"{key}_mean_high"] = float(hi[i])
            row[f"{key}_total"] = float(point[k + i])
            row[f"{key}_total_low"] = float(lo[k + i])
            row[f"{key}_total_high"] = float(hi[k + i])
    return rows
