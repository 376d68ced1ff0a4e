"""The twelve KPI attributes, each written from the snapshot's numbers (no boilerplate).

Every function is pure: ``ReviewSnapshot -> Attribute``. :func:`compute_attributes` returns all
twelve in the order the review shows them.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from importlib.metadata import PackageNotFoundError, version

from seglens.report.diagnose import (
    MIN_SEGMENT_LABELS,
    STABLE,
    belongs_to,
    confused_pairs,
    label_shortfalls,
    risks,
    true_label_of,
    weakest_segments,
)
from seglens.report.impact import change_impact
from seglens.report.snapshot import ReviewSnapshot, Severity, period_change
from seglens.report.text import (
    Attribute,
    Item,
    fmt_ci,
    fmt_est,
    fmt_p,
    fmt_pct,
    fmt_points,
    plural,
    q,
)

__all__ = ["ATTRIBUTE_KEYS", "Attribute", "Item", "compute_attributes"]


def _method_phrase(s: ReviewSnapshot) -> str:
    return {
        "labelled": "labelled customers (sales / service confirmations)",
        "stratified": "customers in a stratified audit sample (weighted estimate)",
        "proxy": "customers scored by a label-free proxy",
    }[s.method]


def definition(s: ReviewSnapshot) -> Attribute:
    """What the KPI measures, scoped to this period's population and target."""
    pop = f" out of {s.population:,} segmented customers" if s.population else ""
    items = [
        Item(
            "Customer-level Segmentation Accuracy = customers whose assigned segment is correct / "
            "customers checked × 100."
        ),
        Item(
            "Segment-level accuracy = segments that pass the accuracy rule / segments analysed × "
            f"100. Rule used: {s.segment_rule or 'precision point estimate at or above target'}."
        ),
        Item(f"Target: above {s.target_pct:g} %; every figure carries n and a 95 % interval."),
    ]
    summary = (
        f"For {s.period}, accuracy is measured on {s.accuracy.n:,} {_method_phrase(s)}{pop}, "
        f"across {plural(len(s.segments), 'segment')}."
    )
    return Attribute("definition", "Definition", summary, tuple(items))


def business_insights(s: ReviewSnapshot) -> Attribute:
    """What the numbers mean for the business: where value sits and how well it is targeted."""
    items: list[Item] = []
    rated = [x for x in s.segments if x.accurate is not None]
    failing = [x for x in rated if not x.accurate]
    if rated:
        cust_fail = sum(x.customers for x in failing)
        cust_all = sum(x.customers for x in s.segments) or 1
        names = ", ".join(q(x.name) for x in failing[:5]) or "none"
        if len(failing) > 5:
            names += f" and {len(failing) - 5} more"
        items.append(
            Item(
                f"{plural(len(failing), 'segment')} of {len(rated)} fail the accuracy rule "
                f"({names}); they hold {cust_fail:,} customers "
                f"({100 * cust_fail / cust_all:.1f} % of the segmented base).",
                "warning" if failing else "info",
            )
        )
    with_rev = [x for x in s.segments if x.revenue is not None]
    if with_rev:
        top = max(with_rev, key=lambda x: x.revenue or 0.0)
        total = sum(x.revenue or 0.0 for x in with_rev) or 1.0
        prec = f", precision {fmt_pct(top.precision.value_pct)}" if top.precision else ""
        items.append(
            Item(
                f"Largest segment by revenue: {q(top.name)} with "
                f"{100 * (top.revenue or 0.0) / total:.1f} % of revenue{prec}."
            )
        )
    weak = weakest_segments(s, 1)
    best = sorted(
        (x for x in s.segments if x.precision is not None),
        key=lambda x: -(x.precision.value_pct if x.precision else 0.0),
    )
    if weak and best and weak[0].name != best[0].name:
        wp, bp = weak[0].precision, best[0].precision
        assert wp is not None and bp is not None
        items.append(
            Item(
                f"Campaigns aimed at {q(best[0].name)} reach the intended customers "
                f"{fmt_pct(bp.value_pct)} of the time; aimed at {q(weak[0].name)} only "
                f"{fmt_pct(wp.value_pct)}."
            )
        )
    verdict = {
        "green": "is above target with 95 % confidence",
        "amber": "cannot yet be told apart from the target",
        "red": "is below target with 95 % confidence",
    }[s.status]
    summary = f"At {fmt_pct(s.accuracy.value_pct)} the segmentation {verdict}."
    return Attribute("business_insights", "Business insights", summary, tuple(items))


