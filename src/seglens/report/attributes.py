"""The twelve KPI attributes, each written from the snapshot's numbers (no boilerplate).

Every function is pure: ``ReviewSnapshot -> Attribute``. :func:`compute_attributes` returns all
twelve in the order the review shows them.
"""

from __future__ import annotations

from collections.abc import Callable
from importlib.metadata import PackageNotFoundError, version

from seglens.report.diagnose import (
    MIN_SEGMENT_LABELS,
    STABLE,
    belongs_to,
    confused_pairs,
    label_shortfalls,
    learning_gain,
    missing_data,
    risks,
    true_label_of,
    weakest_segments,
)
from seglens.report.impact import change_impact
from seglens.report.measurement import (
    definition,
    formula,
    interval_method,
    measurement_approach,
    plan_text,
    trend_analysis,
)
from seglens.report.snapshot import ReviewSnapshot, Severity
from seglens.report.text import (
    Attribute,
    Item,
    fmt_est,
    fmt_p,
    fmt_pct,
    fmt_points,
    plural,
    q,
)

__all__ = ["ATTRIBUTE_KEYS", "Attribute", "Item", "compute_attributes"]


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
    if s.accuracy is None or s.status is None:
        summary = (
            f"Segmentation accuracy is not measured for {s.period} (n = 0): this review cannot "
            f"say whether the segmentation meets the {s.target_pct:g} % target."
        )
        return Attribute("business_insights", "Business insights", summary, tuple(items))
    verdict = {
        "green": "is above target with 95 % confidence",
        "amber": "cannot yet be told apart from the target",
        "red": "is below target with 95 % confidence",
    }[s.status]
    summary = f"At {fmt_pct(s.accuracy.value_pct)} the segmentation {verdict}."
    return Attribute("business_insights", "Business insights", summary, tuple(items))


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


def _projection_tip(s: ReviewSnapshot) -> Item | None:
    lrn = s.learning
    if lrn is None or not lrn.curve:
        return None
    sizes = "/".join(f"{p.n_labels:,}" for p in lrn.curve)
    where = f"learning curve over {sizes} labels"
    if lrn.projection_status == "rising":
        priced = []
        for g, k in lrn.labels_for_gain:
            what = f"+{g:g} point{'' if g == 1 else 's'}"
            if k is None:
                ceiling = f" ({lrn.ceiling_pct:.1f} %)" if lrn.ceiling_pct is not None else ""
                priced.append(f"{what} is beyond the fitted ceiling{ceiling}")
            elif k > 100 * lrn.n_labels:
                priced.append(f"{what} would take more than 100 times today's labels")
            else:
                more = max(k - lrn.n_labels, 0)
                priced.append(f"{what} would take about {more:,} more labels ({k:,} in all)")
        if not priced:
            return Item(f"The {where} rises, but the projection priced no gain.")
        return Item(f"Label more: {'; '.join(priced)} ({where}, extrapolated).")
    if lrn.projection_status == "flat":
        return Item(f"Do not just label more — {where}: {lrn.projection}.", "warning")
    return Item(f"The {where} cannot price more labels yet: {lrn.projection}.")


def _missing_data_tip(s: ReviewSnapshot) -> Item | None:
    found = missing_data(s.learning)
    if found is None:
        return None
    why = []
    if found.flat:
        why.append("the learning curve is flat")
    if found.pair is not None:
        c = found.pair
        labelled = round(100.0 * c.customers / c.share_pct) if c.share_pct else c.customers
        why.append(
            f"out of fold the learnt model puts {c.customers:,} of the {labelled:,} customers "
            f"labelled {q(c.labelled)} ({c.share_pct:.0f} %) in {q(c.predicted)}"
        )
    inputs = ", ".join(found.top_inputs) or "no input carries anything"
    shares = [
        f"{kind} {pct:.0f} %"
        for kind, pct in (
            ("behavioural", found.behavioural_pct),
            ("demographic", found.demographic_pct),
        )
        if pct is not None
    ]
    carried = f" (importance: {', '.join(shares)})" if shares else ""
    absent = [
        kind
        for kind, pct in (
            ("behavioural", found.behavioural_pct),
            ("demographic", found.demographic_pct),
        )
        if not pct
    ]
    helps = (
        f"{' or '.join(absent)} data that tells them apart"
        if absent
        else "an input that tells them apart"
    )
    return Item(
        f"Missing data: {'; '.join(why)} — the inputs it relies on ({inputs}){carried} do not "
        f"separate these segments; add {helps}"
        + (" rather than more labels." if found.flat else ", not only more labels."),
        "warning",
    )


