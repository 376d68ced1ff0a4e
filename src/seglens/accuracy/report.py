"""The full accuracy report: one call, every figure with its n and interval.

:func:`accuracy_report` computes, from a single ``np.bincount`` contingency table, the
customer-level accuracy with its Wilson interval, the mapping used, the confusion matrix,
precision / recall / F1 per segment and per label, Cohen's kappa, ARI, NMI and the
segment-level accuracy. ``to_dict`` gives the stable JSON the CLI prints (keys documented in
``docs/accuracy.md``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from seglens.accuracy._core import contingency
from seglens.accuracy._inputs import encode_pair
from seglens.accuracy.align import Aligned, Coverage, align_labels
from seglens.accuracy.matching import correct_count, match_segments
from seglens.accuracy.metrics import (
    ari_from,
    chance_from,
    kappa_from,
    mapped_confusion,
    nmi_from,
    per_label_prf,
)
from seglens.accuracy.segment_level import SegmentLevelResult, SegmentRule, judge_labelled
from seglens.settings import DEFAULT_SETTINGS
from seglens.stats import Estimate, proportion

__all__ = [
    "AccuracyReport",
    "LabelRow",
    "SegmentRow",
    "accuracy_report",
    "accuracy_report_from_tables",
]


@dataclass(frozen=True)
class SegmentRow:
    """One segment of the segmentation, judged against the labels."""

    segment: str
    matched_label: str | None
    size: int
    correct: int
    precision: Estimate
    recall_pct: float
    f1_pct: float
    label_support: int
    accurate: bool
    reason: str

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON form."""
        return {
            "segment": self.segment,
            "matched_label": self.matched_label,
            "n": self.size,
            "correct": self.correct,
            "precision_pct": self.precision.value_pct,
            "precision_ci_low_pct": self.precision.ci_low_pct,
            "precision_ci_high_pct": self.precision.ci_high_pct,
            "recall_pct": self.recall_pct,
            "f1_pct": self.f1_pct,
            "label_support": self.label_support,
            "accurate": self.accurate,
            "reason": self.reason,
        }


