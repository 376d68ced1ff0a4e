"""The KPI's own attributes: definition, measurement approach, formula and trend.

Pure functions ``ReviewSnapshot -> Attribute`` (see :mod:`seglens.report.attributes`). When the
period was not measured they say so (n = 0) and quote the audit plan that would measure it; they
never compute an accuracy from a label-free proxy.
"""

from __future__ import annotations

import itertools

from seglens.report.plan import audit_plans
from seglens.report.snapshot import Estimate, ReviewSnapshot, period_change
from seglens.report.text import (
    Attribute,
    Item,
    fmt_ci,
    fmt_est,
    fmt_p,
    fmt_pct,
    fmt_points,
    plural,
)
from seglens.settings import DEFAULT_SETTINGS

__all__ = [
    "definition",
    "formula",
    "interval_method",
    "measurement_approach",
    "plan_text",
    "trend_analysis",
]


def _method_phrase(s: ReviewSnapshot) -> str:
    return {
        "labelled": "labelled customers (sales / service confirmations)",
        "stratified": "customers in a stratified audit sample (weighted estimate)",
        "unmeasured": "labelled customers",
    }[s.method]


def plan_text(s: ReviewSnapshot) -> str:
    """``'376 labels for ±5 points, 965 for ±3'`` from the audit plans ('' without segments)."""
    plans = audit_plans(s)
    parts = [f"{p.total:,} labels for ±{m:g} points" for m, p in plans.items()]
    return ", ".join(parts)


def interval_method(est: Estimate) -> str:
    return {
        "wilson": "Wilson score interval",
        "stratified-wilson": "Wilson interval on the stratified estimate's effective sample size",
    }.get(est.method, f"{est.method} interval")


def _interval_text(est: Estimate) -> str:
    """How an interval was computed, with its bounds (the review's one set of bounds)."""
    return f"{round(100 * est.confidence)} % {interval_method(est)} {fmt_ci(est)}"


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
    if s.accuracy is None:
        summary = (
            f"For {s.period}, accuracy is not measured: no labelled customer{pop}, across "
            f"{plural(len(s.segments), 'segment')} (n = 0)."
        )
    else:
        summary = (
            f"For {s.period}, accuracy is measured on {s.accuracy.n:,} {_method_phrase(s)}{pop}, "
            f"across {plural(len(s.segments), 'segment')}."
        )
    return Attribute("definition", "Definition", summary, tuple(items))


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
    acc = s.accuracy
    if acc is not None:
        items.append(
            Item(
                f"{_interval_text(acc)}: its far bound lies {acc.half_width_pct:.1f} points from "
                f"the estimate, against a planned margin of ±{s.margin_pct:g} points."
            )
        )
    else:
        plan = plan_text(s)
        items.append(
            Item(
                "To measure it, label a stratified audit sample (customers drawn within each "
                "segment, weighted back to the population)"
                + (f": {plan} (see the audit plan)." if plan else ".")
            )
        )
    if s.proxies:
        items.append(
            Item(
                f"{plural(len(s.proxies), 'label-free signal')} listed under Monitoring: they "
                "need no labels and are not the KPI."
            )
        )
    if acc is None:
        summary = f"Not measured for {s.period}: no labelled customer (n = 0)."
    else:
        summary = f"{s.method.capitalize()} measurement on {acc.n:,} customers for {s.period}."
    return Attribute("measurement_approach", "Measurement approach", summary, tuple(items))


def formula(s: ReviewSnapshot) -> Attribute:
    """The formulas with this period's numbers substituted (the audit plan's when unmeasured)."""
    acc = s.accuracy
    items: list[Item] = []
    if acc is None:
        return _unmeasured_formula(s)
    if acc.successes is not None:
        items.append(
            Item(
                f"Customer-level: {acc.successes:,.0f} / {acc.n:,} × 100 = "
                f"{fmt_pct(acc.value_pct, 2)}; 95 % CI {fmt_ci(acc)}."
            )
        )
    else:
        items.append(
            Item(
                "Customer-level (stratified): Σ_h W_h · correct_h / n_h × 100 with "
                f"W_h = N_h / N = {fmt_est(acc)}."
            )
        )
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


def _unmeasured_formula(s: ReviewSnapshot) -> Attribute:
    """No accuracy to compute: the KPI's formula, and the audit plan's with its numbers."""
    items = [
        Item(
            f"Customer-level: not computed for {s.period}, no customer was checked (n = 0). "
            "Label-free signals are not put into this formula."
        )
    ]
    plans = audit_plans(s)
    if plans:
        first = next(iter(plans.values()))
        items.append(
            Item(
                "Audit size: the smallest stratified sample n = Σ n_h whose expected margin "
                "z · √(Σ_h W_h² (1 − n_h/N_h) p(1 − p) / n_h) reaches the wanted ± points, with "
                f"W_h = N_h / N, p = {first.strata[0].expected_accuracy_pct:g} % (worst case), "
                f"z for {round(100 * first.confidence)} %, {first.allocation.capitalize()} "
                f"allocation and at least {DEFAULT_SETTINGS.min_per_segment} customers per "
                "segment (or all of a smaller one)."
            )
        )
        items.extend(
            Item(
                f"±{m:g} points: n = {p.total:,} of N = {p.population:,} customers "
                f"(expected margin ±{p.expected_margin_pct:.2f} points)."
            )
            for m, p in plans.items()
        )
    summary = (
        "Correctly segmented customers / customers checked × 100 — not measured "
        f"for {s.period} (n = 0)."
    )
    return Attribute("formula", "Formula", summary, tuple(items))


def trend_analysis(s: ReviewSnapshot) -> Attribute:
    """How the KPI moved over the recorded periods, and which moves are significant."""
    trend = s.trend
    unmeasured = (
        [Item(f"{s.period} is not measured (n = 0): it has no point in the trend.", "warning")]
        if not s.measured
        else []
    )
    if not trend:
        summary = f"No measured period yet: {s.period} is not measured (n = 0), so no trend."
        return Attribute("trend_analysis", "Trend analysis", summary, ())
    if len(trend) == 1:
        if s.measured:
            summary = (
                f"{s.period} is the first recorded period: no trend yet; the next review will "
                "test the change against it."
            )
        else:
            only = trend[0]
            summary = (
                f"Only {only.period} was measured ({fmt_est(only.accuracy)}); {s.period} is not "
                "measured, so no change can be tested."
            )
        return Attribute("trend_analysis", "Trend analysis", summary, tuple(unmeasured))
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
    items.extend(unmeasured)
    summary = (
        f"Over {len(trend)} measured periods ({first.period}–{last.period}) the KPI moved "
        f"{fmt_points(delta)}; {drops} of the {len(trend) - 1} period-on-period changes "
        "were significant drops."
    )
    return Attribute("trend_analysis", "Trend analysis", summary, tuple(items))
