"""The review's charts: Vega-Lite specs built with Altair, exported to inline SVG by vl-convert.

Static SVG keeps the report self-contained (no JavaScript, no CDN) and lets the HTML and the
PDF show identical charts. Data values (segment names...) travel as data, never as Vega
expressions; vl-convert escapes them in the SVG, and :func:`safe_svg` refuses any SVG carrying
scripts, event handlers, foreign objects or external references before it is inlined.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

import altair as alt
import vl_convert
from markupsafe import Markup

from seglens.report.snapshot import ReviewSnapshot

__all__ = [
    "Chart",
    "confusion_spec",
    "make_charts",
    "migration_spec",
    "precision_spec",
    "profiles_spec",
    "safe_svg",
    "spec_to_svg",
    "trend_spec",
]

Spec = dict[str, Any]
_PASS, _FAIL, _TARGET = "#1a7f37", "#cf222e", "#cf222e"
_FONT = "DejaVu Sans, Helvetica, Arial, sans-serif"
_UNSAFE = re.compile(
    r"<script|<foreignObject|<iframe|<object|<embed|\son\w+\s*=|javascript:|(?:href|src)\s*=\s*\"(?!#|data:)",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Chart:
    """A rendered chart: key (for anchors and tests), title, caption and inline SVG markup."""

    key: str
    title: str
    caption: str
    svg: Markup
    spec: Spec


def _config(chart: alt.TopLevelMixin) -> Spec:
    spec: Spec = (
        chart.configure(font=_FONT, background="white").configure_view(stroke="#d0d7de").to_dict()
    )
    return spec


def _data(rows: list[dict[str, Any]]) -> alt.Data:
    """Inline data values (never interpreted as expressions)."""
    return alt.Data(values=rows)  # type: ignore[no-untyped-call]


def safe_svg(svg: str) -> Markup:
    """Mark vl-convert's SVG as safe to inline, after refusing anything active or external.

    Examples
    --------
    >>> str(safe_svg('<svg xmlns="http://www.w3.org/2000/svg"><text>&lt;b&gt;</text></svg>'))[:4]
    '<svg'
    """
    body = svg[svg.index("<svg") :] if "<svg" in svg else ""
    if not body or _UNSAFE.search(body):
        raise RuntimeError("refusing to inline an SVG with active or external content")
    return Markup(body)


def spec_to_svg(spec: Spec) -> Markup:
    """Render a Vega-Lite spec to inline SVG (no network: vl-convert runs Vega in-process)."""
    return safe_svg(vl_convert.vegalite_to_svg(spec))


def _y_floor(values: list[float], target: float) -> float:
    low = min([*values, target])
    return max(0.0, math.floor((low - 5) / 5) * 5)


def trend_spec(snap: ReviewSnapshot) -> Spec:
    """KPI per period with its 95 % band (error bar when alone) and the target as a dashed rule."""
    rows = [
        {
            "period": p.period,
            "value": round(p.accuracy.value_pct, 2),
            "low": round(p.accuracy.ci_low_pct, 2),
            "high": round(p.accuracy.ci_high_pct, 2),
            "n": p.accuracy.n,
        }
        for p in snap.trend
    ]
    order = [p.period for p in snap.trend]
    floor = _y_floor([p.accuracy.ci_low_pct for p in snap.trend], snap.target_pct)
    y = alt.Y("value:Q", title="Segmentation Accuracy (%)", scale=alt.Scale(domain=[floor, 100]))
    base = alt.Chart(_data(rows)).encode(
        x=alt.X("period:O", sort=order, title="Period", axis=alt.Axis(labelAngle=0))
    )
    band = base.mark_area(opacity=0.18, color="#0969da").encode(y=alt.Y("low:Q"), y2="high:Q")
    bars = base.mark_rule(color="#0969da", strokeWidth=2).encode(y=alt.Y("low:Q"), y2="high:Q")
    line = base.mark_line(point=alt.OverlayMarkDef(size=60), color="#0969da").encode(
        y=y, tooltip=["period:O", "value:Q", "low:Q", "high:Q", "n:Q"]
    )
    labels = base.mark_text(dy=-12, fontSize=11).encode(
        y="value:Q", text=alt.Text("value:Q", format=".1f")
    )
    width = max(420, 110 * len(rows))
    goal = [{"target": snap.target_pct, "label": f"target {snap.target_pct:g} %"}]
    target = alt.Chart(_data(goal)).mark_rule(color=_TARGET, strokeDash=[6, 4]).encode(y="target:Q")
    target_text = (
        alt.Chart(_data(goal))
        .mark_text(align="right", dx=-4, dy=-7, color=_TARGET, fontSize=11)
        .encode(y="target:Q", x=alt.value(width), text="label:N")
    )
    layers = [bars, line, labels, target, target_text]
    if len(rows) > 1:
        layers.insert(0, band)
    chart = alt.layer(*layers).properties(width=width, height=230)
    return _config(chart)


def precision_spec(snap: ReviewSnapshot) -> Spec | None:
    """Per-segment precision with its 95 % interval against the target."""
    rows = [
        {
            "segment": s.name,
            "value": round(s.precision.value_pct, 2),
            "low": round(s.precision.ci_low_pct, 2),
            "high": round(s.precision.ci_high_pct, 2),
            "n": s.precision.n,
            "verdict": "meets target" if s.precision.value_pct >= snap.target_pct else "below",
        }
        for s in snap.segments
        if s.precision is not None
    ]
    if not rows:
        return None
    order = [str(r["segment"]) for r in sorted(rows, key=lambda r: -float(r["value"]))]
    floor = _y_floor([float(r["low"]) for r in rows], snap.target_pct)
    x = alt.X("value:Q", title="Precision (%)", scale=alt.Scale(domain=[floor, 100]))
    base = alt.Chart(_data(rows)).encode(y=alt.Y("segment:N", sort=order, title=None))
    colour = alt.Color(
        "verdict:N",
        scale=alt.Scale(domain=["meets target", "below"], range=[_PASS, _FAIL]),
        legend=alt.Legend(title=None, orient="bottom"),
    )
    err = base.mark_rule(strokeWidth=2).encode(x=alt.X("low:Q"), x2="high:Q", color=colour)
    pts = base.mark_point(filled=True, size=70).encode(
        x=x, color=colour, tooltip=["segment:N", "value:Q", "low:Q", "high:Q", "n:Q"]
    )
    text = base.mark_text(align="left", dx=8, dy=-9, fontSize=10).encode(
        x="value:Q", text=alt.Text("n:Q", format=",d")
    )
    target = (
        alt.Chart(_data([{"target": snap.target_pct}]))
        .mark_rule(color=_TARGET, strokeDash=[6, 4])
        .encode(x="target:Q")
    )
    chart = alt.layer(err, pts, text, target).properties(width=420, height=28 * len(rows) + 20)
    return _config(chart)


def _heatmap(
    cells: list[dict[str, Any]],
    x: tuple[str, str, list[str]],
    y: tuple[str, str, list[str]],
    colour_title: str,
) -> Spec:
    base = alt.Chart(_data(cells)).encode(
        x=alt.X(f"{x[0]}:N", sort=x[2], title=x[1], axis=alt.Axis(labelAngle=-30)),
        y=alt.Y(f"{y[0]}:N", sort=y[2], title=y[1]),
    )
    rect = base.mark_rect().encode(
        color=alt.Color(
            "share:Q",
            title=colour_title,
            scale=alt.Scale(scheme="blues", domain=[0, 100]),
        ),
        tooltip=[f"{y[0]}:N", f"{x[0]}:N", "count:Q", "share:Q"],
    )
    text = base.mark_text(fontSize=11).encode(
        text=alt.Text("count:Q", format=",d"),
        color=alt.condition("datum.share > 55", alt.value("white"), alt.value("#1f2328")),
    )
    size = 44
    chart = alt.layer(rect, text).properties(width=size * len(x[2]), height=size * len(y[2]))
    return _config(chart)


def confusion_spec(snap: ReviewSnapshot) -> Spec | None:
    """Labelled customers by true label (rows) and assigned segment (columns)."""
    conf = snap.confusion
    if conf is None or not conf.total:
        return None
    col_tot = [sum(r[j] for r in conf.counts) for j in range(len(conf.segments))]
    cells = [
        {
            "true": lab,
            "segment": seg,
            "count": conf.counts[i][j],
            "share": round(100 * conf.counts[i][j] / col_tot[j], 1) if col_tot[j] else 0.0,
        }
        for i, lab in enumerate(conf.true_labels)
        for j, seg in enumerate(conf.segments)
    ]
    return _heatmap(
        cells,
        ("segment", "Assigned segment", list(conf.segments)),
        ("true", "True label", list(conf.true_labels)),
        "% of segment",
    )


def migration_spec(snap: ReviewSnapshot) -> Spec | None:
    """Transition heatmap: customers per (previous segment, current segment)."""
    m = snap.migration
    if m is None or not m.total:
        return None
    row_tot = [sum(r) for r in m.counts]
    cells = [
        {
            "from": a,
            "to": b,
            "count": m.counts[i][j],
            "share": round(100 * m.counts[i][j] / row_tot[i], 1) if row_tot[i] else 0.0,
        }
        for i, a in enumerate(m.from_segments)
        for j, b in enumerate(m.to_segments)
    ]
    return _heatmap(
        cells,
        ("to", f"Segment in {m.to_period}", list(m.to_segments)),
        ("from", f"Segment in {m.from_period}", list(m.from_segments)),
        f"% of {m.from_period} segment",
    )


def profiles_spec(snap: ReviewSnapshot) -> Spec | None:
    """Segment profiles: standardised feature means (colour) with the raw means written in."""
    p = snap.profiles
    if p is None or not p.features or not p.segments:
        return None
    cells: list[dict[str, Any]] = []
    for j, feat in enumerate(p.features):
        col = [row[j] for row in p.means]
        mu = sum(col) / len(col)
        sd = math.sqrt(sum((v - mu) ** 2 for v in col) / len(col))
        for i, seg in enumerate(p.segments):
            v = p.means[i][j]
            z = (v - mu) / sd if sd > 0 else 0.0
            label = f"{v:,.0f}" if abs(v) >= 100 else f"{v:,.2f}"
            cells.append({"segment": seg, "feature": feat, "z": round(z, 2), "label": label})
    base = alt.Chart(_data(cells)).encode(
        x=alt.X("feature:N", sort=list(p.features), title=None, axis=alt.Axis(labelAngle=-30)),
        y=alt.Y("segment:N", sort=list(p.segments), title=None),
    )
    rect = base.mark_rect().encode(
        color=alt.Color(
            "z:Q", title="z vs segments", scale=alt.Scale(scheme="redblue", domain=[2, -2])
        )
    )
    text = base.mark_text(fontSize=10).encode(text="label:N")
    chart = alt.layer(rect, text).properties(
        width=max(200, 78 * len(p.features)), height=34 * len(p.segments)
    )
    return _config(chart)


def make_charts(snap: ReviewSnapshot) -> tuple[Chart, ...]:
    """All charts the snapshot has data for, rendered to SVG, in review order."""
    pending: list[tuple[str, str, str, Spec | None]] = [
        (
            "trend",
            "Accuracy trend",
            f"KPI per period with its 95 % interval; dashed line: {snap.target_pct:g} % target.",
            trend_spec(snap),
        ),
        (
            "precision",
            "Precision per segment",
            "Share of each segment's labelled customers that truly belong there, 95 % interval; "
            "numbers: labelled customers.",
            precision_spec(snap),
        ),
        (
            "confusion",
            "Confusion matrix",
            "Labelled customers by true label and assigned segment; colour: % of the segment.",
            confusion_spec(snap),
        ),
        (
            "migration",
            "Segment migration",
            "Customers by previous and current segment; colour: % of the previous segment.",
            migration_spec(snap),
        ),
        (
            "profiles",
            "Segment profiles",
            "Mean of each feature per segment; colour: standardised across segments.",
            profiles_spec(snap),
        ),
    ]
    return tuple(
        Chart(key, title, caption, spec_to_svg(spec), spec)
        for key, title, caption, spec in pending
        if spec is not None
    )
