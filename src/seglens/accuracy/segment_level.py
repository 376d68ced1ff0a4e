"""Segment-level accuracy: accurate segments / segments analysed x 100, with a stated rule.

With labels a segment is *accurate* when its precision (the share of its customers whose label is
the segment's matched label) clears the target. By default the **lower bound** of the precision's
Wilson interval must clear it: a segment counts as accurate only when the labels show it is, so a
segment with 9 of 10 customers right (lower bound 59.6 %) is *not yet* accurate. Use
``basis="point"`` to judge the point estimate instead.

Without labels a segment is accurate when its bootstrap Jaccard stability is at least 0.75 (Hennig's
clusterboot convention: < 0.5 dissolved, >= 0.75 stable, >= 0.85 highly stable) and, when an
out-of-time check is given, the share of its customers whose segment held is at least the target.
Segments with no labelled customer are *not analysed* and left out of the denominator.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from seglens.errors import UsageError
from seglens.settings import DEFAULT_SETTINGS
from seglens.stats import Estimate, proportion

__all__ = [
    "SegmentLevelResult",
    "SegmentRule",
    "SegmentVerdict",
    "judge_label_free",
    "judge_labelled",
]

Basis = Literal["lower_bound", "point"]


@dataclass(frozen=True)
class SegmentRule:
    """When a segment counts as accurate.

    Attributes
    ----------
    target_pct
        Precision (with labels) or out-of-time hold rate (without) a segment must reach
        (default ``DEFAULT_SETTINGS.target_pct``, 85 %).
    basis
        ``"lower_bound"`` (default): the lower Wilson bound must reach the target;
        ``"point"``: the point estimate must.
    min_jaccard
        Minimum bootstrap Jaccard for the label-free rule (0.75, Hennig's "stable").
    """

    target_pct: float = DEFAULT_SETTINGS.target_pct
    basis: Basis = "lower_bound"
    min_jaccard: float = 0.75

    def __post_init__(self) -> None:
        if not 0.0 <= self.target_pct <= 100.0:
            raise UsageError(f"target must be a percentage in 0-100, got {self.target_pct}")
        if self.basis not in ("lower_bound", "point"):
            raise UsageError(
                f"unknown segment rule basis {self.basis!r}", hint="use lower_bound or point"
            )
        if not 0.0 <= self.min_jaccard <= 1.0:
            raise UsageError(f"min_jaccard must be in 0-1, got {self.min_jaccard}")

    def describe(self) -> str:
        """One-line statement of the rule, shown next to the figure."""
        what = "lower 95 % bound of precision" if self.basis == "lower_bound" else "precision"
        return f"{what} >= {self.target_pct:g} %"


@dataclass(frozen=True)
class SegmentVerdict:
    """Whether one segment is accurate, and why."""

    segment: str
    analysed: bool
    accurate: bool
    reason: str


@dataclass(frozen=True)
class SegmentLevelResult:
    """Segment-level accuracy with the verdict and reason for every segment."""

    estimate: Estimate | None
    verdicts: tuple[SegmentVerdict, ...]
    rule: str

    @property
    def value_pct(self) -> float | None:
        """Accurate segments / segments analysed x 100 (None when no segment was analysed)."""
        return None if self.estimate is None else self.estimate.value_pct


def _result(verdicts: list[SegmentVerdict], rule: str, confidence: float) -> SegmentLevelResult:
    analysed = [v for v in verdicts if v.analysed]
    est = None
    if analysed:
        est = proportion(sum(v.accurate for v in analysed), len(analysed), confidence)
    return SegmentLevelResult(est, tuple(verdicts), rule)


def judge_labelled(
    precision: Mapping[str, Estimate],
    rule: SegmentRule,
    confidence: float = DEFAULT_SETTINGS.confidence,
) -> SegmentLevelResult:
    """Apply the labelled rule to each segment's precision estimate.

    Examples
    --------
    >>> from seglens.stats import proportion
    >>> res = judge_labelled({"a": proportion(99, 100), "b": proportion(9, 10)}, SegmentRule())
    >>> res.value_pct, [v.accurate for v in res.verdicts]
    (50.0, [True, False])
    """
    verdicts = []
    for seg, est in precision.items():
        if est.n == 0:
            verdicts.append(SegmentVerdict(seg, False, False, "no labelled customer: not analysed"))
            continue
        judged = est.ci_low_pct if rule.basis == "lower_bound" else est.value_pct
        ok = judged >= rule.target_pct
        what = "lower bound" if rule.basis == "lower_bound" else "precision"
        cmp = ">=" if ok else "<"
        reason = (
            f"precision {est.value_pct:.1f} % (CI {est.ci_low_pct:.1f}–{est.ci_high_pct:.1f}, "
            f"n={est.n}); {what} {judged:.1f} {cmp} {rule.target_pct:g}"
        )
        verdicts.append(SegmentVerdict(seg, True, ok, reason))
    return _result(verdicts, rule.describe(), confidence)


def judge_label_free(
    jaccard: Mapping[str, float],
    held_pct: Mapping[str, float] | None = None,
    rule: SegmentRule | None = None,
    confidence: float = DEFAULT_SETTINGS.confidence,
) -> SegmentLevelResult:
    """Apply the label-free rule: bootstrap Jaccard and (optionally) out-of-time hold rate.

    Examples
    --------
    >>> res = judge_label_free({"a": 0.9, "b": 0.6}, {"a": 91.0, "b": 95.0})
    >>> res.value_pct, [v.accurate for v in res.verdicts]
    (50.0, [True, False])
    """
    rule = rule or SegmentRule()
    verdicts = []
    for seg, jac in jaccard.items():
        parts = [
            f"bootstrap Jaccard {jac:.2f} {'>=' if jac >= rule.min_jaccard else '<'} "
            f"{rule.min_jaccard:g}"
        ]
        ok = jac >= rule.min_jaccard
        if held_pct is not None:
            held = held_pct.get(seg)
            if held is None:
                parts.append("no out-of-time check")
                ok = False
            else:
                ok = ok and held >= rule.target_pct
                parts.append(
                    f"held out of time {held:.1f} % {'>=' if held >= rule.target_pct else '<'} "
                    f"{rule.target_pct:g}"
                )
        verdicts.append(SegmentVerdict(seg, True, ok, "; ".join(parts)))
    desc = f"bootstrap Jaccard >= {rule.min_jaccard:g}"
    if held_pct is not None:
        desc += f" and out-of-time hold rate >= {rule.target_pct:g} %"
    return _result(verdicts, desc, confidence)
