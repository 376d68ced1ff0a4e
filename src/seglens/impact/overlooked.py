"""Overlooked segments: customers the current segmentation serves badly, re-clustered.

A customer is *served badly* when it sits far from its segment (not nearest to its own
segment's centre in standardized feature space, or beyond the 95th percentile of distances to
own centres), has a low membership probability, is in a catch-all segment, or has had its label
corrected. Those customers are re-clustered (k-means, k by silhouette); each cluster becomes a
candidate segment described by a short readable rule (a depth-limited decision tree), with its
size, revenue, profile and the change in *nearest-centre fit agreement* if the rule were adopted.

Nearest-centre fit agreement (:func:`fit_accuracy`) is **not** the Segmentation Accuracy KPI: a
customer *fits* when its own segment's centre is the nearest one in standardized feature space;
a segment fits when at least ``target`` (85 %) of its customers do. It says how compact the
segments are in these features, not whether a customer is in the segment the business means (a
rule-based segmentation can be right and fit poorly); the KPI needs labels (``seglens accuracy``,
``seglens audit-sample``).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
import polars as pl

from seglens.errors import DataError
from seglens.impact._mle import FloatArray
from seglens.settings import DEFAULT_SETTINGS
from seglens.stats import Estimate, proportion

__all__ = [
    "FIT_MEASURE",
    "Condition",
    "FitAccuracy",
    "Proposal",
    "adopt",
    "discover_segments",
    "fit_accuracy",
]

FIT_MEASURE = "nearest-centre fit agreement (not the segmentation accuracy KPI)"
"""What ``discover`` measures, in the words its output uses."""

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Condition:
    """One clause of a rule: ``feature op threshold`` with ``op`` in ``<=``/``>``."""

    feature: str
    op: str
    threshold: float

    def expr(self) -> pl.Expr:
        """The clause as a Polars expression."""
        col = pl.col(self.feature).cast(pl.Float64)
        return col <= self.threshold if self.op == "<=" else col > self.threshold

    def __str__(self) -> str:
        return f"{self.feature} {self.op} {self.threshold:.4g}"


@dataclass(frozen=True)
class FitAccuracy:
    """Nearest-centre fit agreement of a segmentation (not the KPI), with CIs.

    ``customer``: share of customers nearest their own segment's centre; ``segment``: share of
    segments where at least the target share of customers are; ``per_segment``: each segment's
    share (0–1).
    """

    customer: Estimate
    segment: Estimate
    per_segment: dict[str, float]


@dataclass
class Proposal:
    """A candidate new segment and what adopting it would change."""

    name: str
    rule: list[Condition]
    size: int
    revenue: float
    revenue_share: float
    profile: dict[str, float]
    from_segments: dict[str, int]
    before: FitAccuracy
    after: FitAccuracy
    eligible: frozenset[str] = frozenset()
    """Customers the rule applies to: those served badly by the current segmentation."""
    notes: list[str] = field(default_factory=list)

    @property
    def rule_text(self) -> str:
        """The rule in words a CRM filter can take (applied to the badly served customers)."""
        return "served badly now and " + " and ".join(str(c) for c in self.rule)

    @property
    def fit_agreement_change(self) -> float:
        """Change in customer-level nearest-centre fit agreement, percentage points."""
        return self.after.customer.value_pct - self.before.customer.value_pct

    @property
    def segment_fit_agreement_change(self) -> float:
        """Change in the share of segments that fit (nearest-centre), percentage points."""
        return self.after.segment.value_pct - self.before.segment.value_pct

    def to_dict(self) -> dict[str, object]:
        """JSON-ready summary."""

        def est(e: Estimate) -> dict[str, float | int]:
            return {"value": e.value_pct, "low": e.ci_low_pct, "high": e.ci_high_pct, "n": e.n}

        return {
            "name": self.name,
            "rule": self.rule_text,
            "conditions": [
                {"feature": c.feature, "op": c.op, "threshold": c.threshold} for c in self.rule
            ],
            "eligible_customers": len(self.eligible),
            "size": self.size,
            "revenue": self.revenue,
            "revenue_share": self.revenue_share,
            "profile_median": self.profile,
            "taken_from": self.from_segments,
            "fit_measure": FIT_MEASURE,
            "fit_agreement_before": est(self.before.customer),
            "fit_agreement_after": est(self.after.customer),
            "fit_agreement_change_pp": self.fit_agreement_change,
            "segment_fit_agreement_before": est(self.before.segment),
            "segment_fit_agreement_after": est(self.after.segment),
            "segment_fit_agreement_change_pp": self.segment_fit_agreement_change,
            "notes": self.notes,
        }


def _matrix(features: pl.DataFrame, columns: Sequence[str]) -> FloatArray:
    """Standardized features; non-negative skewed columns are log1p-transformed first."""
    cols = []
    for c in columns:
        v = features[c].cast(pl.Float64).fill_null(0.0).to_numpy()
        if v.min() >= 0 and np.median(v) > 0 and v.max() > 10 * np.median(v):
            v = np.log1p(v)
        sd = v.std()
        cols.append((v - v.mean()) / (sd if sd > 0 else 1.0))
    return np.column_stack(cols)


def _nearest(
    x: FloatArray, labels: npt.NDArray[np.str_]
) -> tuple[npt.NDArray[np.str_], FloatArray]:
    names = sorted(set(labels.tolist()))
    centres = np.vstack([x[labels == s].mean(axis=0) for s in names])
    d = ((x[:, None, :] - centres[None, :, :]) ** 2).sum(axis=2)
    own = d[np.arange(x.shape[0]), [names.index(s) for s in labels]]
    return np.array(names)[d.argmin(axis=1)], np.sqrt(own)


def fit_accuracy(
    features: pl.DataFrame,
    segments: Sequence[str] | pl.Series | npt.NDArray[Any],
    *,
    columns: Sequence[str],
    target: float = DEFAULT_SETTINGS.target_pct / 100,
) -> FitAccuracy:
    """Nearest-centre fit agreement (not the KPI): customers nearest their own segment's
    centre; segments where at least ``target`` of the customers are.

    Examples
    --------
    >>> import polars as pl
    >>> f = pl.DataFrame({"x": [0.0, 0.1, 0.2, 5.0, 5.1, 0.3]})
    >>> a = fit_accuracy(f, ["a", "a", "a", "b", "b", "b"], columns=["x"])
    >>> round(a.customer.value_pct, 1), a.segment.value_pct
    (83.3, 50.0)
    """
    labels = np.asarray(list(segments), dtype=str)
    if labels.size != features.height:
        raise DataError("one segment per customer is needed")
    nearest, _ = _nearest(_matrix(features, columns), labels)
    ok = nearest == labels
    per = {s: float(ok[labels == s].mean()) for s in sorted(set(labels.tolist()))}
    good = sum(v >= target for v in per.values())
    return FitAccuracy(proportion(int(ok.sum()), ok.size), proportion(good, len(per)), per)


def adopt(
    features: pl.DataFrame,
    segments: Sequence[str] | pl.Series | npt.NDArray[Any],
    proposal: Proposal,
) -> list[str]:
    """Segments after adopting ``proposal``.

    The badly served customers (``proposal.eligible``) that match its rule move to the new
    segment; ``features`` needs ``customer_id`` and is aligned with ``segments``.
    """
    match = features.select(
        pl.all_horizontal(
            [c.expr() for c in proposal.rule]
            + [pl.col("customer_id").cast(pl.String).is_in(list(proposal.eligible))]
        )
    ).to_series()
    return [proposal.name if m else s for m, s in zip(match, list(segments), strict=True)]


def _rule_for(
    x: pl.DataFrame, columns: Sequence[str], target: npt.NDArray[np.bool_], depth: int
) -> list[Condition]:
    from sklearn.tree import DecisionTreeClassifier

    data = x.select([pl.col(c).cast(pl.Float64).fill_null(0.0) for c in columns]).to_numpy()
    tree = DecisionTreeClassifier(
        max_depth=depth,
        min_samples_leaf=max(5, int(target.sum() // 10)),
        class_weight="balanced",
        random_state=0,
    ).fit(data, target)
    t = tree.tree_
    best: tuple[float, list[Condition]] = (-1.0, [])

    def walk(node: int, path: list[Condition]) -> None:
        nonlocal best
        if t.children_left[node] == -1:
            idx = _leaf_members(data, path, columns)
            tp = float(target[idx].sum())
            if idx.sum() == 0 or tp == 0:
                return
            precision, recall = tp / idx.sum(), tp / target.sum()
            f1 = 2 * precision * recall / (precision + recall)
            if f1 > best[0]:
                best = (f1, path)
            return
        f, thr = columns[t.feature[node]], float(t.threshold[node])
        walk(t.children_left[node], [*path, Condition(f, "<=", thr)])
        walk(t.children_right[node], [*path, Condition(f, ">", thr)])

    walk(0, [])
    return _simplify(best[1])


def _leaf_members(
    data: FloatArray, path: list[Condition], columns: Sequence[str]
) -> npt.NDArray[np.bool_]:
    idx = np.ones(data.shape[0], bool)
    for c in path:
        v = data[:, list(columns).index(c.feature)]
        idx &= v <= c.threshold if c.op == "<=" else v > c.threshold
    return idx


def _simplify(path: list[Condition]) -> list[Condition]:
    """Keep the tightest bound per (feature, direction)."""
    out: dict[tuple[str, str], Condition] = {}
    for c in path:
        key = (c.feature, c.op)
        prev = out.get(key)
        if prev is None or (
            c.threshold < prev.threshold if c.op == "<=" else c.threshold > prev.threshold
        ):
            out[key] = c
    return list(out.values())


def _poorly_served(
    x: FloatArray,
    labels: npt.NDArray[np.str_],
    *,
    catch_all: Sequence[str],
    membership: FloatArray | None,
    min_membership: float,
    corrected: npt.NDArray[np.bool_] | None,
) -> npt.NDArray[np.bool_]:
    nearest, own = _nearest(x, labels)
    flag = (nearest != labels) | (own > np.quantile(own, 0.95)) | np.isin(labels, list(catch_all))
    if membership is not None:
        flag |= membership < min_membership
    if corrected is not None:
        flag |= corrected
    return np.asarray(flag, dtype=bool)


def discover_segments(
    features: pl.DataFrame,
    assignments: pl.DataFrame,
    *,
    columns: Sequence[str],
    revenue_col: str | None = None,
    catch_all: Sequence[str] = ("Others",),
    membership_col: str | None = None,
    min_membership: float = 0.5,
    labels: pl.DataFrame | None = None,
    max_candidates: int = 4,
    min_size: int = 20,
    rule_depth: int = 2,
    target: float = DEFAULT_SETTINGS.target_pct / 100,
    seed: int = 0,
) -> list[Proposal]:
    """Propose new segments for the customers the current segmentation serves badly.

    Parameters
    ----------
    features
        One row per customer: ``customer_id`` and the numeric ``columns`` (and ``revenue_col``).
    assignments
        ``customer_id``, ``segment`` (and ``membership_col`` if given).
    catch_all
        Names of catch-all segments, whose customers all count as served badly.
    labels
        Optional LABELS table; customers whose reviewed segment differs from their assignment
        count as served badly.

    Returns
    -------
    list of Proposal
        Largest gain in customer-level nearest-centre fit agreement first.
    """
    from sklearn.cluster import KMeans
    from sklearn.metrics import silhouette_score

    data = features.join(assignments, on="customer_id", how="inner")
    if data.height < 2 * min_size:
        raise DataError(f"too few customers ({data.height}) to look for overlooked segments")
    for c in columns:
        if c not in data.columns:
            raise DataError(f"feature column {c!r} is missing", column=c)
    seg = data["segment"].cast(pl.String).to_numpy().astype(str)
    x = _matrix(data, columns)
    membership = data[membership_col].to_numpy().astype(float) if membership_col else None
    corrected = None
    if labels is not None:
        wrong = labels.join(
            data.select("customer_id", pl.col("segment").alias("_a")), on="customer_id"
        )
        ids = set(wrong.filter(pl.col("segment") != pl.col("_a"))["customer_id"].to_list())
        corrected = data["customer_id"].is_in(list(ids)).to_numpy()
    flag = _poorly_served(
        x,
        seg,
        catch_all=catch_all,
        membership=membership,
        min_membership=min_membership,
        corrected=corrected,
    )
    logger.info("%d of %d customers are served badly", int(flag.sum()), flag.size)
    if flag.sum() < min_size:
        return []
    xs = x[flag]
    eligible = frozenset(data["customer_id"].cast(pl.String).filter(pl.Series(flag)).to_list())
    best_k, best_s, best_lab = 1, -1.0, np.zeros(xs.shape[0], int)
    for k in range(2, max_candidates + 1):
        if xs.shape[0] <= k:
            break
        lab = KMeans(n_clusters=k, n_init=4, random_state=seed).fit_predict(xs)
        if np.sum(np.bincount(lab) >= min_size) < 2:
            continue  # a split that only isolates a few outliers proposes nothing
        sample = min(xs.shape[0], 3000)
        s = float(silhouette_score(xs, lab, sample_size=sample, random_state=seed))
        if s > best_s:
            best_k, best_s, best_lab = k, s, lab
    before = fit_accuracy(data, seg, columns=columns, target=target)
    revenue = data[revenue_col].cast(pl.Float64).fill_null(0.0) if revenue_col else None
    proposals = []
    # candidate groups: every badly served customer as one group, then each re-cluster
    groups = [np.ones(xs.shape[0], bool)] + [best_lab == j for j in range(best_k)] * (best_k > 1)
    for j, in_group in enumerate(groups):
        target_mask = np.zeros(seg.size, bool)
        target_mask[np.flatnonzero(flag)[in_group]] = True
        if target_mask.sum() < min_size:
            continue
        rule = _rule_for(data.filter(pl.Series(flag)), columns, target_mask[flag], rule_depth)
        if not rule:
            continue
        name = f"Candidate {j + 1}"
        prop = Proposal(name, rule, 0, 0.0, 0.0, {}, {}, before, before, eligible)
        new_seg = np.array(adopt(data, seg, prop))
        members = new_seg == name
        if members.sum() < min_size or members.all():
            continue
        prop.size = int(members.sum())
        prop.after = fit_accuracy(data, new_seg, columns=columns, target=target)
        if revenue is not None:
            rev = revenue.to_numpy()
            prop.revenue = float(rev[members].sum())
            prop.revenue_share = prop.revenue / float(rev.sum()) if rev.sum() else 0.0
        prop.profile = {
            c: float(np.median(data[c].cast(pl.Float64).to_numpy()[members])) for c in columns
        }
        moved = pl.Series(seg[members]).value_counts(sort=True)
        prop.from_segments = {str(k): int(v) for k, v in moved.iter_rows()}
        prop.notes.append(
            f"re-clustered {int(flag.sum())} badly served customers into {best_k} groups "
            f"(silhouette {best_s:.2f}); this one had {int(target_mask.sum())}"
        )
        proposals.append(prop)
    proposals.sort(key=lambda p: -p.fit_agreement_change)
    for rank, prop in enumerate(proposals, start=1):
        prop.name = f"Candidate {rank}"  # a label only: the fit figures do not depend on it
    return proposals
