"""Findings computed from a snapshot: weak segments, confused pairs, label shortfalls, risks.

These are the facts the diagnostics, improvement tips and risk warnings attributes put into words;
keeping them as data lets tests check the reasoning rather than the phrasing.
"""

from __future__ import annotations

from dataclasses import dataclass

from seglens.report.snapshot import (
    Estimate,
    LearningSummary,
    LearntConfusion,
    ReviewSnapshot,
    SegmentStat,
    Severity,
)
from seglens.report.text import fmt_est, fmt_p, q
from seglens.stats import comparison_se, labels_needed

__all__ = [
    "ConfusedPair",
    "LabelShortfall",
    "LearningGain",
    "MissingData",
    "Risk",
    "confused_pairs",
    "label_shortfalls",
    "learning_gain",
    "missing_data",
    "risks",
    "true_label_of",
    "weakest_segments",
]

MIN_SEGMENT_LABELS = 30
"""Fewer labelled customers than this in a segment make its precision too uncertain to act on."""
STABLE = 0.75
DISSOLVED = 0.5


def true_label_of(seg: SegmentStat) -> str:
    """The label a segment is supposed to hold (its matched label, else its own name)."""
    return seg.matched_label if seg.matched_label is not None else seg.name


def weakest_segments(snap: ReviewSnapshot, k: int = 3) -> list[SegmentStat]:
    """Segments with a labelled precision, lowest point estimate first (at most ``k``)."""
    scored = [s for s in snap.segments if s.precision is not None and s.precision.n > 0]
    scored.sort(key=lambda s: (s.precision.value_pct if s.precision else 0.0, s.name))
    return scored[:k]


def belongs_to(snap: ReviewSnapshot, seg: SegmentStat) -> list[tuple[str, int, float]]:
    """Where a segment's labelled customers really belong: ``(label, count, share %)``."""
    if snap.confusion is None or seg.name not in snap.confusion.segments:
        return []
    col = snap.confusion.column(seg.name)
    total = sum(col.values())
    if total == 0:
        return []
    rows = [(lab, c, 100.0 * c / total) for lab, c in col.items() if c > 0]
    rows.sort(key=lambda r: (-r[1], r[0]))
    return rows


@dataclass(frozen=True)
class ConfusedPair:
    """Two segments whose customers are mixed up (shares: % of each one's labelled customers)."""

    a: str
    b: str
    a_in_b_pct: float
    """Share of segment ``a``'s customers that truly belong to ``b``'s label."""
    b_in_a_pct: float
    count: int

    @property
    def mutual(self) -> bool:
        """Both directions are substantial (>= 20 %): a merge candidate."""
        return min(self.a_in_b_pct, self.b_in_a_pct) >= 20.0


def confused_pairs(snap: ReviewSnapshot, min_share_pct: float = 10.0) -> list[ConfusedPair]:
    """Segment pairs where >= ``min_share_pct`` of one side's customers belong to the other."""
    conf = snap.confusion
    if conf is None:
        return []
    segs = [s for s in snap.segments if s.name in conf.segments]
    cols = {s.name: conf.column(s.name) for s in segs}
    pairs: list[ConfusedPair] = []
    for i, a in enumerate(segs):
        for b in segs[i + 1 :]:
            ca, cb = cols[a.name], cols[b.name]
            na, nb = sum(ca.values()), sum(cb.values())
            a_in_b = ca.get(true_label_of(b), 0)
            b_in_a = cb.get(true_label_of(a), 0)
            sa = 100.0 * a_in_b / na if na else 0.0
            sb = 100.0 * b_in_a / nb if nb else 0.0
            if max(sa, sb) >= min_share_pct:
                pairs.append(ConfusedPair(a.name, b.name, sa, sb, a_in_b + b_in_a))
    pairs.sort(key=lambda p: (-(p.a_in_b_pct + p.b_in_a_pct), p.a, p.b))
    return pairs


