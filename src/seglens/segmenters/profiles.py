"""Segment profiles a marketer can read and rules a CRM can apply.

For each segment: size and share of customers, share of revenue, feature medians, the features
that set it apart (Cohen's d against everyone else, on a log scale for skewed columns), an
auto-generated name, and a filter rule from one shallow decision tree fitted to the segment
labels, with the tree's fidelity (share of customers the rules put in their own segment).
"""

# ruff: noqa: N806  (X / Z for data matrices, the scikit-learn convention)

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from typing import Any

import numpy as np
import polars as pl
from sklearn.tree import DecisionTreeClassifier

from seglens.errors import DataError, UsageError
from seglens.segmenters._tabular import ID_COLUMN, numeric_matrix, to_polars
from seglens.segmenters.naming import auto_names, effect_sizes
from seglens.segmenters.preprocessing import FeaturePreprocessor

__all__ = ["Distinction", "SegmentProfile", "SegmentProfiles", "profile_segments"]

_DETAIL_COLUMNS = {
    "segment",
    "cluster",
    "distance",
    "margin",
    "probability",
    "r_score",
    "f_score",
    "m_score",
    "fm_score",
    "rfm_code",
}


@dataclass(frozen=True)
class Distinction:
    """A feature that sets a segment apart: effect size and the two medians compared."""

    feature: str
    effect_size: float
    segment_median: float
    rest_median: float

    @property
    def direction(self) -> str:
        """``"higher"`` or ``"lower"`` than the rest of the customers."""
        return "higher" if self.effect_size > 0 else "lower"


@dataclass(frozen=True)
class SegmentProfile:
    """Everything known about one segment."""

    segment: str
    auto_name: str
    size: int
    share: float
    revenue_share: float | None
    medians: dict[str, float]
    modes: dict[str, str]
    distinguishing: list[Distinction]
    rule: str
    rule_precision: float
    rule_recall: float


@dataclass(frozen=True)
class SegmentProfiles:
    """Profiles of all segments plus the decision-tree rules' overall fidelity."""

    profiles: list[SegmentProfile]
    n_customers: int
    features: list[str]
    rule_fidelity: float
    rule_depth: int
    revenue_column: str | None
    notes: list[str] = field(default_factory=list)

    def __getitem__(self, segment: str) -> SegmentProfile:
        for p in self.profiles:
            if p.segment == segment:
                return p
        raise KeyError(segment)

    @property
    def segments(self) -> list[str]:
        """Segment names, largest first."""
        return [p.segment for p in self.profiles]

    def rename(self, mapping: Mapping[str, str]) -> SegmentProfiles:
        """A copy with segments renamed (``{"old": "new"}``); rules and numbers unchanged."""
        unknown = [k for k in mapping if k not in self.segments]
        if unknown:
            raise UsageError(
                f"no segment named {', '.join(map(repr, unknown))}",
                hint=f"segments are: {', '.join(self.segments)}",
            )
        new = [replace(p, segment=mapping.get(p.segment, p.segment)) for p in self.profiles]
        if len({p.segment for p in new}) != len(new):
            raise UsageError("renaming would give two segments the same name")
        return replace(self, profiles=new)

    def to_dict(self) -> dict[str, Any]:
        """Plain-Python form (JSON-ready)."""
        return {
            "n_customers": self.n_customers,
            "rule_fidelity": self.rule_fidelity,
            "rule_depth": self.rule_depth,
            "revenue_column": self.revenue_column,
            "features": self.features,
            "notes": self.notes,
            "segments": [
                {**asdict(p), "distinguishing": [asdict(d) for d in p.distinguishing]}
                for p in self.profiles
            ],
        }

    def to_frame(self) -> pl.DataFrame:
        """One row per segment: size, shares, auto name, top distinctions, rule and fit."""
        return pl.DataFrame(
            [
                {
                    "segment": p.segment,
                    "auto_name": p.auto_name,
                    "size": p.size,
                    "share": p.share,
                    "revenue_share": p.revenue_share,
                    "distinguishing": "; ".join(
                        f"{d.feature} {d.direction} (d={d.effect_size:+.2f})"
                        for d in p.distinguishing
                    ),
                    "rule": p.rule,
                    "rule_precision": p.rule_precision,
                    "rule_recall": p.rule_recall,
                }
                for p in self.profiles
            ],
            schema_overrides={"revenue_share": pl.Float64},
        )


def _labels_for(df: pl.DataFrame, segments: Any, segment_column: str, id_column: str) -> pl.Series:
    if isinstance(segments, str):
        if segments not in df.columns:
            raise DataError(f"the feature table has no column {segments!r}", column=segments)
        return df.get_column(segments).cast(pl.String)
    if hasattr(segments, "columns"):
        seg = to_polars(segments, numeric_only=False)
        for c in (id_column, segment_column):
            if c not in seg.columns:
                raise DataError(f"the segments table has no {c!r} column", column=c)
        joined = df.select(pl.col(id_column).cast(pl.String)).join(
            seg.select(pl.col(id_column).cast(pl.String), pl.col(segment_column).cast(pl.String)),
            on=id_column,
            how="left",
            maintain_order="left",
        )
        missing = joined.get_column(segment_column).null_count()
        if missing:
            raise DataError(
                f"{missing} customer(s) of the feature table have no segment",
                column=id_column,
                hint="profile the same customers that were segmented",
            )
        return joined.get_column(segment_column)
    labels = pl.Series("segment", [str(v) for v in segments], dtype=pl.String)
    if labels.len() != df.height:
        raise DataError(f"{labels.len()} segment labels for {df.height} customers")
    return labels