def measurement_approach(s: ReviewSnapshot) -> Attribute:
    """How this period's figure was obtained: sample, matching, interval, margin."""
    items: list[Item] = []
    if s.labels is not None:
        lc = s.labels
        items.append(
            Item(
                f"{lc.labels:,} labels received, {lc.matched:,} matched to segmented customers, "
                f"{lc.unknown_customers:,} for unknown customers (excluded, counted here)."
            )
        )
        if lc.by_source:
            parts = ", ".join(f"{src}: {n:,}" for src, n in lc.by_source)
            items.append(Item(f"Labels by source: {parts}."))
    mapped = [x for x in s.segments if x.matched_label not in (None, x.name)]
    if mapped:
        parts = ", ".join(f"{x.name} → {x.matched_label}" for x in mapped)
        items.append(Item(f"Segments were matched to label names one-to-one: {parts}."))
    if s.method != "proxy":
        items.append(
            Item(
                f"95 % interval: Wilson score, ±{s.accuracy.half_width_pct:.1f} points against "
                f"a planned margin of ±{s.margin_pct:g} points."
            )
        )
    items.extend(
        Item(f"Proxy {p.name}: {p.value:.3f} — {p.meaning}" + (f" (n = {p.n:,})" if p.n else ""))
        for p in s.proxies
    )
    summary = f"{s.method.capitalize()} measurement on {s.accuracy.n:,} customers for {s.period}."
    return Attribute("measurement_approach", "Measurement approach", summary, tuple(items))


def formula(s: ReviewSnapshot) -> Attribute:
    """The formulas with this period's numbers substituted."""
    acc = s.accuracy
    items: list[Item] = []
    if acc.successes is not None:
        items.append(
            Item(
                f"Customer-level: {acc.successes:,.0f} / {acc.n:,} × 100 = "
                f"{fmt_pct(acc.value_pct, 2)}; 95 % CI {fmt_ci(acc)}."
            )
        )
    else:
        items.append(Item(f"Customer-level (weighted): {fmt_est(acc)}."))
    seg = s.segment_accuracy
    if seg is not None and seg.successes is not None:
        items.append(
            Item(
                f"Segment-level: {seg.successes:.0f} / {seg.n} × 100 = {fmt_pct(seg.value_pct)}; "
                f"95 % CI {fmt_ci(seg)}."
            )
        )
    ch = s.change
    if ch is not None:
        prev = s.history[-1].accuracy
        se = "" if ch.se_points is None else f" = {ch.se_points:.2f} points"
        paired = (
            f"; {ch.n_paired:,} customers count in both periods (their covariance is subtracted)"
            if ch.n_paired
            else ""
        )
        items.append(
            Item(
                f"Change test: d = {fmt_pct(acc.value_pct)} − {fmt_pct(prev.value_pct)} = "
                f"{fmt_points(ch.delta_points)}, standard error √(se₁² + se₀² − 2·cov){se}"
                f"{paired}; {fmt_p(ch.p_value)}."
            )
        )
    summary = "Correctly segmented customers / customers checked × 100."
    return Attribute("formula", "Formula", summary, tuple(items))