@dataclass(frozen=True)
class LabelShortfall:
    """Labels to add so an estimate's interval reaches the target margin."""

    segment: str | None
    """``None`` for the overall KPI."""
    have: int
    need: int

    @property
    def more(self) -> int:
        """How many more labelled customers are needed."""
        return max(0, self.need - self.have)


def label_shortfalls(snap: ReviewSnapshot) -> list[LabelShortfall]:
    """Overall and per-segment label counts short of the ``margin_pct`` target."""
    margin = snap.margin_pct
    out: list[LabelShortfall] = []
    acc = snap.accuracy
    if acc is not None and acc.half_width_pct > snap.margin_pct:
        out.append(LabelShortfall(None, acc.n, labels_needed(margin, expected_pct=acc.value_pct)))
    for s in snap.segments:
        p = s.precision
        if p is not None and p.half_width_pct > snap.margin_pct:
            out.append(LabelShortfall(s.name, p.n, labels_needed(margin, expected_pct=p.value_pct)))
    return out


UNSEPARATED_PCT = 25.0
"""Out of fold, a quarter or more of one label's customers put in another segment: the learnt
model's inputs do not separate the two."""


@dataclass(frozen=True)
class LearningGain:
    """Before vs after adopting the learnt segmentation, both measured KPIs (the after one on a
    fresh audit): the difference test of the two estimates (independent samples)."""

    before: Estimate
    after: Estimate
    delta_points: float
    ci_low_points: float
    ci_high_points: float
    p_value: float


def _est_se(e: Estimate) -> float:
    return comparison_se(e.se_pct, e.ci_low_pct, e.ci_high_pct, e.confidence)


def learning_gain(snap: ReviewSnapshot) -> LearningGain | None:
    """The measured gain of the learnt segmentation; ``None`` unless both the before figure and
    an after figure re-measured on a fresh audit exist (labels learnt from never count)."""
    from seglens.tracking import compare_measurements

    lrn = snap.learning
    if lrn is None or lrn.before is None or lrn.expected is None:
        return None
    t = compare_measurements(
        (lrn.before.value_pct, _est_se(lrn.before)),
        (lrn.expected.value_pct, _est_se(lrn.expected)),
    )
    return LearningGain(
        lrn.before, lrn.expected, t.diff_pts, t.ci_low_pts, t.ci_high_pts, t.p_value
    )


@dataclass(frozen=True)
class MissingData:
    """Why more labels alone will not fix the segmentation: data the inputs lack."""

    flat: bool
    """The learning curve is flat."""
    pair: LearntConfusion | None
    """The worst-separated confused pair (largest out-of-fold share), when >= UNSEPARATED_PCT."""
    top_inputs: tuple[str, ...]
    behavioural_pct: float | None
    demographic_pct: float | None


def missing_data(lrn: LearningSummary | None) -> MissingData | None:
    """A "missing data" finding when the curve is flat or the inputs leave a pair unseparated."""
    if lrn is None:
        return None
    worst = max(lrn.confused, key=lambda c: (c.share_pct, c.customers), default=None)
    pair = worst if worst is not None and worst.share_pct >= UNSEPARATED_PCT else None
    flat = lrn.projection_status == "flat"
    if not flat and pair is None:
        return None
    top = tuple(i.column for i in lrn.inputs if i.drop_pts > 0.05)[:3]
    return MissingData(flat, pair, top, lrn.share_pct("behavioural"), lrn.share_pct("demographic"))


@dataclass(frozen=True)
class Risk:
    """One risk warning with its severity and the rule that raised it."""

    severity: Severity
    kind: str
    message: str