def profile_segments(
    features: Any,
    segments: Any,
    *,
    columns: Sequence[str] | None = None,
    revenue: str | None = "total_spend",
    id_column: str = ID_COLUMN,
    segment_column: str = "segment",
    max_depth: int | None = None,
    min_effect: float = 0.3,
    top: int = 5,
    tree_sample: int = 200_000,
    random_state: int = 0,
) -> SegmentProfiles:
    """Profile each segment and derive filter rules from a shallow decision tree.

    Parameters
    ----------
    features : DataFrame
        One row per customer (``seglens features`` output or any table).
    segments : DataFrame, sequence, or str
        A table with ``id_column`` and ``segment_column`` (joined on the id), labels aligned
        with the rows of ``features``, or the name of a column of ``features``.
    columns : list of str, optional
        Feature columns to profile (default: all numeric and string columns except ids and
        segmentation details).
    revenue : str or None
        Column summed for the revenue share (skipped when absent).
    max_depth : int, optional
        Depth of the rule tree, i.e. conditions per rule. Default: 3, or ``ceil(log2(k))``
        when there are more than 8 segments (a depth-3 tree has only 8 leaves), at most 5.
    min_effect : float
        Smallest |Cohen's d| listed as distinguishing.

    Examples
    --------
    >>> import polars as pl
    >>> f = pl.DataFrame({"customer_id": list("abcdef"),
    ...                   "n_orders": [1, 1, 2, 9, 10, 12],
    ...                   "total_spend": [10.0, 15.0, 20.0, 400.0, 500.0, 700.0]})
    >>> p = profile_segments(f, ["low"] * 3 + ["high"] * 3)
    >>> p["high"].rule, p.rule_fidelity, p["high"].revenue_share
    ('total_spend > 210', 1.0, 0.9726443768996961)
    """
    df = to_polars(features, numeric_only=False)
    labels = _labels_for(df, segments, segment_column, id_column)
    if columns is None:
        skip = {id_column, segment_column} | _DETAIL_COLUMNS
        columns = [c for c in df.columns if c not in skip]
    num = [c for c in columns if df.schema[c].is_numeric()]
    cat = [c for c in columns if c not in num]
    if not num and not cat:
        raise DataError("no feature columns to profile")
    names, codes = np.unique(labels.to_numpy().astype(str), return_inverse=True)
    k, n = len(names), df.height
    if max_depth is None:
        max_depth = min(5, max(3, math.ceil(math.log2(max(k, 2)))))
    raw = numeric_matrix(df, num)
    pre = (
        FeaturePreprocessor(numeric=num, categorical=[], scale=False, id_column=id_column).fit(
            df.select(num)
        )
        if num
        else None
    )
    Z = pre.transform_numeric(df) if pre is not None else np.empty((n, 0))
    eff = effect_sizes(Z, codes, k)
    filled = np.where(np.isnan(raw), pre.fill_values_ if pre is not None else 0.0, raw)
    med_seg, med_rest = _medians(filled, codes, k)
    cat_modes = _modes(df, cat, codes, k)
    medians_named = [{c: float(med_seg[s, j]) for j, c in enumerate(num)} for s in range(k)]
    auto = auto_names(num, eff, medians=medians_named) if num else [str(x) for x in names]
    tree = _RuleTree(df, num, cat, filled, codes, max_depth, tree_sample, random_state)
    revenue_col = revenue if revenue is not None and revenue in num else None
    rev = filled[:, num.index(revenue_col)] if revenue_col else None
    counts = np.bincount(codes, minlength=k)
    profiles = []
    for s in range(k):
        order = np.argsort(-np.abs(eff[s]), kind="stable")
        dist = [
            Distinction(num[j], float(eff[s, j]), float(med_seg[s, j]), float(med_rest[s, j]))
            for j in order[:top]
            if abs(eff[s, j]) >= min_effect
        ]
        precision, recall = tree.scores(s)
        profiles.append(
            SegmentProfile(
                segment=str(names[s]),
                auto_name=auto[s],
                size=int(counts[s]),
                share=float(counts[s] / n),
                revenue_share=(
                    float(rev[codes == s].sum() / rev.sum())
                    if rev is not None and rev.sum()
                    else None
                ),
                medians=medians_named[s],
                modes=cat_modes[s],
                distinguishing=dist,
                rule=tree.rule(s),
                rule_precision=precision,
                rule_recall=recall,
            )
        )
    profiles.sort(key=lambda p: -p.size)
    return SegmentProfiles(
        profiles=profiles,
        n_customers=n,
        features=list(columns),
        rule_fidelity=tree.fidelity,
        rule_depth=max_depth,
        revenue_column=revenue_col,
        notes=tree.notes,
    )