@dataclass(frozen=True)
class LabelRow:
    """One reference label: how well the (matched) segmentation finds it."""

    label: str
    support: int
    precision_pct: float
    recall_pct: float
    f1_pct: float
    segments: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON form."""
        return {
            "label": self.label,
            "support": self.support,
            "precision_pct": self.precision_pct,
            "recall_pct": self.recall_pct,
            "f1_pct": self.f1_pct,
            "segments": list(self.segments),
        }


@dataclass(frozen=True)
class AccuracyReport:
    """Everything measured when a segmentation is checked against labels."""

    accuracy: Estimate
    match: str
    mapping: dict[str, str | None]
    labels: tuple[str, ...]
    segments: tuple[str, ...]
    confusion: npt.NDArray[np.int64]
    per_segment: tuple[SegmentRow, ...]
    per_label: tuple[LabelRow, ...]
    kappa: float
    ari: float
    nmi: float
    segment_level: SegmentLevelResult
    chance_pct: float
    target_pct: float
    coverage: Coverage | None = None
    caveats: tuple[str, ...] = field(default_factory=tuple)

    @property
    def n(self) -> int:
        """Customers checked."""
        return self.accuracy.n

    def to_dict(self) -> dict[str, Any]:
        """Stable JSON form (documented keys; new keys may be added, none renamed)."""
        seg = self.segment_level
        return {
            "accuracy_pct": self.accuracy.value_pct,
            "ci_low_pct": self.accuracy.ci_low_pct,
            "ci_high_pct": self.accuracy.ci_high_pct,
            "confidence": self.accuracy.confidence,
            "n": self.n,
            "target_pct": self.target_pct,
            "meets_target": self.accuracy.value_pct >= self.target_pct,
            "match": self.match,
            "mapping": self.mapping,
            "per_segment": [r.to_dict() for r in self.per_segment],
            "per_label": [r.to_dict() for r in self.per_label],
            "confusion": {
                "rows": "labels",
                "columns": "segments",
                "labels": list(self.labels),
                "segments": list(self.segments),
                "matrix": self.confusion.tolist(),
            },
            "chance_accuracy_pct": self.chance_pct,
            "kappa": self.kappa,
            "ari": self.ari,
            "nmi": self.nmi,
            "segment_accuracy_pct": seg.value_pct,
            "segment_accuracy": {
                "ci_low_pct": None if seg.estimate is None else seg.estimate.ci_low_pct,
                "ci_high_pct": None if seg.estimate is None else seg.estimate.ci_high_pct,
                "n_analysed": 0 if seg.estimate is None else seg.estimate.n,
                "n_accurate": sum(v.accurate for v in seg.verdicts),
                "rule": seg.rule,
            },
            "coverage": None if self.coverage is None else self.coverage.to_dict(),
            "caveats": list(self.caveats),
        }


def _caveats(acc: Estimate, target: float, match: str, n_seg: int, n_lab: int) -> list[str]:
    out = []
    if acc.ci_high_pct < target:
        out.append(
            f"accuracy is below the {target:g} % target even at the top of its interval "
            f"({acc.ci_high_pct:.1f} %)"
        )
    elif acc.ci_low_pct < target <= acc.ci_high_pct:
        out.append(f"the interval straddles the {target:g} % target: label more customers")
    if match == "majority" and n_seg > n_lab:
        out.append(
            "majority matching with more segments than labels is optimistic: many small segments "
            "score high by construction"
        )
    return out


def accuracy_report(
    y_true: object,
    y_pred: object,
    *,
    match: str = "auto",
    confidence: float = DEFAULT_SETTINGS.confidence,
    rule: SegmentRule | None = None,
    coverage: Coverage | None = None,
) -> AccuracyReport:
    """Check segments against labels: accuracy with CI and every companion figure.

    Parameters
    ----------
    y_true, y_pred
        Labels and segments of the same customers, in the same order.
    match
        ``"auto"``, ``"names"``, ``"hungarian"`` or ``"majority"``.
    confidence
        Level of every interval.
    rule
        Segment-level rule (default: lower Wilson bound of precision >= 85 %).
    coverage
        Coverage counts to carry along (set by :func:`accuracy_report_from_tables`).

    Examples
    --------
    >>> truth = ["loyal"] * 50 + ["new"] * 50
    >>> pred = [0] * 45 + [1] * 5 + [1] * 45 + [0] * 5
    >>> rep = accuracy_report(truth, pred)
    >>> rep.accuracy.value_pct, rep.mapping
    (90.0, {'0': 'loyal', '1': 'new'})
    >>> rep.to_dict()["confusion"]["matrix"]
    [[45, 5], [5, 45]]
    """
    rule = rule or SegmentRule()
    t, p = encode_pair(y_true, y_pred)
    c = contingency(t.codes, t.k, p.codes, p.k)
    m = match_segments(c, t, p, match)
    n = int(t.codes.size)
    acc = proportion(correct_count(c, m), n, confidence)
    labels = tuple(str(v) for v in t.values)
    segments = tuple(str(v) for v in p.values)
    mc = mapped_confusion(c, m)
    prec, rec, f1 = per_label_prf(mc)
    support = c.sum(axis=1)
    sizes = c.sum(axis=0)
    per_label = tuple(
        LabelRow(
            lab,
            int(support[i]),
            100.0 * float(prec[i]),
            100.0 * float(rec[i]),
            100.0 * float(f1[i]),
            tuple(segments[j] for j in np.flatnonzero(m.segment_to_label == i)),
        )
        for i, lab in enumerate(labels)
    )
    precisions: dict[str, Estimate] = {}
    rows: list[tuple[str, str | None, int, int, float, float, int]] = []
    for j, seg in enumerate(segments):
        i = int(m.segment_to_label[j])
        corr = int(c[i, j]) if i >= 0 else 0
        sup = int(support[i]) if i >= 0 else 0
        p_ = corr / sizes[j] if sizes[j] else 0.0
        r_ = corr / sup if sup else 0.0
        f_ = 2 * p_ * r_ / (p_ + r_) if p_ + r_ > 0 else 0.0
        precisions[seg] = proportion(corr, int(sizes[j]), confidence)
        rows.append((seg, labels[i] if i >= 0 else None, int(sizes[j]), corr, r_, f_, sup))
    seg_level = judge_labelled(precisions, rule, confidence)
    per_segment = tuple(
        SegmentRow(
            seg,
            lab,
            size,
            corr,
            precisions[seg],
            100.0 * r_,
            100.0 * f_,
            sup,
            verdict.accurate,
            verdict.reason if lab is not None else "matches no label; " + verdict.reason,
        )
        for (seg, lab, size, corr, r_, f_, sup), verdict in zip(
            rows, seg_level.verdicts, strict=True
        )
    )
    return AccuracyReport(
        accuracy=acc,
        match=m.method,
        mapping=m.as_dict(p.values, t.values),
        labels=labels,
        segments=segments,
        confusion=c,
        per_segment=per_segment,
        per_label=per_label,
        kappa=kappa_from(mc),
        ari=ari_from(c),
        nmi=nmi_from(c),
        segment_level=seg_level,
        chance_pct=100.0 * chance_from(mc),
        target_pct=rule.target_pct,
        coverage=coverage,
        caveats=tuple(_caveats(acc, rule.target_pct, m.method, len(segments), len(labels))),
    )


def accuracy_report_from_tables(
    assignments: object,
    labels: object,
    *,
    match: str = "auto",
    confidence: float = DEFAULT_SETTINGS.confidence,
    rule: SegmentRule | None = None,
) -> AccuracyReport:
    """:func:`accuracy_report` on two ``customer_id, segment`` tables joined by customer id.

    Examples
    --------
    >>> import polars as pl
    >>> seg = pl.DataFrame({"customer_id": ["1", "2", "3", "4"], "segment": ["a", "a", "b", "b"]})
    >>> lab = pl.DataFrame({"customer_id": ["1", "2", "3", "7"], "segment": ["a", "b", "b", "b"]})
    >>> rep = accuracy_report_from_tables(seg, lab)
    >>> round(rep.accuracy.value_pct, 1), rep.coverage.n_labels_unknown_customer
    (66.7, 1)
    """
    al: Aligned = align_labels(assignments, labels)
    return accuracy_report(
        al.y_true, al.y_pred, match=match, confidence=confidence, rule=rule, coverage=al.coverage
    )
