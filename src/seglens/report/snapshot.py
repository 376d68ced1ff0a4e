"""The review snapshot: every number the quarterly review shows, frozen, with no I/O.

The report is rendered from a :class:`ReviewSnapshot` only. Where the numbers come from (the
accuracy engine, the tracking store, a JSON file) is the collectors' business
(:mod:`seglens.report.collect`); the attributes, charts and templates never compute from raw data.
This is the split evidently makes between a metric's calculation and its presentation.

Conventions: percentages are on the 0–100 scale and end in ``_pct``; every estimate carries its
``n`` and a confidence interval; names (segments, notes, file names) are user-provided text and are
escaped wherever they are shown.

A period without labels has **no** accuracy: :attr:`ReviewSnapshot.accuracy` is ``None`` and the
method ``"unmeasured"`` (n = 0). Label-free proxies are never the KPI; they live in
:attr:`ReviewSnapshot.proxies` (the review's *Monitoring* panel) and nowhere else.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Literal

from seglens import _html
from seglens.errors import DataError
from seglens.settings import DEFAULT_SETTINGS
from seglens.stats import Estimate, comparison_se

__all__ = [
    "Change",
    "ConfusionTable",
    "Estimate",
    "Export",
    "Finding",
    "LabelCoverage",
    "LearningPoint",
    "LearningSummary",
    "LearntConfusion",
    "LearntInput",
    "MigrationTable",
    "PeriodKPI",
    "Profiles",
    "ProxyValue",
    "ReviewSnapshot",
    "RunInfo",
    "SegmentStat",
    "SourceFile",
]

Method = Literal["labelled", "stratified", "unmeasured"]
"""How the period's accuracy was measured; ``"unmeasured"``: no labelled customer (n = 0)."""
MEASURED_METHODS: tuple[Method, ...] = ("labelled", "stratified")
Severity = Literal["info", "warning", "critical"]
Status = Literal["green", "amber", "red"]


def check_estimate(est: Estimate, where: str) -> None:
    """Refuse an estimate the review cannot show: outside 0–100, not finite, or off its interval.

    The review's estimates are :class:`seglens.stats.Estimate` records, which may also hold
    differences or NaN elsewhere; a snapshot only takes percentages with a proper interval.
    """
    values = (est.value_pct, est.ci_low_pct, est.ci_high_pct)
    if not all(math.isfinite(v) and -1e-9 <= v <= 100 + 1e-9 for v in values):
        raise DataError(f"{where}: estimate out of 0–100 or not finite: {values}")
    if not est.ci_low_pct - 1e-9 <= est.value_pct <= est.ci_high_pct + 1e-9:
        raise DataError(f"{where}: estimate {est.value_pct} lies outside its interval {values[1:]}")
    if est.n < 0:
        raise DataError(f"{where}: n must be >= 0, got {est.n}")


@dataclass(frozen=True)
class SegmentStat:
    """One segment: size, labelled precision/recall with CIs, stability, value, verdict."""

    name: str
    customers: int
    precision: Estimate | None = None
    recall: Estimate | None = None
    f1: float | None = None
    support: int = 0
    """Labelled customers whose true segment this is."""
    stability: float | None = None
    """Mean bootstrap Jaccard similarity (Hennig: < 0.5 dissolved, >= 0.75 stable)."""
    accurate: bool | None = None
    reason: str = ""
    revenue: float | None = None
    revenue_previous: float | None = None
    retention_pct: float | None = None
    matched_label: str | None = None
    """The label this segment was matched to (cluster ids vs named labels), if any."""


@dataclass(frozen=True)
class ConfusionTable:
    """Counts of labelled customers: rows are true labels, columns are assigned segments."""

    true_labels: tuple[str, ...]
    segments: tuple[str, ...]
    counts: tuple[tuple[int, ...], ...]

    def __post_init__(self) -> None:
        if len(self.counts) != len(self.true_labels) or any(
            len(row) != len(self.segments) for row in self.counts
        ):
            raise DataError(
                "confusion counts do not match the label and segment lists",
                hint=f"expected {len(self.true_labels)} rows of {len(self.segments)} counts",
            )

    @property
    def total(self) -> int:
        """All labelled customers in the table."""
        return sum(sum(row) for row in self.counts)

    def column(self, segment: str) -> dict[str, int]:
        """Where the customers assigned to ``segment`` really belong (true label -> count)."""
        j = self.segments.index(segment)
        return {lab: row[j] for lab, row in zip(self.true_labels, self.counts, strict=True)}