def _kpi_risks(snap: ReviewSnapshot) -> list[Risk]:
    acc, t = snap.accuracy, snap.target_pct
    out: list[Risk] = []
    if acc is None:
        return [
            Risk(
                "warning",
                "not-measured",
                f"Segmentation accuracy is not measured for {snap.period} (n = 0): no labelled "
                f"customer judged this run, so whether it meets the {t:g} % target is unknown. "
                "Label-free signals are monitoring, not the KPI.",
            )
        ]
    if acc.ci_high_pct < t:
        out.append(
            Risk(
                "critical",
                "below-target",
                f"The KPI is below the {t:g} % target with 95 % confidence "
                f"(upper bound {acc.ci_high_pct:.1f} %).",
            )
        )
    elif acc.value_pct < t:
        out.append(
            Risk(
                "warning",
                "below-target",
                f"The point estimate {acc.value_pct:.1f} % is below the {t:g} % target "
                "(the interval still reaches it).",
            )
        )
    change = snap.change
    if change is not None and change.significant_drop:
        out.append(
            Risk(
                "critical",
                "significant-drop",
                f"Significant drop of {abs(change.delta_points):.1f} points since "
                f"{change.previous_period} ({fmt_p(change.p_value)}).",
            )
        )
    return out


def _segment_risks(snap: ReviewSnapshot) -> list[Risk]:
    out: list[Risk] = []
    for s in snap.segments:
        if s.stability is not None and s.stability < DISSOLVED:
            out.append(
                Risk(
                    "critical",
                    "instability",
                    f"Segment {q(s.name)} dissolves under resampling "
                    f"(bootstrap Jaccard {s.stability:.2f} < {DISSOLVED}).",
                )
            )
        elif s.stability is not None and s.stability < STABLE:
            out.append(
                Risk(
                    "warning",
                    "instability",
                    f"Segment {q(s.name)} is not stable under resampling "
                    f"(bootstrap Jaccard {s.stability:.2f} < {STABLE}).",
                )
            )
        if snap.measured:
            n = s.precision.n if s.precision is not None else 0
            if n < MIN_SEGMENT_LABELS:
                out.append(
                    Risk(
                        "warning",
                        "small-sample",
                        f"Segment {q(s.name)} has {n} labelled customers "
                        f"(< {MIN_SEGMENT_LABELS}): its precision cannot be relied on.",
                    )
                )
    return out


def _learning_risks(snap: ReviewSnapshot) -> list[Risk]:
    lrn = snap.learning
    if lrn is None:
        return []
    gain = learning_gain(snap)
    if gain is None:
        return [
            Risk(
                "info",
                "learning-unmeasured",
                "The segmentation learnt from the labels has no KPI measured on a fresh audit: "
                f"its {fmt_est(lrn.agreement)} is agreement with the {lrn.n_labels:,} labels it "
                "learnt from, not the KPI it would reach.",
            )
        ]
    if gain.delta_points < 0 and gain.p_value < 0.05:
        return [
            Risk(
                "warning",
                "learning-worse",
                f"The learnt segmentation measures worse on a fresh audit: {fmt_est(gain.after)} "
                f"against {fmt_est(gain.before)} before ({fmt_p(gain.p_value)}); do not adopt it.",
            )
        ]
    return []


def risks(snap: ReviewSnapshot) -> list[Risk]:
    """All risk warnings, most severe first: KPI, segments, samples, labels, data quality."""
    out = _kpi_risks(snap) + _segment_risks(snap)
    for short in label_shortfalls(snap):
        if short.segment is None:
            out.append(
                Risk(
                    "warning",
                    "small-sample",
                    f"The KPI's interval is wider than ±{snap.margin_pct:g} points: "
                    f"{short.have:,} labels, about {short.need:,} needed.",
                )
            )
    if snap.labels is not None and snap.labels.unknown_customers:
        out.append(
            Risk(
                "warning",
                "data-quality",
                f"{snap.labels.unknown_customers:,} labels point to customers that are not in "
                "this segmentation; they are excluded from the KPI and listed here.",
            )
        )
    out.extend(_learning_risks(snap))
    out.extend(Risk(f.severity, "data-quality", f.message) for f in snap.findings)
    order = {"critical": 0, "warning": 1, "info": 2}
    out.sort(key=lambda r: order[r.severity])
    return out
