"""Segment-level accuracy: accurate segments / decided segments x 100, with a stated rule.

With labels a segment is judged on its precision (the share of its customers whose label is the
segment's matched label) against the target, by the same rule as the customer-level figure
(``DEFAULT_SETTINGS``: 85 % at 95 % confidence). By default (``basis="lower_bound"``) a segment
is **accurate** when the whole Wilson interval of its precision is at or above the target, **not
accurate** when the whole interval is below it, and **undetermined** when the interval straddles
it: 9 of 10 customers right (interval 59.6-98.2 %) is not evidence either way. Undetermined
segments are listed with the labels that would decide them and left out of the ratio, so the
figure does not fall just because the labelling budget was small. ``basis="point"`` judges the
point estimate instead (every labelled segment is then decided).

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
from seglens.stats import Estimate, labels_to_decide, proportion

__all__ = [
    "SegmentLevelResult",
    "SegmentRule",
    "SegmentVerdict",
    "interval_verdict",
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
        ``"lower_bound"`` (default): accurate when the lower Wilson bound reaches the target,
        not accurate when the upper bound is below it, undetermined otherwise;
        ``"point"``: the point estimate must reach the target (no undetermined segments).
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

    def describe(self, confidence: float = DEFAULT_SETTINGS.confidence) -> str:
        """One-line statement of the rule, shown next to the figure.

        Examples
        --------
        >>> SegmentRule().describe()
        '95 % interval of precision vs 85 %: above accurate, below not, straddling undetermined'
        """
        t = f"{self.target_pct:g} %"
        if self.basis == "point":
            return f"precision >= {t}"
        pct = f"{confidence * 100:g} %"
        return (
            f"{pct} interval of precision vs {t}: above accurate, below not, "
            "straddling undetermined"
        )


@dataclass(frozen=True)
class SegmentVerdict:
    """Whether one segment is accurate, and why.

    Attributes
    ----------
    analysed
        The segment has labelled customers.
    accurate
        Shown accurate (``False`` for not accurate *and* for undetermined).
    undetermined
        Its precision interval straddles the target: not counted either way.
    labels_to_decide
        For an undetermined segment, labelled customers in all at which the interval would
        clear the target if precision stayed as observed (``None`` otherwise).
    """

    segment: str
    analysed: bool
    accurate: bool
    reason: str
    undetermined: bool = False
    labels_to_decide: int | None = None

    @property
    def status(self) -> str:
        """``accurate``, ``not_accurate``, ``undetermined`` or ``not_analysed``."""
        if not self.analysed:
            return "not_analysed"
        if self.undetermined:
            return "undetermined"
        return "accurate" if self.accurate else "not_accurate"


@dataclass(frozen=True)
class SegmentLevelResult:
    """Segment-level accuracy with the verdict and reason for every segment.

    ``estimate`` is accurate segments / decided segments (analysed and not undetermined), with a
    Wilson interval over those segments; ``None`` when no segment is decided.
    """

    estimate: Estimate | None
    verdicts: tuple[SegmentVerdict, ...]
    rule: str

    @property
    def value_pct(self) -> float | None:
        """Accurate segments / decided segments x 100 (None when no segment is decided)."""
        return None if self.estimate is None else self.estimate.value_pct

    @property
    def n_analysed(self) -> int:
        """Segments with labelled customers."""
        return sum(v.analysed for v in self.verdicts)

    @property
    def n_undetermined(self) -> int:
        """Segments whose interval straddles the target."""
        return sum(v.undetermined for v in self.verdicts)

    @property
    def n_decided(self) -> int:
        """Segments shown accurate or not accurate: the ratio's denominator."""
        return self.n_analysed - self.n_undetermined

    @property
    def n_accurate(self) -> int:
        """Segments shown accurate."""
        return sum(v.accurate for v in self.verdicts)

    @property
    def undetermined(self) -> tuple[SegmentVerdict, ...]:
        """The undetermined segments, with the labels that would decide each."""
        return tuple(v for v in self.verdicts if v.undetermined)

    def summary(self) -> str:
        """E.g. ``7 of 8 decided segments accurate; 2 undetermined``.

        Examples
        --------
        >>> from seglens.stats import proportion
        >>> judge_labelled({"a": proportion(99, 100), "b": proportion(9, 10)}).summary()
        '1 of 1 decided segments accurate; 1 undetermined'
        """
        text = f"{self.n_accurate} of {self.n_decided} decided segments accurate"
        if not self.n_decided:
            text = "no segment decided yet"
        if self.n_undetermined:
            text += f"; {self.n_undetermined} undetermined"
        not_analysed = len(self.verdicts) - self.n_analysed
        if not_analysed:
            text += f"; {not_analysed} without labels"
        return text