@dataclass(frozen=True)
class Change:
    """Movement of the KPI against the previous period: the difference test of the two estimates
    (:func:`seglens.tracking.compare_measurements`), as stored with the measurement.

    ``significant_drop`` is the alert rule's verdict (a fall of at least the rule's points with
    ``p < alpha``), so the review, ``seglens alerts`` and ``history`` agree.
    """

    previous_period: str
    delta_points: float
    p_value: float
    se_points: float | None = None
    ci_low_points: float | None = None
    ci_high_points: float | None = None
    significant_drop: bool = False
    n_paired: int = 0
    alpha: float = 0.05

    @property
    def significant(self) -> bool:
        """Whether the change is significant at ``alpha`` (either direction)."""
        return self.p_value < self.alpha


@dataclass(frozen=True)
class PeriodKPI:
    """The KPI as measured in one period (a calendar quarter such as ``2011Q3``).

    Only measured periods (labelled or stratified) are history points; a label-free period has
    no accuracy and is not one.

    ``change`` is the stored comparison with the previous period, when the KPI came from a store.
    ``n_fresh``/``n_carried``/``n_expired`` count the labels that judged the period's run, were
    carried from an earlier run, or no longer count (see :mod:`seglens.tracking.labels`).
    """

    period: str
    accuracy: Estimate
    segment_accuracy_pct: float | None = None
    method: Method = "labelled"
    run_id: str | None = None
    change: Change | None = None
    n_fresh: int | None = None
    n_carried: int | None = None
    n_expired: int | None = None

    def __post_init__(self) -> None:
        if self.method not in MEASURED_METHODS:
            raise DataError(
                f"period {self.period}: a trend point must be a measured accuracy, not "
                f"{self.method!r}",
                hint="label-free proxies are monitoring signals (ReviewSnapshot.proxies)",
            )


def _se(est: Estimate) -> float:
    return comparison_se(est.se_pct, est.ci_low_pct, est.ci_high_pct, est.confidence)


def period_change(previous: PeriodKPI, current: PeriodKPI) -> Change:
    """The change from ``previous`` to ``current``: the stored comparison when ``current`` has
    one, else the same difference test on the two estimates' standard errors (no pairing known).

    Examples
    --------
    >>> a = PeriodKPI("2011Q2", Estimate.from_counts(344, 400))
    >>> b = PeriodKPI("2011Q3", Estimate.from_counts(320, 400))
    >>> c = period_change(a, b)
    >>> round(c.delta_points, 1), round(c.p_value, 3), c.significant_drop
    (-6.0, 0.023, True)
    """
    if current.change is not None:
        return current.change
    from seglens.tracking import compare_measurements

    t = compare_measurements(
        (previous.accuracy.value_pct, _se(previous.accuracy)),
        (current.accuracy.value_pct, _se(current.accuracy)),
    )
    return Change(
        previous.period,
        t.diff_pts,
        t.p_value,
        t.se_pts,
        t.ci_low_pts,
        t.ci_high_pts,
        t.significant_drop,
    )


@dataclass(frozen=True)
class MigrationTable:
    """Customers (and optionally revenue) moving between segments of two consecutive runs."""

    from_period: str
    to_period: str
    from_segments: tuple[str, ...]
    to_segments: tuple[str, ...]
    counts: tuple[tuple[int, ...], ...]
    revenue: tuple[tuple[float, ...], ...] | None = None

    def __post_init__(self) -> None:
        for table in (self.counts, self.revenue):
            if table is not None and (
                len(table) != len(self.from_segments)
                or any(len(r) != len(self.to_segments) for r in table)
            ):
                raise DataError("migration matrix does not match its segment lists")

    @property
    def total(self) -> int:
        """Customers present in both runs."""
        return sum(sum(row) for row in self.counts)

    @property
    def moved(self) -> int:
        """Customers whose segment name differs between the runs."""
        return sum(
            c
            for a, row in zip(self.from_segments, self.counts, strict=True)
            for b, c in zip(self.to_segments, row, strict=True)
            if a != b
        )


