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
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import polars as pl

from seglens.accuracy._inputs import encode, to_numpy
from seglens.errors import DataError
from seglens.stats import Estimate, effective_proportion, proportion, stratified_proportion

__all__ = [
    "SheetMatch",
    "StratifiedEstimate",
    "estimate_from_sheet",
    "map_answers",
    "stratified_accuracy",
]


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
    match: str = "names"
    """How answers met segment names: ``names``, ``mapping`` or ``hungarian`` (cross-fitted)."""
    mapping: dict[str, str] | None = None
    n_unrecognised: int = 0
    """Answers that are not segment names (counted as wrong under explicit ``names``)."""
    coverage_pct: float = 100.0
    """Share of the sheet's population in the estimated segments (< 100 only when allowed)."""
    missing_strata: tuple[str, ...] = ()

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
            "match": self.match,
            "mapping": self.mapping,
            "n_unrecognised": self.n_unrecognised,
            "coverage_pct": self.coverage_pct,
            "missing_strata": list(self.missing_strata),
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


SheetMatch = str | Mapping[str, str] | None
"""How reviewer answers meet segment names: ``None`` (names, refusing other vocabularies),
``"names"`` (other names count as wrong), ``"hungarian"`` (mapping learnt from the sheet,
cross-fitted), or a ``{reviewer label: segment}`` mapping."""


def _vocabulary_error(unknown: pl.DataFrame, segments: list[str], source: str | None) -> DataError:
    shown = ", ".join(f"{v!r} ({n} rows)" for v, n, _ in unknown.head(8).iter_rows())
    lines = [int(x[0]) for x in unknown["lines"].to_list()[:10]]
    return DataError(
        f"reviewers answered with names the segmentation does not use: {shown}; "
        f"its segments are {', '.join(repr(s) for s in segments)}",
        source=source,
        column="reviewer_segment",
        lines=lines,
        values=unknown["answer"].to_list()[:10],
        hint="if reviewers used their own vocabulary (e.g. the sales team's A-D), pass "
        "--match FILE (a CSV with columns label,segment saying which segment each answer means) "
        "or --match hungarian (learn it from the sheet, cross-fitted); pass --match names to "
        "count every answer that is not a segment name as wrong",
    )


def _with_matching_variance(
    res: StratifiedEstimate,
    assigned: list[str],
    answers: list[str],
    size_map: Mapping[str, int],
    confidence: float,
    replicates: int = 200,
) -> StratifiedEstimate:
    """Widen the interval by what learning the mapping from the sheet adds.

    The cross-fitted hits are re-computed on bootstrap replicates of the sheet (rows resampled
    within each segment, new folds each time) and the stratified share's variance over them
    replaces the binomial-style one when larger; the interval is then Wilson on the effective
    sample size (:func:`seglens.stats.effective_proportion`), as ``seglens accuracy`` does for
    its cross-fitted figure. With a stable mapping nothing changes.
    """
    from seglens.accuracy.crossfit import cross_fitted_hits

    seg = np.asarray(assigned, dtype=object)
    ans = np.asarray(answers, dtype=object)
    total = float(sum(size_map.values()))
    groups = [(np.flatnonzero(seg == s), size_map[s] / total) for s in sorted(size_map)]
    rng = np.random.default_rng(0)
    shares = np.empty(replicates)
    for b in range(replicates):
        idx = np.concatenate([rng.choice(rows, size=rows.size) for rows, _ in groups])
        hits = cross_fitted_hits(ans[idx].tolist(), seg[idx].tolist(), random_state=b + 1)
        start, share = 0, 0.0
        for rows, weight in groups:
            share += weight * float(hits[start : start + rows.size].mean())
            start += rows.size
        shares[b] = share
    p = res.estimate.value_pct / 100
    variance = max(float(shares.var(ddof=1)), (res.se_pct / 100) ** 2)
    est, n_eff = effective_proportion(
        p * res.estimate.n,
        res.estimate.n,
        variance,
        confidence=confidence,
        method="stratified-crossfit-wilson",
    )
    # Cross-fitting can only lose agreement against a mapping learnt on all rows, so the
    # in-sample (apparent) stratified share's upper bound caps the interval from above, as
    # seglens.accuracy does for its cross-fitted figure (a weak mapping biases it low).
    upper = stratified_accuracy(
        _apparent_hits(answers, assigned), assigned, size_map, confidence=confidence
    ).estimate
    est = replace(est, ci_high_pct=max(est.ci_high_pct, upper.ci_high_pct))
    return StratifiedEstimate(est, est.se_pct or res.se_pct, n_eff, res.per_stratum, res.weights)


