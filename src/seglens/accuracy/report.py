"""The full accuracy report: one call, every figure with its n and interval.

:func:`accuracy_report` computes, from a single ``np.bincount`` contingency table, the
customer-level accuracy with its interval (Wilson for a declared mapping; cross-fitted, with the
permutation-null baseline, when the mapping is learnt from the labels — see
:mod:`seglens.accuracy.crossfit`), the mapping used, the label values no segment serves, the
confusion matrix, precision / recall / F1 per segment and per label, Cohen's kappa, ARI, NMI and
the segment-level accuracy. ``to_dict`` gives the stable JSON the CLI prints (keys documented in
``docs/accuracy.md``).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import numpy.typing as npt

from seglens import _html
from seglens.accuracy._core import contingency
from seglens.accuracy._inputs import encode_pair
from seglens.accuracy._rows import (
    LabelRow,
    SegmentRow,
    UnservedLabel,
    per_label,
    per_segment,
    unserved,
)
from seglens.accuracy.align import Aligned, Coverage, align_labels
from seglens.accuracy.crossfit import (
    DEFAULT_FOLDS,
    DEFAULT_PERMUTATIONS,
    DEFAULT_RESAMPLES,
    CrossFitted,
    cross_fitted_accuracy,
)
from seglens.accuracy.matching import correct_count, match_segments
from seglens.accuracy.metrics import (
    ari_from,
    chance_from,
    kappa_from,
    mapped_confusion,
    nmi_from,
)
from seglens.accuracy.segment_level import (
    Basis,
    SegmentLevelResult,
    SegmentRule,
    interval_verdict,
)
from seglens.settings import DEFAULT_SETTINGS
from seglens.stats import Estimate, PermutationNull, labels_to_decide, proportion

__all__ = [
    "AccuracyReport",
    "LabelRow",
    "SegmentRow",
    "UnservedLabel",
    "accuracy_report",
    "accuracy_report_from_tables",
]


@dataclass(frozen=True)
class AccuracyReport:
    """Everything measured when a segmentation is checked against labels.

    ``accuracy`` is the customer-level KPI: the plain share with its Wilson interval when the
    mapping was declared (``match="names"``), the cross-fitted share with its interval when it was
    learnt from these labels (``fitted_mapping``; details in ``cross_fit``). ``unserved_labels``
    lists label values no segment is mapped to (their customers are always counted wrong).
    """

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
    cross_fit: CrossFitted | None = None
    unserved_labels: tuple[UnservedLabel, ...] = ()
    basis: Basis = "lower_bound"

    @property
    def n(self) -> int:
        """Customers checked."""
        return self.accuracy.n

    @property
    def fitted_mapping(self) -> bool:
        """Whether the segment -> label mapping was learnt from these labels (cross-fitted)."""
        return self.cross_fit is not None

    @property
    def apparent_accuracy(self) -> Estimate:
        """Share agreeing with the mapping learnt on all labels (optimistic when learnt)."""
        return self.accuracy if self.cross_fit is None else self.cross_fit.apparent

    @property
    def null_baseline(self) -> PermutationNull | None:
        """What unrelated segments of the same sizes score, matched the same way (percent)."""
        return None if self.cross_fit is None else self.cross_fit.null

    @property
    def verdict(self) -> str:
        """``meets``, ``below`` or ``undetermined``: the segment-level rule, for customers."""
        v = interval_verdict(self.accuracy, self.target_pct, self.basis)
        return {"above": "meets", "below": "below"}.get(v, "undetermined")

    def _repr_html_(self) -> str:
        """Notebook view: the accuracy with n and interval, the method, precision per segment."""
        acc = self.accuracy
        facts: list[tuple[str, object]] = [
            ("n", acc.n),
            ("method", acc.method),
            ("match", self.match),
            ("target", f"{self.target_pct:g} %"),
            ("verdict", self.verdict),
        ]
        rows = [
            (
                r.segment,
                r.matched_label,
                r.size,
                f"{r.precision.value_pct:.1f}",
                f"{r.precision.ci_low_pct:.1f}–{r.precision.ci_high_pct:.1f}",
            )
            for r in self.per_segment
        ]
        ci = f"{round(acc.confidence * 100)} % CI"
        body = _html.table(
            ["segment", "label", "n", "precision %", ci], rows, total=len(self.per_segment)
        )
        return _html.card(f"Accuracy {_html.estimate_text(acc)}", facts, body)

    def to_dict(self) -> dict[str, Any]:
        """Stable JSON form (documented keys; new keys may be added, none renamed)."""
        return {
            "unserved_labels": [u.to_dict() for u in self.unserved_labels],
            "accuracy_pct": self.accuracy.value_pct,
            "ci_low_pct": self.accuracy.ci_low_pct,
            "ci_high_pct": self.accuracy.ci_high_pct,
            "confidence": self.accuracy.confidence,
            "n": self.n,
            "method": self.accuracy.method,
            "target_pct": self.target_pct,
            "meets_target": self.accuracy.value_pct >= self.target_pct,
            "verdict": self.verdict,
            "match": self.match,
            "fitted_mapping": self.fitted_mapping,
            "mapping": self.mapping,
            "apparent_accuracy": self.apparent_accuracy.to_dict(),
            "cross_fit": _cross_fit_dict(self.cross_fit),
            "null_baseline": _null_dict(self.null_baseline, self.accuracy),
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
            "segment_accuracy_pct": self.segment_level.value_pct,
            "segment_accuracy": _segment_dict(self.segment_level),
            "coverage": None if self.coverage is None else self.coverage.to_dict(),
            "caveats": list(self.caveats),
        }


def _cross_fit_dict(cf: CrossFitted | None) -> dict[str, Any] | None:
    if cf is None:
        return None
    return {
        "folds": cf.folds,
        "n_resamples": cf.n_resamples,
        "n_effective": cf.n_effective,
        "random_state": cf.random_state,
    }


def _null_dict(null: PermutationNull | None, acc: Estimate) -> dict[str, Any] | None:
    if null is None:
        return None
    return {
        "threshold_pct": null.threshold,
        "mean_pct": null.mean,
        "quantile": null.quantile,
        "p_value": null.p_value,
        "n_permutations": null.n_permutations,
        "beaten": acc.ci_low_pct > null.threshold,
    }


def _segment_dict(seg: SegmentLevelResult) -> dict[str, Any]:
    return {
        "ci_low_pct": None if seg.estimate is None else seg.estimate.ci_low_pct,
        "ci_high_pct": None if seg.estimate is None else seg.estimate.ci_high_pct,
        "n_analysed": seg.n_analysed,
        "n_decided": seg.n_decided,
        "n_accurate": seg.n_accurate,
        "n_undetermined": seg.n_undetermined,
        "undetermined": [
            {"segment": v.segment, "labels_to_decide": v.labels_to_decide} for v in seg.undetermined
        ],
        "summary": seg.summary(),
        "rule": seg.rule,
    }


def _unserved_caveat(unserved: tuple[UnservedLabel, ...], n: int, n_seg: int, n_lab: int) -> str:
    lost = sum(u.n_labelled for u in unserved)
    names = ", ".join(f"{u.label} ({u.n_labelled:,})" for u in unserved)
    fewer = f" (only {n_seg} segments for {n_lab} label values)" if n_seg < n_lab else ""
    return (
        f"{len(unserved)} of {n_lab} label values have no segment{fewer}: {names}. "
        f"Their {lost:,} labelled customer{'' if lost == 1 else 's'} ({100 * lost / n:.1f} %) "
        "can never count as correct, "
        f"so accuracy cannot exceed {100 * (n - lost) / n:.1f} %"
    )


def _caveats(rep: AccuracyReport) -> list[str]:
    out = []
    acc, target = rep.accuracy, rep.target_pct
    if rep.unserved_labels:
        out.append(_unserved_caveat(rep.unserved_labels, rep.n, len(rep.segments), len(rep.labels)))
    null = rep.null_baseline
    if null is not None and acc.ci_low_pct <= null.threshold:
        out.append(
            f"not shown to beat random segments: the lower bound {acc.ci_low_pct:.1f} % does not "
            f"clear the {null.threshold:.1f} % that segments of the same sizes, unrelated to the "
            f"labels, reach under the same matching ({100 * null.quantile:g}th percentile)"
        )
    by_interval = interval_verdict(acc, target)  # the notes speak of the interval either way
    if by_interval == "below":
        top = (
            f"{acc.ci_high_pct:.1f}"
            if round(acc.ci_high_pct, 1) < target
            else f"{acc.ci_high_pct:.2f}"
        )
        out.append(
            f"accuracy is below the {target:g} % target even at the top of its interval ({top} %)"
        )
    elif by_interval == "undetermined":
        need = labels_to_decide(acc.value_pct, target, confidence=acc.confidence)
        more = ""
        if need is not None and rep.cross_fit is not None:
            need = int(np.ceil(need * acc.n / rep.cross_fit.n_effective))
        if need is not None:
            more = f" (about {need:,} in all if accuracy stays {acc.value_pct:.1f} %)"
        out.append(f"the interval straddles the {target:g} % target: label more customers{more}")
    if rep.match == "majority" and len(rep.segments) > len(rep.labels):
        out.append(
            "majority matching with more segments than labels is optimistic in-sample: many small "
            f"segments score high by construction (apparent {rep.apparent_accuracy.value_pct:.1f} "
            f"%; the headline is cross-fitted)"
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
    folds: int = DEFAULT_FOLDS,
    n_resamples: int = DEFAULT_RESAMPLES,
    n_permutations: int = DEFAULT_PERMUTATIONS,
    random_state: int = 0,
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
        Segment-level rule (default: a segment is accurate when the 95 % interval of its
        precision is at or above 85 %, not accurate when below, undetermined in between); the
        customer-level ``verdict`` follows the same rule.
    coverage
        Coverage counts to carry along (set by :func:`accuracy_report_from_tables`).
    folds, n_resamples, n_permutations, random_state
        Cross-fitting of a learnt mapping (``hungarian``, ``majority``): folds, bootstrap
        repetitions behind the interval, label shuffles behind the null baseline, and the seed
        (see :mod:`seglens.accuracy.crossfit`). Unused for ``names``.

    Examples
    --------
    >>> truth = ["loyal"] * 50 + ["new"] * 50
    >>> pred = [0] * 45 + [1] * 5 + [1] * 45 + [0] * 5
    >>> rep = accuracy_report(truth, pred)
    >>> rep.accuracy.value_pct, rep.accuracy.method, rep.mapping
    (90.0, 'cross-fitted-wilson', {'0': 'loyal', '1': 'new'})
    >>> rep.null_baseline.threshold < 60 < rep.accuracy.ci_low_pct  # beats random segments
    True
    >>> rep.to_dict()["confusion"]["matrix"]
    [[45, 5], [5, 45]]
    """
    rule = rule or SegmentRule()
    t, p = encode_pair(y_true, y_pred)
    c = contingency(t.codes, t.k, p.codes, p.k)
    m = match_segments(c, t, p, match)
    n = int(t.codes.size)
    cf = None
    if m.fitted:
        cf = cross_fitted_accuracy(
            t.codes,
            t.k,
            p.codes,
            p.k,
            m.method,
            folds=folds,
            n_resamples=n_resamples,
            n_permutations=n_permutations,
            confidence=confidence,
            random_state=random_state,
        )
        acc = cf.estimate
    else:
        acc = proportion(correct_count(c, m), n, confidence)
    labels = tuple(str(v) for v in t.values)
    segments = tuple(str(v) for v in p.values)
    mc = mapped_confusion(c, m)
    seg_level, seg_rows = per_segment(c, m, labels, segments, rule, confidence)
    rep = AccuracyReport(
        accuracy=acc,
        match=m.method,
        mapping=m.as_dict(p.values, t.values),
        labels=labels,
        segments=segments,
        confusion=c,
        per_segment=seg_rows,
        per_label=per_label(c, mc, m, labels, segments),
        kappa=kappa_from(mc),
        ari=ari_from(c),
        nmi=nmi_from(c),
        segment_level=seg_level,
        chance_pct=100.0 * chance_from(mc),
        target_pct=rule.target_pct,
        coverage=coverage,
        cross_fit=cf,
        unserved_labels=unserved(c, m, labels),
        basis=rule.basis,
    )
    return replace(rep, caveats=tuple(_caveats(rep)))


def accuracy_report_from_tables(
    assignments: object,
    labels: object,
    *,
    match: str = "auto",
    confidence: float = DEFAULT_SETTINGS.confidence,
    rule: SegmentRule | None = None,
    folds: int = DEFAULT_FOLDS,
    n_resamples: int = DEFAULT_RESAMPLES,
    n_permutations: int = DEFAULT_PERMUTATIONS,
    random_state: int = 0,
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
        al.y_true,
        al.y_pred,
        match=match,
        confidence=confidence,
        rule=rule,
        coverage=al.coverage,
        folds=folds,
        n_resamples=n_resamples,
        n_permutations=n_permutations,
        random_state=random_state,
    )