def _medians(raw: np.ndarray[Any, Any], codes: np.ndarray[Any, Any], k: int) -> tuple[Any, Any]:
    seg = np.zeros((k, raw.shape[1]))
    rest = np.zeros((k, raw.shape[1]))
    for s in range(k):
        mask = codes == s
        if raw.shape[1]:
            seg[s] = np.median(raw[mask], axis=0)
            rest[s] = np.median(raw[~mask], axis=0) if (~mask).any() else np.nan
    return seg, rest


def _modes(df: pl.DataFrame, cat: list[str], codes: Any, k: int) -> list[dict[str, str]]:
    out: list[dict[str, str]] = [{} for _ in range(k)]
    for c in cat:
        tab = (
            pl.DataFrame({"s": codes, "v": df.get_column(c).cast(pl.String).fill_null("(missing)")})
            .group_by("s", "v")
            .len()
            .sort(["s", "len", "v"], descending=[False, True, False])
            .group_by("s", maintain_order=True)
            .first()
        )
        for s, v, _ in tab.iter_rows():
            out[int(s)][c] = str(v)
    return out


class _RuleTree:
    """One shallow tree on the raw features; leaves voting for a segment form its rule."""

    def __init__(
        self,
        df: pl.DataFrame,
        num: list[str],
        cat: list[str],
        filled: Any,
        codes: Any,
        max_depth: int,
        sample: int,
        seed: int,
    ) -> None:
        blocks = [filled]
        self.cols: list[tuple[str, str | None]] = [(c, None) for c in num]
        for c in cat:
            s = df.get_column(c).cast(pl.String).fill_null("(missing)")
            for v in s.value_counts(sort=True).get_column(c).head(10).to_list():
                blocks.append((s == v).to_numpy().astype(np.float64)[:, None])
                self.cols.append((c, str(v)))
        X = np.hstack(blocks)
        self.integer = [v is None and df.schema[c].is_integer() for c, v in self.cols]
        rng = np.random.default_rng(seed)
        idx = rng.choice(len(codes), sample, replace=False) if len(codes) > sample else slice(None)
        self.notes: list[str] = []
        # entropy, not gini: with many equal-sized segments every gini split ties, and the
        # tie-break peels off one segment per level; entropy prefers balanced splits
        self.tree = DecisionTreeClassifier(
            criterion="entropy",
            max_depth=max_depth,
            min_samples_leaf=max(1, len(codes) // 1000),
            random_state=seed,
        ).fit(X[idx], codes[idx])
        self.pred = self.tree.predict(X)
        self.codes = codes
        self.fidelity = float(np.mean(self.pred == codes))
        if len(codes) > sample:
            self.notes.append(f"rule tree fitted on a sample of {sample:,} customers")

    def scores(self, s: int) -> tuple[float, float]:
        hit = self.pred == s
        truth = self.codes == s
        precision = float((hit & truth).sum() / hit.sum()) if hit.any() else 0.0
        return precision, float((hit & truth).sum() / truth.sum())

    def _cond(self, j: int, thr: float, le: bool) -> str:
        col, val = self.cols[j]
        if val is not None:
            return f"{col} {'!=' if le else '='} {val!r}"
        if self.integer[j]:
            return f"{col} <= {int(np.floor(thr))}" if le else f"{col} >= {int(np.floor(thr)) + 1}"
        return f"{col} <= {thr:.4g}" if le else f"{col} > {thr:.4g}"

    def rule(self, s: int) -> str:
        t = self.tree.tree_
        paths: list[str] = []

        def walk(node: int, bounds: dict[int, list[float | None]], eq: list[str]) -> None:
            if t.children_left[node] == -1:
                if int(np.argmax(t.value[node][0])) == s:
                    paths.append(self._path(bounds, eq))
                return
            j, thr = int(t.feature[node]), float(t.threshold[node])
            lo, hi = bounds.get(j, [None, None])
            if self.cols[j][1] is not None:
                walk(t.children_left[node], bounds, [*eq, self._cond(j, thr, True)])
                walk(t.children_right[node], bounds, [*eq, self._cond(j, thr, False)])
                return
            walk(
                t.children_left[node], {**bounds, j: [lo, thr if hi is None else min(hi, thr)]}, eq
            )
            walk(
                t.children_right[node], {**bounds, j: [thr if lo is None else max(lo, thr), hi]}, eq
            )

        walk(0, {}, [])
        if not paths:
            return "(no rule: the tree never predicts this segment at this depth)"
        if len(paths) == 1:
            return paths[0]
        return " OR ".join(f"({p})" for p in paths)

    def _path(self, bounds: dict[int, list[float | None]], eq: list[str]) -> str:
        conds = []
        for j in sorted(bounds):
            lo, hi = bounds[j]
            if lo is not None:
                conds.append(self._cond(j, lo, False))
            if hi is not None:
                conds.append(self._cond(j, hi, True))
        conds += eq
        return " AND ".join(conds) if conds else "all customers"