def trend_analysis(s: ReviewSnapshot) -> Attribute:
    """How the KPI moved over the recorded periods, and which moves are significant."""
    trend = s.trend
    if len(trend) == 1:
        summary = (
            f"{s.period} is the first recorded period: no trend yet; the next review will test "
            "the change against it."
        )
        return Attribute("trend_analysis", "Trend analysis", summary, ())
    items: list[Item] = []
    drops = 0
    for prev, cur in itertools.pairwise(trend):
        ch = period_change(prev, cur)
        drops += ch.significant_drop
        sig = (
            "significant drop"
            if ch.significant_drop
            else ("significant" if ch.significant else "not significant")
        )
        items.append(
            Item(
                f"{prev.period} → {cur.period}: {fmt_pct(prev.accuracy.value_pct)} → "
                f"{fmt_pct(cur.accuracy.value_pct)} ({fmt_points(ch.delta_points)}, "
                f"{fmt_p(ch.p_value)}, {sig}).",
                "warning" if ch.significant_drop else "info",
            )
        )
    first, last = trend[0], trend[-1]
    above = sum(1 for t in trend if t.accuracy.value_pct >= s.target_pct)
    items.append(
        Item(f"{above} of {len(trend)} periods at or above the {s.target_pct:g} % target.")
    )
    deltas = [b.accuracy.value_pct - a.accuracy.value_pct for a, b in itertools.pairwise(trend)]
    if len(deltas) >= 2 and all(d < 0 for d in deltas[-2:]):
        items.append(Item("The KPI has fallen in each of the last two periods.", "warning"))
    delta = last.accuracy.value_pct - first.accuracy.value_pct
    summary = (
        f"Over {len(trend)} periods ({first.period}–{last.period}) the KPI moved "
        f"{fmt_points(delta)}; {drops} of the {len(trend) - 1} period-on-period changes "
        "were significant drops."
    )
    return Attribute("trend_analysis", "Trend analysis", summary, tuple(items))


def diagnostics(s: ReviewSnapshot) -> Attribute:
    """The weakest segments and where their customers really belong (confusion matrix)."""
    items: list[Item] = []
    weak = weakest_segments(s, 3)
    for seg in weak:
        assert seg.precision is not None
        where = belongs_to(s, seg)
        wrong = [(lab, c, sh) for lab, c, sh in where if lab != true_label_of(seg)][:3]
        dest = (
            "; really belong to " + ", ".join(f"{q(lab)} {sh:.0f} % ({c})" for lab, c, sh in wrong)
            if wrong
            else ""
        )
        sev: Severity = "warning" if seg.precision.value_pct < s.target_pct else "info"
        few = " (few labels)" if seg.precision.n < MIN_SEGMENT_LABELS else ""
        items.append(Item(f"{q(seg.name)}: precision {fmt_est(seg.precision)}{few}{dest}.", sev))
    for pair in confused_pairs(s)[:3]:
        items.append(
            Item(
                f"{q(pair.a)} and {q(pair.b)} are confused: {pair.a_in_b_pct:.0f} % of {q(pair.a)} "
                f"belong to {q(pair.b)}, {pair.b_in_a_pct:.0f} % the other way ({pair.count} "
                "customers)."
            )
        )
    low_recall = sorted(
        (x for x in s.segments if x.recall is not None and x.recall.value_pct < 50),
        key=lambda x: x.recall.value_pct if x.recall else 0.0,
    )
    for seg in low_recall[:3]:
        assert seg.recall is not None
        items.append(
            Item(
                f"Customers labelled {q(true_label_of(seg))} are mostly placed elsewhere: recall "
                f"{fmt_pct(seg.recall.value_pct)} (n = {seg.recall.n})."
            )
        )
    unstable = [x for x in s.segments if x.stability is not None and x.stability < STABLE]
    for seg in unstable:
        items.append(Item(f"{q(seg.name)} is unstable: bootstrap Jaccard {seg.stability:.2f}."))
    if weak:
        assert weak[0].precision is not None
        summary = f"Lowest precision: {q(weak[0].name)} at {fmt_pct(weak[0].precision.value_pct)}."
    elif unstable:
        summary = f"{plural(len(unstable), 'segment')} unstable under resampling."
    else:
        summary = "No per-segment labels or stability figures to diagnose."
    return Attribute("diagnostics", "Diagnostics", summary, tuple(items))