def _expected_kpi_tip(s: ReviewSnapshot) -> Item | None:
    lrn = s.learning
    if lrn is None:
        return None
    gain = learning_gain(s)
    run = f" (run {lrn.after_run_id})" if lrn.after_run_id else ""
    if lrn.expected is None:
        return Item(
            f"The gain of the segmentation learnt from the {lrn.n_labels:,} labels{run} is not "
            f"yet measured: its only figure, {fmt_est(lrn.agreement)} out-of-fold agreement "
            "with the labels it learnt from, is not the KPI — audit a fresh sample of its "
            "customers (none of those learnt from) before adopting it.",
            "warning",
        )
    after = lrn.expected
    text = (
        f"Adopting the segmentation learnt from the {lrn.n_labels:,} labels{run}: expected KPI "
        f"{fmt_est(after)}, re-measured on a fresh audit of {after.n:,} other customers "
        f"({lrn.overlap} learnt from)"
    )
    if gain is not None:
        before_run = f" (run {lrn.before_run_id})" if lrn.before_run_id else ""
        text += (
            f", against {fmt_est(gain.before)} before{before_run}: "
            f"{fmt_points(gain.delta_points)} (95 % CI {gain.ci_low_points:+.1f} to "
            f"{gain.ci_high_points:+.1f}, {fmt_p(gain.p_value)})"
        )
    return Item(text + ".", "warning" if gain is not None and gain.delta_points < 0 else "info")


def learning_tips(s: ReviewSnapshot) -> list[Item]:
    """Tips from learning a segmentation from the labels: the expected KPI (fresh audit only),
    the learning-curve projection and the missing data, each quoting its measurement."""
    tips = (_expected_kpi_tip(s), _projection_tip(s), _missing_data_tip(s))
    return [t for t in tips if t is not None]


def improvement_tips(s: ReviewSnapshot) -> Attribute:
    """Actions derived from the diagnostics: merge, re-draw a boundary, label more, re-fit, and
    what learning from the labels measured (expected KPI, projection, missing data)."""
    items: list[Item] = []
    if not s.measured:
        plan = plan_text(s)
        items.append(
            Item(
                "Measure the KPI first: label a stratified audit sample"
                + (f" ({plan})" if plan else "")
                + f", drawn with `seglens audit-sample --db URL --margin {s.margin_pct:g}` and "
                "scored with `seglens audit-estimate SHEET --db URL`.",
                "warning",
            )
        )
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
    items.extend(learning_tips(s))
    for seg in s.segments:
        if seg.stability is not None and seg.stability < STABLE:
            items.append(
                Item(
                    f"{q(seg.name)} is unstable under resampling (Jaccard {seg.stability:.2f}): "
                    "re-fit with fewer segments or steadier features before acting on it.",
                    "warning",
                )
            )
    if not items and s.status == "green":
        items.append(
            Item(
                f"No action needed: every interval is within ±{s.margin_pct:g} points and no "
                "segments are confused; keep the audit sample size."
            )
        )
    elif not items:
        where = "is below" if s.status == "red" else "cannot yet be told apart from"
        items.append(
            Item(
                f"The KPI {where} the {s.target_pct:g} % target, but no segment stands out: "
                "review the segment definitions with the people who label, and label more "
                "customers in the largest segments to locate the errors.",
                "warning",
            )
        )
    summary = f"{plural(len(items), 'action')} derived from the diagnostics."
    return Attribute("improvement_tips", "Improvement tips", summary, tuple(items))