@dataclass(frozen=True)
class Profiles:
    """Mean of each profiling feature per segment (rows follow ``segments``)."""

    features: tuple[str, ...]
    segments: tuple[str, ...]
    means: tuple[tuple[float, ...], ...]

    def __post_init__(self) -> None:
        if len(self.means) != len(self.segments) or any(
            len(r) != len(self.features) for r in self.means
        ):
            raise DataError("profile means do not match the segment and feature lists")


@dataclass(frozen=True)
class ProxyValue:
    """A label-free proxy (stability, out-of-time validity, separation...) with its caveat.

    A monitoring signal, not the KPI: ``caveat`` quotes its calibrated error against true
    accuracy (:func:`seglens.accuracy.proxy_caveat`); the review never compares it with the target.
    """

    name: str
    value: float
    meaning: str
    caveat: str
    n: int | None = None


@dataclass(frozen=True)
class Finding:
    """A data-quality or process finding (from ingestion, labelling or tracking)."""

    severity: Severity
    message: str
    source: str | None = None


@dataclass(frozen=True)
class SourceFile:
    """An input file behind the numbers."""

    name: str
    rows: int | None = None
    sha256: str | None = None


@dataclass(frozen=True)
class RunInfo:
    """The segmentation run the review is about."""

    segmenter: str
    parameters: tuple[tuple[str, str], ...] = ()
    as_of: date | None = None
    data_hash: str | None = None
    seglens_version: str | None = None
    run_id: str | None = None


@dataclass(frozen=True)
class LabelCoverage:
    """How the labels relate to the segmented customers (nothing is dropped silently)."""

    labels: int
    matched: int
    unknown_customers: int = 0
    by_source: tuple[tuple[str, int], ...] = ()


@dataclass(frozen=True)
class Export:
    """Something the review produces or feeds that other systems can use."""

    name: str
    kind: str
    location: str


@dataclass(frozen=True)
class LearningPoint:
    """One learning-curve point: agreement with held-out labels of a model fitted on
    ``n_labels`` labels (``method``: ``"held-out"`` random draws, or ``"out-of-fold"`` on all)."""

    n_labels: int
    n_train: int
    agreement: Estimate
    method: str = "held-out"


@dataclass(frozen=True)
class LearntInput:
    """What one input carries in the learnt model: agreement lost when it is shuffled (points)."""

    column: str
    kind: Literal["behavioural", "demographic"]
    drop_pts: float


@dataclass(frozen=True)
class LearntConfusion:
    """Labelled customers the learnt model (out of fold) puts in another segment."""

    labelled: str
    predicted: str
    customers: int
    share_pct: float
    """Share of the customers labelled ``labelled``, in percent."""


