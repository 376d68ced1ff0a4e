"""Rows of an accuracy report: per segment, per label, and label values no segment serves."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from seglens.accuracy.matching import Matching
from seglens.accuracy.metrics import per_label_prf
from seglens.accuracy.segment_level import (
    SegmentLevelResult,
    SegmentRule,
    SegmentVerdict,
    judge_labelled,
)
from seglens.stats import Estimate, proportion

__all__ = ["LabelRow", "SegmentRow", "UnservedLabel", "per_label", "per_segment", "unserved"]


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
    status: str = "accurate"
    labels_to_decide: int | None = None

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
            "status": self.status,
            "labels_to_decide": self.labels_to_decide,
            "reason": self.reason,
        }


@dataclass(frozen=True)
class UnservedLabel:
    """A label value no segment is mapped to: its customers can never count as correct."""

    label: str
    n_labelled: int

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON form."""
        return {"label": self.label, "n_labelled": self.n_labelled}


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


def unserved(
    c: npt.NDArray[np.int64], m: Matching, labels: tuple[str, ...]
) -> tuple[UnservedLabel, ...]:
    """Label values (with customers) that no segment is mapped to."""
    served = set(m.segment_to_label[m.segment_to_label >= 0].tolist())
    support = c.sum(axis=1)
    return tuple(
        UnservedLabel(lab, int(support[i]))
        for i, lab in enumerate(labels)
        if i not in served and support[i] > 0
    )


def per_label(
    c: npt.NDArray[np.int64],
    mc: npt.NDArray[np.int64],
    m: Matching,
    labels: tuple[str, ...],
    segments: tuple[str, ...],
) -> tuple[LabelRow, ...]:
    """Precision, recall, F1 and support of every label after mapping."""
    prec, rec, f1 = per_label_prf(mc)
    support = c.sum(axis=1)
    return tuple(
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


def per_segment(
    c: npt.NDArray[np.int64],
    m: Matching,
    labels: tuple[str, ...],
    segments: tuple[str, ...],
    rule: SegmentRule,
    confidence: float,
) -> tuple[SegmentLevelResult, tuple[SegmentRow, ...]]:
    """Precision, recall, F1 and the segment-level verdict of every segment under the mapping."""
    support = c.sum(axis=1)
    sizes = c.sum(axis=0)
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
        _segment_row(row, precisions[row[0]], verdict)
        for row, verdict in zip(rows, seg_level.verdicts, strict=True)
    )
    return seg_level, per_segment


def _segment_row(
    row: tuple[str, str | None, int, int, float, float, int],
    precision: Estimate,
    verdict: SegmentVerdict,
) -> SegmentRow:
    """One :class:`SegmentRow` from its counts, precision and verdict."""
    seg, lab, size, corr, r_, f_, sup = row
    reason = verdict.reason if lab is not None else "matches no label; " + verdict.reason
    return SegmentRow(
        seg,
        lab,
        size,
        corr,
        precision,
        100.0 * r_,
        100.0 * f_,
        sup,
        verdict.accurate,
        reason,
        verdict.status,
        verdict.labels_to_decide,
    )
