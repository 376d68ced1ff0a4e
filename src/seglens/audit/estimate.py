"""Estimate population accuracy from a stratified labelled sample, with the right weights.

With strata ``h`` (the assigned segments) of ``N_h`` customers, ``n_h`` audited and ``c_h`` found
correct (``p_h = c_h / n_h``), the population accuracy is the weighted mean
``p = sum_h W_h p_h`` with ``W_h = N_h / N`` — *not* the plain share of correct rows, which
over-weights small segments that were over-sampled. Its variance is

    ``V = sum_h W_h^2 (1 - n_h/N_h) p_h (1 - p_h) / (n_h - 1)``

(unbiased within-stratum variance with finite-population correction). The interval is a Wilson
interval on the effective sample size ``n_eff = p(1-p)/V`` (capped at ``n``; Korn & Graubard,
1998), which unlike ``p ± z·sqrt(V)`` never leaves 0-100 % and does not collapse to zero width when
every audited customer was right. The computation is :func:`seglens.stats.stratified_proportion`;
this module turns audited rows (or a filled-in audit sheet) into its per-stratum counts.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import polars as pl

from seglens.accuracy._inputs import encode, to_numpy
from seglens.errors import DataError
from seglens.stats import Estimate, proportion, stratified_proportion

__all__ = ["StratifiedEstimate", "estimate_from_sheet", "stratified_accuracy"]


@dataclass(frozen=True)
class StratifiedEstimate:
    """Population accuracy estimated from a stratified sample.

    Attributes
    ----------
    estimate
        Weighted accuracy with its interval (``method="stratified-wilson"``).
    se_pct
        Standard error in points.
    n_effective
        Effective sample size behind the interval.
    per_stratum
        Accuracy (precision) of each stratum with its own Wilson interval.
    weights
        ``W_h = N_h / N`` per stratum.
    n_not_reviewed
        Rows of the audit sheet without a reviewer's answer (left out; see caveat).
    """

    estimate: Estimate
    se_pct: float
    n_effective: float
    per_stratum: dict[str, Estimate]
    weights: dict[str, float]
    n_not_reviewed: int = 0

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON form."""
        return {
            "accuracy_pct": self.estimate.value_pct,
            "ci_low_pct": self.estimate.ci_low_pct,
            "ci_high_pct": self.estimate.ci_high_pct,
            "confidence": self.estimate.confidence,
            "n": self.estimate.n,
            "se_pct": self.se_pct,
            "n_effective": self.n_effective,
            "n_not_reviewed": self.n_not_reviewed,
            "per_stratum": {
                s: {**e.to_dict(), "weight": self.weights[s]} for s, e in self.per_stratum.items()
            },
        }


def stratified_accuracy(
    correct: object,
    strata: object,
    stratum_sizes: Mapping[str, int],
    *,
    confidence: float = 0.95,
) -> StratifiedEstimate:
    """Weighted population accuracy and its interval from a stratified audit.

    Parameters
    ----------
    correct
        Per audited customer, whether the segment was right (bool or 0/1).
    strata
        Per audited customer, the stratum (assigned segment) it was drawn from.
    stratum_sizes
        Customers per stratum in the whole segmentation (``N_h``); every stratum needs at least
        one audited customer.
    confidence
        Level of the interval.

    Examples
    --------
    Segment ``a`` (9,000 customers): 45 of 50 audited right; ``b`` (1,000): 25 of 50.

    >>> ok = [1] * 45 + [0] * 5 + [1] * 25 + [0] * 25
    >>> est = stratified_accuracy(ok, ["a"] * 50 + ["b"] * 50, {"a": 9000, "b": 1000})
    >>> round(est.estimate.value_pct, 1)  # the naive mean would say 70.0
    86.0
    """
    ok = to_numpy(correct, "correct").astype(np.float64)
    if not np.all((ok == 0) | (ok == 1)):
        raise DataError("correct must hold only True/False (or 1/0)")
    st = encode(strata, "strata")
    if st.codes.size != ok.size:
        raise DataError(f"correct has {ok.size} entries but strata has {st.codes.size}")
    names = [str(v) for v in st.values]
    unknown = [s for s in names if s not in stratum_sizes]
    if unknown:
        raise DataError(
            f"audited customers come from stratum/strata {', '.join(unknown)} with no known size",
            hint="pass the number of customers in every segment of the segmentation",
        )
    unsampled = [s for s in stratum_sizes if s not in names and stratum_sizes[s] > 0]
    if unsampled:
        raise DataError(
            f"no audited customer in segment(s) {', '.join(map(str, unsampled))}",
            hint="every segment needs audited customers, or the estimate is biased; audit some "
            "customers there (seglens audit-sample sets a minimum per segment)",
        )
    n_h = np.bincount(st.codes, minlength=st.k).astype(np.float64)
    c_h = np.bincount(st.codes, weights=ok, minlength=st.k)
    big_n = np.array([stratum_sizes[s] for s in names], dtype=np.float64)
    if np.any(n_h > big_n):
        bad = [s for s, a, b in zip(names, n_h, big_n, strict=True) if a > b]
        raise DataError(f"more audited customers than the segment holds in {', '.join(bad)}")
    est, n_eff = stratified_proportion(c_h, n_h, big_n, confidence=confidence)
    w = big_n / float(sum(stratum_sizes.values()))
    per = {
        s: proportion(int(c), int(k), confidence) for s, c, k in zip(names, c_h, n_h, strict=True)
    }
    se_pct = est.se_pct if est.se_pct is not None else float("nan")
    return StratifiedEstimate(
        est, se_pct, n_eff, per, {s: float(x) for s, x in zip(names, w, strict=True)}
    )