@dataclass(frozen=True)
class LearningSummary:
    """What learning a segmentation from the review's labels showed, as measured.

    ``agreement`` and ``curve`` are out-of-fold / held-out agreement with the labels learnt
    from (how well the inputs reproduce them), never the KPI. ``after`` is the learnt
    segmentation's KPI, and counts only when ``after_fresh``: re-measured on a fresh audit whose
    ``after.n`` customers the model did not learn from (``overlap`` = 0).
    """

    n_labels: int
    """Labels the segmentation was learnt from."""
    agreement: Estimate
    """Out-of-fold agreement with those labels (not the KPI)."""
    curve: tuple[LearningPoint, ...] = ()
    projection_status: Literal["rising", "flat", "too few points"] = "too few points"
    projection: str = ""
    """The projection in words (``seglens.segmenters.learning.Projection.message``)."""
    labels_for_gain: tuple[tuple[float, int | None], ...] = ()
    """Gain in points -> total labels the fitted curve needs (``None``: beyond its ceiling)."""
    ceiling_pct: float | None = None
    inputs: tuple[LearntInput, ...] = ()
    """Inputs by what they carry, most first."""
    confused: tuple[LearntConfusion, ...] = ()
    """The most frequent out-of-fold confusions, most customers first."""
    before: Estimate | None = None
    before_run_id: str | None = None
    before_metric: str = ""
    after: Estimate | None = None
    after_run_id: str | None = None
    after_metric: str = ""
    after_fresh: bool = False
    """``after`` was measured on a fresh audit of customers the model did not learn from."""
    overlap: int = 0
    """Customers of the after audit that were also learnt from."""
    labels_source: str = ""
    """Who gave the labels (e.g. "simulated reviewers, not real people")."""

    def __post_init__(self) -> None:
        check_estimate(self.agreement, "learning agreement")
        for p in self.curve:
            check_estimate(p.agreement, f"learning curve point {p.n_labels}")
        for what, e in (("before", self.before), ("after", self.after)):
            if e is not None:
                check_estimate(e, f"learning {what}")
        if self.after_fresh and self.overlap:
            raise DataError(
                f"the after figure is not on a fresh audit: {self.overlap} of its customers "
                "were learnt from"
            )

    def share_pct(self, kind: Literal["behavioural", "demographic"]) -> float | None:
        """Share of the total (positive) importance carried by ``kind`` inputs, in percent."""
        total = sum(max(i.drop_pts, 0.0) for i in self.inputs)
        if total <= 0:
            return None
        return 100.0 * sum(max(i.drop_pts, 0.0) for i in self.inputs if i.kind == kind) / total

    @property
    def expected(self) -> Estimate | None:
        """The KPI to expect after adopting the learnt segmentation: ``after`` only when it was
        re-measured on a fresh audit, else ``None`` (the gain is not measured yet)."""
        return self.after if self.after_fresh else None