def _result(verdicts: list[SegmentVerdict], rule: str, confidence: float) -> SegmentLevelResult:
    decided = [v for v in verdicts if v.analysed and not v.undetermined]
    est = None
    if decided:
        est = proportion(sum(v.accurate for v in decided), len(decided), confidence)
    return SegmentLevelResult(est, tuple(verdicts), rule)


def interval_verdict(est: Estimate, target_pct: float, basis: Basis = "lower_bound") -> str:
    """``"above"``, ``"below"`` or ``"undetermined"``: the one rule both levels use.

    ``lower_bound``: above when the lower bound reaches the target, below when the upper bound is
    under it, undetermined when the interval straddles it. ``point``: the point estimate decides.

    Examples
    --------
    >>> from seglens.stats import proportion
    >>> [interval_verdict(proportion(k, 100), 85.0) for k in (95, 90, 70)]
    ['above', 'undetermined', 'below']
    """
    if basis == "point":
        return "above" if est.value_pct >= target_pct else "below"
    if est.ci_low_pct >= target_pct:
        return "above"
    return "below" if est.ci_high_pct < target_pct else "undetermined"


def _judge_one(seg: str, est: Estimate, rule: SegmentRule) -> SegmentVerdict:
    """One segment's verdict from its precision estimate (which has labelled customers)."""
    t = rule.target_pct
    head = (
        f"precision {est.value_pct:.1f} % (CI {est.ci_low_pct:.1f}–{est.ci_high_pct:.1f}, "
        f"n={est.n})"
    )
    verdict = interval_verdict(est, t, rule.basis)
    if rule.basis == "point":
        ok = verdict == "above"
        return SegmentVerdict(seg, True, ok, f"{head}; precision {'>=' if ok else '<'} {t:g}")
    if verdict == "above":
        return SegmentVerdict(seg, True, True, f"{head}; lower bound {est.ci_low_pct:.1f} >= {t:g}")
    if verdict == "below":
        reason = f"{head}; upper bound {est.ci_high_pct:.1f} < {t:g}"
        return SegmentVerdict(seg, True, False, reason)
    need = labels_to_decide(est.value_pct, t, confidence=est.confidence)
    reason = f"{head}; the interval straddles {t:g}: undetermined"
    if need is not None:
        reason += (
            f"; about {need:,} labels in all ({max(need - est.n, 0):,} more) would decide it "
            f"if precision stays {est.value_pct:.1f} %"
        )
    return SegmentVerdict(seg, True, False, reason, undetermined=True, labels_to_decide=need)


def judge_labelled(
    precision: Mapping[str, Estimate],
    rule: SegmentRule | None = None,
    confidence: float = DEFAULT_SETTINGS.confidence,
) -> SegmentLevelResult:
    """Apply the labelled rule to each segment's precision estimate.

    Examples
    --------
    >>> from seglens.stats import proportion
    >>> res = judge_labelled(
    ...     {"a": proportion(99, 100), "b": proportion(9, 10), "c": proportion(50, 100)}
    ... )
    >>> res.value_pct, [v.status for v in res.verdicts]
    (50.0, ['accurate', 'undetermined', 'not_accurate'])
    >>> res.verdicts[1].labels_to_decide  # 90 % observed clears 85 % from 196 labels
    196
    """
    rule = rule or SegmentRule()
    verdicts = []
    for seg, est in precision.items():
        if est.n == 0:
            verdicts.append(SegmentVerdict(seg, False, False, "no labelled customer: not analysed"))
        else:
            verdicts.append(_judge_one(seg, est, rule))
    return _result(verdicts, rule.describe(confidence), confidence)


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