def visualization(s: ReviewSnapshot) -> Attribute:
    """What each chart of this review shows and how to read it."""
    items: list[Item] = []
    if s.trend:
        items.append(
            Item(
                f"Trend: {plural(len(s.trend), 'measured period')}, point = KPI, band = 95 % "
                f"interval, dashed line = {s.target_pct:g} % target"
                + ("" if s.measured else f"; {s.period} is not measured and not plotted")
                + "."
            )
        )
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
    if s.proxies:
        items.append(
            Item(
                "Monitoring signals are listed in their own table, with no target line and no "
                "traffic light."
            )
        )
    if s.status is None:
        summary = "Dashboard tile: no traffic light — the KPI is not measured (n = 0)."
    else:
        summary = f"Dashboard tile: traffic light {s.status.upper()} beside the trend line."
    return Attribute("visualization", "Visualization", summary, tuple(items))


def risk_warnings(s: ReviewSnapshot) -> Attribute:
    """Below-target, instability, small samples and data-quality findings, worst first."""
    found = risks(s)
    items = tuple(Item(r.message, r.severity) for r in found)
    crit = sum(1 for r in found if r.severity == "critical")
    notes = sum(1 for r in found if r.severity == "info")
    summary = (
        f"{plural(len(found) - notes, 'warning')}, {crit} critical"
        + (f"; {plural(notes, 'note')}." if notes else ".")
        if found
        else "No risks raised."
    )
    return Attribute("risk_warnings", "Risk warnings", summary, items)


def _dist_version(name: str) -> str:
    try:
        return version(name)
    except PackageNotFoundError:
        return "not installed"


def _pdf_text(pdf_engine: str | None) -> str:
    if pdf_engine == "chromium":
        return "PDF: headless Chromium print-to-PDF"
    if pdf_engine == "weasyprint":
        return f"PDF: WeasyPrint {_dist_version('weasyprint')}"
    return "no PDF rendered with this file"


def tools_and_technology(s: ReviewSnapshot, *, pdf_engine: str | None = None) -> Attribute:
    """The methods and software actually used for this snapshot (and the PDF engine used)."""
    items: list[Item] = []
    if s.run is not None:
        params = ", ".join(f"{k}={v}" for k, v in s.run.parameters)
        ver = s.run.seglens_version or _dist_version("seglens")
        items.append(Item(f"Segmenter: {s.run.segmenter}({params}), seglens {ver}."))
    methods = (
        [interval_method(s.accuracy)]
        if s.accuracy is not None
        else ["stratified audit planning (seglens.audit.plan_audit)"]
    )
    if any(x.matched_label not in (None, x.name) for x in s.segments):
        methods.append("Hungarian matching of segments to labels")
    if s.history:
        methods.append("two-proportion z-test between periods")
    if any(x.stability is not None for x in s.segments):
        methods.append("bootstrap Jaccard stability")
    if methods:
        items.append(Item("Methods: " + "; ".join(methods) + "."))
    if s.proxies:
        names = ", ".join(p.name for p in s.proxies)
        items.append(Item(f"Monitoring signals (label-free, not the KPI): {names}."))
    if s.store_url:
        items.append(Item(f"KPI history store: {s.store_url.split(':', 1)[0]}."))
    items.append(
        Item(
            f"Charts: Vega-Lite rendered by vl-convert {_dist_version('vl-convert-python')} "
            "(inline SVG, no JavaScript); templates: Jinja2 with autoescaping; "
            f"{_pdf_text(pdf_engine)}."
        )
    )
    summary = f"{plural(len(methods), 'statistical method')} behind this review."
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


def compute_attributes(
    snap: ReviewSnapshot, *, pdf_engine: str | None = None
) -> tuple[Attribute, ...]:
    """All twelve attributes for ``snap``, in review order.

    ``pdf_engine`` is the engine that renders this document to PDF (``"chromium"`` or
    ``"weasyprint"``; ``None``: no PDF), as *Tools and technology* names it.

    Examples
    --------
    >>> from seglens.report.snapshot import Estimate, SegmentStat
    >>> snap = ReviewSnapshot("2011Q3", Estimate.from_counts(90, 100), (SegmentStat("A", 100),))
    >>> [a.key for a in compute_attributes(snap)][:3]
    ['definition', 'business_insights', 'measurement_approach']
    """
    tools = "tools_and_technology"
    return tuple(
        tools_and_technology(snap, pdf_engine=pdf_engine) if key == tools else fn(snap)
        for key, fn in ATTRIBUTES
    )