@dataclass(frozen=True)
class ReviewSnapshot:
    """Everything the quarterly Segmentation Accuracy review shows, frozen.

    Build it with a collector (:func:`seglens.report.collect_snapshot`) or directly; render it
    with :func:`seglens.report.render_html` / :func:`seglens.report.render_pdf`.

    Examples
    --------
    >>> snap = ReviewSnapshot(
    ...     period="2011Q3",
    ...     accuracy=Estimate.from_counts(90, 100),
    ...     segments=(SegmentStat("Loyal", 60), SegmentStat("New", 40)),
    ... )
    >>> snap.status, round(snap.accuracy.value_pct, 1)
    ('amber', 90.0)

    Without labels there is no figure, no traffic light and no trend point:

    >>> blind = ReviewSnapshot("2011Q3", None, (SegmentStat("Loyal", 60),), method="unmeasured")
    >>> blind.measured, blind.status, blind.current
    (False, None, None)
    """

    period: str
    accuracy: Estimate | None
    """The period's Segmentation Accuracy; ``None`` when it was not measured (no labels)."""
    segments: tuple[SegmentStat, ...]
    title: str = "Customer Segmentation Accuracy — quarterly review"
    generated_at: datetime | None = None
    target_pct: float = DEFAULT_SETTINGS.target_pct
    margin_pct: float = DEFAULT_SETTINGS.margin_pts
    """The margin (± points) the audit sample is meant to reach."""
    method: Method = "labelled"
    segment_accuracy: Estimate | None = None
    segment_rule: str = ""
    population: int | None = None
    confusion: ConfusionTable | None = None
    history: tuple[PeriodKPI, ...] = ()
    """Earlier periods, oldest first (the current one is :attr:`current`)."""
    current_change: Change | None = None
    """The stored comparison of this period with the previous one (from a store)."""
    label_counts: tuple[int, int, int] | None = None
    """Labels of this period's run: fresh, carried, expired."""
    migration: MigrationTable | None = None
    profiles: Profiles | None = None
    proxies: tuple[ProxyValue, ...] = ()
    findings: tuple[Finding, ...] = ()
    sources: tuple[SourceFile, ...] = ()
    run: RunInfo | None = None
    labels: LabelCoverage | None = None
    notes: tuple[str, ...] = ()
    exports: tuple[Export, ...] = ()
    store_url: str | None = None
    """Where the KPI history lives (password removed), if it came from a store."""
    currency: str = ""
    extra: tuple[tuple[str, str], ...] = field(default=())
    """Free key/value facts shown in the run details (user-provided, escaped)."""
    learning: LearningSummary | None = None
    """What a segmentation learnt from the labels showed (curve, inputs, before/after)."""

    def __post_init__(self) -> None:
        if not 0 < self.target_pct <= 100:
            raise DataError(f"target must be in (0, 100], got {self.target_pct}")
        if (self.accuracy is None) != (self.method == "unmeasured"):
            raise DataError(
                f"method {self.method!r} does not fit "
                + ("a missing accuracy" if self.accuracy is None else "a measured accuracy"),
                hint="a period without labels has accuracy None and method 'unmeasured'",
            )
        if self.accuracy is not None:
            check_estimate(self.accuracy, "accuracy")
        if self.segment_accuracy is not None:
            check_estimate(self.segment_accuracy, "segment_accuracy")
        for h in self.history:
            check_estimate(h.accuracy, f"history {h.period}")
        for seg in self.segments:
            for what, e in (("precision", seg.precision), ("recall", seg.recall)):
                if e is not None:
                    check_estimate(e, f"segment {seg.name} {what}")
        names = [s.name for s in self.segments]
        if len(set(names)) != len(names):
            raise DataError("segment names must be unique", values=tuple(names))
        periods = [h.period for h in self.history]
        if self.period in periods or len(set(periods)) != len(periods):
            raise DataError("history periods must be unique and before the current period")

    @property
    def measured(self) -> bool:
        """Whether the period's accuracy was measured (some labelled customer, n > 0)."""
        return self.accuracy is not None

    @property
    def current(self) -> PeriodKPI | None:
        """The current period's KPI as a history point (``None`` when not measured)."""
        if self.accuracy is None or self.method == "unmeasured":
            return None
        seg = self.segment_accuracy.value_pct if self.segment_accuracy else None
        run_id = self.run.run_id if self.run else None
        counts = self.label_counts or (None, None, None)
        return PeriodKPI(
            self.period, self.accuracy, seg, self.method, run_id, self.current_change, *counts
        )

    @property
    def trend(self) -> tuple[PeriodKPI, ...]:
        """The measured periods, oldest first: history plus the current one when measured."""
        current = self.current
        return self.history if current is None else (*self.history, current)

    @property
    def change(self) -> Change | None:
        """Change against the previous period (:func:`period_change`), if both were measured."""
        current = self.current
        if not self.history or current is None:
            return None
        return period_change(self.history[-1], current)

    @property
    def status(self) -> Status | None:
        """Traffic light: green when the whole CI clears the target, red when it is all below.

        Amber when the interval straddles the target. A significant drop against the previous
        period turns green into amber. ``None`` when the accuracy was not measured: no light.
        """
        acc = self.accuracy
        if acc is None:
            return None
        if acc.ci_high_pct < self.target_pct:
            return "red"
        if acc.ci_low_pct >= self.target_pct:
            change = self.change
            if change is not None and change.significant_drop:
                return "amber"
            return "green"
        return "amber"

    def segment(self, name: str) -> SegmentStat:
        """Look up a segment by name."""
        for s in self.segments:
            if s.name == name:
                return s
        raise KeyError(name)

    def _repr_html_(self) -> str:
        """Notebook view: the period, the headline with n and interval, status, the segments."""
        facts: list[tuple[str, object]] = [
            ("n", 0 if self.accuracy is None else self.accuracy.n),
            ("status", self.status or "no light (not measured)"),
            ("target", f"{self.target_pct:g} %"),
            ("method", self.method),
        ]
        rows = [
            (
                s.name,
                s.customers,
                None if s.precision is None else _html.estimate_text(s.precision),
            )
            for s in self.segments
        ]
        body = _html.table(["segment", "customers", "precision"], rows, total=len(rows))
        title = f"Review {self.period}: {_html.estimate_text(self.accuracy)}"
        return _html.card(title, facts, body)