def improvement_tips(s: ReviewSnapshot) -> Attribute:
    """Actions derived from the diagnostics: merge, re-draw a boundary, label more, re-fit."""
    items: list[Item] = []
    for pair in confused_pairs(s):
        if pair.mutual:
            items.append(
                Item(
                    f"Merge {q(pair.a)} and {q(pair.b)}, or add a feature that separates them: "
                    "each "
                    f"loses ≥ {min(pair.a_in_b_pct, pair.b_in_a_pct):.0f} % of its customers to "
                    "the other.",
                    "warning",
                )
            )
        elif max(pair.a_in_b_pct, pair.b_in_a_pct) >= 20:
            src, dst = (pair.a, pair.b) if pair.a_in_b_pct >= pair.b_in_a_pct else (pair.b, pair.a)
            items.append(
                Item(
                    f"Re-draw the boundary of {q(src)}: "
                    f"{max(pair.a_in_b_pct, pair.b_in_a_pct):.0f} % of its customers belong to "
                    f"{q(dst)}."
                )
            )
    for short in label_shortfalls(s):
        where = f"in segment {q(short.segment)}" if short.segment else "overall"
        items.append(
            Item(
                f"Collect about {short.more:,} more labels {where} ({short.have:,} → "
                f"{short.need:,}) to reach ±{s.margin_pct:g} points."
            )
        )
    for seg in s.segments:
        if seg.stability is not None and seg.stability < STABLE:
            items.append(
                Item(
                    f"{q(seg.name)} is unstable under resampling (Jaccard {seg.stability:.2f}): "
                    "re-fit with fewer segments or steadier features before acting on it.",
                    "warning",
                )
            )
    if not items:
        items.append(
            Item(
                f"No action needed: every interval is within ±{s.margin_pct:g} points and no "
                "segments are confused; keep the audit sample size."
            )
        )
    summary = f"{plural(len(items), 'action')} derived from the diagnostics."
    return Attribute("improvement_tips", "Improvement tips", summary, tuple(items))


def visualization(s: ReviewSnapshot) -> Attribute:
    """What each chart of this review shows and how to read it."""
    items = [
        Item(
            f"Trend: {plural(len(s.trend), 'period')}, point = KPI, band = 95 % interval, dashed "
            f"line = {s.target_pct:g} % target."
        )
    ]
    with_p = [x for x in s.segments if x.precision is not None]
    if with_p:
        below = sum(1 for x in with_p if x.precision and x.precision.value_pct < s.target_pct)
        items.append(
            Item(
                f"Precision per segment: {len(with_p)} segments with error bars; {below} left of "
                "the target line."
            )
        )
    if s.confusion is not None and s.confusion.total:
        diag = sum(
            s.confusion.column(x.name).get(true_label_of(x), 0)
            for x in s.segments
            if x.name in s.confusion.segments
        )
        items.append(
            Item(
                f"Confusion heatmap: {100 * diag / s.confusion.total:.1f} % of the "
                f"{s.confusion.total:,} labelled customers sit on the diagonal."
            )
        )
    if s.migration is not None:
        m = s.migration
        items.append(
            Item(
                f"Migration heatmap {m.from_period} → {m.to_period}: off-diagonal cells hold the "
                f"{m.moved:,} of {m.total:,} customers who changed segment."
            )
        )
    if s.profiles is not None:
        items.append(
            Item(
                f"Profiles: {len(s.profiles.features)} features, colour = standardised mean "
                "across segments, label = raw mean."
            )
        )
    summary = f"Dashboard tile: traffic light {s.status.upper()} beside the trend line."
    return Attribute("visualization", "Visualization", summary, tuple(items))