def _apparent_hits(answers: list[str], assigned: list[str]) -> np.ndarray:
    """Per row: is its answer what a one-to-one mapping learnt on *all* rows gives its segment."""
    from seglens.accuracy._core import contingency
    from seglens.accuracy.matching import match_segments

    lab, seg = encode(answers, "reviewer_segment"), encode(assigned, "assigned_segment")
    table = contingency(lab.codes, lab.k, seg.codes, seg.k)
    mapping = match_segments(table, lab, seg, "hungarian").segment_to_label
    return np.asarray(mapping[seg.codes] == lab.codes)


def _check_population(
    df: pl.DataFrame, size_map: dict[str, int], allow_incomplete: bool, source: str | None
) -> float:
    """Share (percent) of the sheet's population its strata cover; refuse a gap unless allowed."""
    if "population" not in df.columns:
        return 100.0
    total = df["population"].cast(pl.Int64, strict=False).drop_nulls().max()
    covered = sum(size_map.values())
    if not isinstance(total, int) or total == covered:
        return 100.0
    if covered > total:
        raise DataError(
            f"the sheet's segment sizes add up to {covered:,} customers but it was drawn from "
            f"{total:,}: stratum_size was changed",
            source=source,
            column="stratum_size",
            hint="restore stratum_size as `seglens audit-sample` wrote it",
        )
    if not allow_incomplete:
        raise DataError(
            f"the sheet's segments hold {covered:,} of the {total:,} customers it was drawn "
            "from: rows of at least one segment are missing",
            source=source,
            column="assigned_segment",
            hint="restore the missing rows (every segment needs audited customers), or pass "
            "--allow-incomplete to estimate the accuracy of the segments present only",
        )
    return 100.0 * covered / total