def estimate_from_sheet(sheet: pl.DataFrame, *, confidence: float = 0.95) -> StratifiedEstimate:
    """Estimate accuracy from a filled-in audit sheet (as written by ``seglens audit-sample``).

    A row is correct when ``reviewer_segment`` equals ``assigned_segment`` (ignoring case and
    surrounding spaces). Rows without a reviewer answer are left out and counted in
    ``n_not_reviewed``; the estimate then assumes the unreviewed rows are like the reviewed ones.

    Examples
    --------
    >>> import polars as pl
    >>> sheet = pl.DataFrame({"customer_id": ["1", "2", "3", "4"],
    ...     "assigned_segment": ["a", "a", "b", "b"], "stratum_size": [10, 10, 5, 5],
    ...     "reviewer_segment": ["a", "b", "b", None]})
    >>> est = estimate_from_sheet(sheet)
    >>> round(est.estimate.value_pct, 1), est.n_not_reviewed
    (66.7, 1)
    """
    need = ["assigned_segment", "stratum_size", "reviewer_segment"]
    missing = [c for c in need if c not in sheet.columns]
    if missing:
        raise DataError(
            f"the audit sheet lacks column(s) {', '.join(missing)}",
            column=missing[0],
            hint="use the sheet written by `seglens audit-sample`, with reviewer_segment filled in",
        )
    df = sheet.with_columns(
        pl.col("assigned_segment").cast(pl.String).str.strip_chars(),
        pl.col("reviewer_segment").cast(pl.String).str.strip_chars(),
        pl.col("stratum_size")
        .cast(pl.String)
        .str.strip_chars()
        .cast(pl.Float64, strict=False)
        .alias("_size"),
    )
    bad = df["_size"].is_null() | (df["_size"] < 1) | (df["_size"] != df["_size"].round())
    if bad.any():
        rows = np.flatnonzero(bad.to_numpy())[:10]
        raise DataError(
            "stratum_size must be a whole number of customers (>= 1) on every row",
            column="stratum_size",
            lines=[int(i) + 2 for i in rows],
            values=[sheet["stratum_size"][int(i)] for i in rows],
            hint="keep the column as written by `seglens audit-sample`",
        )
    df = df.with_columns(pl.col("_size").cast(pl.Int64).alias("stratum_size"))
    blank = df["reviewer_segment"].is_null() | (df["reviewer_segment"] == "")
    sizes = df.group_by("assigned_segment").agg(pl.col("stratum_size").max())
    size_map = {str(a): int(b) for a, b in sizes.iter_rows()}
    done = df.filter(~blank)
    if done.height == 0:
        raise DataError(
            "no row of the audit sheet has a reviewer_segment yet", column="reviewer_segment"
        )
    ok = (
        done["reviewer_segment"].str.to_lowercase() == done["assigned_segment"].str.to_lowercase()
    ).to_numpy()
    res = stratified_accuracy(ok, done["assigned_segment"], size_map, confidence=confidence)
    return StratifiedEstimate(
        res.estimate, res.se_pct, res.n_effective, res.per_stratum, res.weights, int(blank.sum())
    )