def risk_warnings(s: ReviewSnapshot) -> Attribute:
    """Below-target, instability, small samples and data-quality findings, worst first."""
    found = risks(s)
    items = tuple(Item(r.message, r.severity) for r in found)
    crit = sum(1 for r in found if r.severity == "critical")
    summary = f"{plural(len(found), 'warning')}, {crit} critical." if found else "No risks raised."
    return Attribute("risk_warnings", "Risk warnings", summary, items)


def _dist_version(name: str) -> str:
    try:
        return version(name)
    except PackageNotFoundError:
        return "not installed"


def tools_and_technology(s: ReviewSnapshot) -> Attribute:
    """The methods and software actually used for this snapshot."""
    items: list[Item] = []
    if s.run is not None:
        params = ", ".join(f"{k}={v}" for k, v in s.run.parameters)
        ver = s.run.seglens_version or _dist_version("seglens")
        items.append(Item(f"Segmenter: {s.run.segmenter}({params}), seglens {ver}."))
    methods = ["Wilson score intervals"] if s.method != "proxy" else []
    if any(x.matched_label not in (None, x.name) for x in s.segments):
        methods.append("Hungarian matching of segments to labels")
    if s.history:
        methods.append("two-proportion z-test between periods")
    if any(x.stability is not None for x in s.segments):
        methods.append("bootstrap Jaccard stability")
    methods.extend(p.name for p in s.proxies)
    if methods:
        items.append(Item("Methods: " + "; ".join(methods) + "."))
    if s.store_url:
        items.append(Item(f"KPI history store: {s.store_url.split(':', 1)[0]}."))
    items.append(
        Item(
            f"Charts: Vega-Lite rendered by vl-convert {_dist_version('vl-convert-python')} "
            "(inline SVG, no JavaScript); templates: Jinja2 with autoescaping; PDF: WeasyPrint "
            f"{_dist_version('weasyprint')}."
        )
    )
    summary = f"{len(methods)} statistical methods behind this review."
    return Attribute("tools_and_technology", "Tools and technology", summary, tuple(items))


def integration_points(s: ReviewSnapshot) -> Attribute:
    """Exports and APIs this review produces or reads from."""
    items = [Item(f"{e.kind}: {e.name} — {e.location}") for e in s.exports]
    items.append(
        Item(
            "Snapshot JSON embedded in this file (script#seglens-snapshot, the same keys as "
            "seglens.report.snapshot_to_dict) for BI tools and re-rendering."
        )
    )
    items.append(Item("Python API: seglens.report.collect_snapshot → render_html / render_pdf."))
    if s.store_url:
        items.append(Item(f"KPI rows for {s.period} are read from the store at {s.store_url}."))
    summary = f"{plural(len(items), 'integration point')}."
    return Attribute("integration_points", "Integration points", summary, tuple(items))


ATTRIBUTES: tuple[tuple[str, Callable[[ReviewSnapshot], Attribute]], ...] = (
    ("definition", definition),
    ("business_insights", business_insights),
    ("measurement_approach", measurement_approach),
    ("formula", formula),
    ("trend_analysis", trend_analysis),
    ("diagnostics", diagnostics),
    ("improvement_tips", improvement_tips),
    ("visualization", visualization),
    ("risk_warnings", risk_warnings),
    ("tools_and_technology", tools_and_technology),
    ("integration_points", integration_points),
    ("change_impact", change_impact),
)
ATTRIBUTE_KEYS: tuple[str, ...] = tuple(k for k, _ in ATTRIBUTES)


def compute_attributes(snap: ReviewSnapshot) -> tuple[Attribute, ...]:
    """All twelve attributes for ``snap``, in review order.

    Examples
    --------
    >>> from seglens.report.snapshot import Estimate, SegmentStat
    >>> snap = ReviewSnapshot("2011Q3", Estimate.from_counts(90, 100), (SegmentStat("A", 100),))
    >>> [a.key for a in compute_attributes(snap)][:3]
    ['definition', 'business_insights', 'measurement_approach']
    """
    return tuple(fn(snap) for _, fn in ATTRIBUTES)