def estimate_from_sheet(
    sheet: pl.DataFrame,
    *,
    confidence: float = 0.95,
    match: SheetMatch = None,
    allow_incomplete: bool = False,
    source: str | None = None,
) -> StratifiedEstimate:
    """Estimate accuracy from a filled-in audit sheet (as written by ``seglens audit-sample``).

    A row is correct when ``reviewer_segment`` equals ``assigned_segment`` (ignoring case and
    surrounding spaces). Answers that are not segment names stop the estimate with an error
    naming them, unless ``match`` says how to read them (see :data:`SheetMatch`). A sheet whose
    segments do not cover its ``population`` (rows of a segment deleted), or a segment with no
    answer yet, is refused unless ``allow_incomplete``: the estimate then covers the segments
    present and says how much of the population that is (``coverage_pct``). Rows without an
    answer are left out and counted in ``n_not_reviewed``; the estimate assumes they are like the
    reviewed ones.

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
            source=source,
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
        pl.int_range(2, pl.len() + 2).alias("_line"),
    )
    bad = df["_size"].is_null() | (df["_size"] < 1) | (df["_size"] != df["_size"].round())
    if bad.any():
        rows = np.flatnonzero(bad.to_numpy())[:10]
        raise DataError(
            "stratum_size must be a whole number of customers (>= 1) on every row",
            source=source,
            column="stratum_size",
            lines=[int(i) + 2 for i in rows],
            values=[sheet["stratum_size"][int(i)] for i in rows],
            hint="keep the column as written by `seglens audit-sample`",
        )
    df = df.with_columns(pl.col("_size").cast(pl.Int64).alias("stratum_size"))
    blank = df["reviewer_segment"].is_null() | (df["reviewer_segment"] == "")
    sizes = df.group_by("assigned_segment").agg(pl.col("stratum_size").max())
    size_map = {str(a): int(b) for a, b in sizes.iter_rows()}
    coverage = _check_population(df, size_map, allow_incomplete, source)
    done = df.filter(~blank)
    if done.height == 0:
        raise DataError(
            "no row of the audit sheet has a reviewer_segment yet",
            source=source,
            column="reviewer_segment",
        )
    unanswered = sorted(set(size_map) - set(done["assigned_segment"].to_list()))
    if unanswered and not allow_incomplete:
        raise DataError(
            f"no reviewer answer yet for segment(s) {', '.join(map(repr, unanswered))}",
            source=source,
            column="reviewer_segment",
            hint="every segment needs reviewed customers, or the estimate is biased; finish "
            "the sheet, or pass --allow-incomplete to estimate the other segments only",
        )
    if unanswered:
        dropped = sum(size_map.pop(s) for s in unanswered)
        kept = sum(size_map.values())
        coverage *= kept / (kept + dropped)
    answers, method, mapping = _read_answers(done, sorted(size_map), match, source)
    if method == "hungarian":
        from seglens.accuracy.crossfit import cross_fitted_hits

        ok = cross_fitted_hits(answers.to_list(), done["assigned_segment"].to_list())
    else:
        ok = (answers.str.to_lowercase() == done["assigned_segment"].str.to_lowercase()).to_numpy()
    res = stratified_accuracy(ok, done["assigned_segment"], size_map, confidence=confidence)
    if method == "hungarian":
        res = _with_matching_variance(
            res, done["assigned_segment"].to_list(), answers.to_list(), size_map, confidence
        )
    known = {s.lower() for s in size_map}
    unrecognised = int((~answers.str.to_lowercase().is_in(sorted(known))).sum())
    return StratifiedEstimate(
        res.estimate,
        res.se_pct,
        res.n_effective,
        res.per_stratum,
        res.weights,
        int(blank.sum()),
        match=method,
        mapping=mapping,
        n_unrecognised=unrecognised,
        coverage_pct=coverage,
        missing_strata=tuple(unanswered),
    )


def map_answers(answers: pl.Series, mapping: Mapping[str, str]) -> pl.Series:
    """Reviewer answers translated by ``{answer: segment}`` (case and spaces ignored); answers
    the mapping does not name stay as they are.

    Examples
    --------
    >>> map_answers(pl.Series(["A", " b", "Loyal"]), {"a": "Champions", "B": "Loyal"}).to_list()
    ['Champions', 'Loyal', 'Loyal']
    """
    table = {str(k).strip().lower(): str(v).strip() for k, v in mapping.items()}
    frame = pl.DataFrame({"a": answers.cast(pl.String).str.strip_chars()})
    return frame.select(
        pl.col("a")
        .str.to_lowercase()
        .replace_strict(table, default=pl.col("a"), return_dtype=pl.String)
        .alias(answers.name)
    ).to_series()


def _read_answers(
    done: pl.DataFrame, segments: list[str], match: SheetMatch, source: str | None
) -> tuple[pl.Series, str, dict[str, str] | None]:
    """The answers in the segmentation's vocabulary, the rule used, and the mapping applied."""
    answers = done["reviewer_segment"]
    if match == "hungarian":
        return answers, "hungarian", None
    mapping = None
    if isinstance(match, Mapping):
        mapping = {str(k).strip().lower(): str(v).strip() for k, v in match.items()}
        answers = answers.map_elements(lambda a: mapping.get(a.lower(), a), return_dtype=pl.String)
    known = {s.lower() for s in segments}
    if mapping is not None:  # a segment the mapping names may have no row left in the sheet
        known |= {str(v).strip().lower() for v in mapping.values()}
    if match is None or isinstance(match, Mapping):
        unknown = (
            done.with_columns(answers.alias("answer"))
            .filter(~pl.col("answer").str.to_lowercase().is_in(sorted(known)))
            .group_by("answer", maintain_order=True)
            .agg(pl.len().alias("n"), pl.col("_line").alias("lines"))
        )
        if unknown.height:
            raise _vocabulary_error(unknown, segments, source)
    elif match != "names":
        raise DataError(
            f"unknown match rule {match!r}", hint="use names, hungarian or a mapping file"
        )
    return answers, "mapping" if mapping is not None else "names", mapping
