"""The review's charts: Vega-Lite specs (plain JSON), exported to inline SVG by vl-convert.

Static SVG keeps the report self-contained (no JavaScript, no CDN) and lets the HTML and the
PDF show identical charts. Data values (segment names...) travel as data, never as Vega
expressions; vl-convert escapes them in the SVG, and :func:`safe_svg` refuses any SVG carrying
scripts, event handlers, foreign objects or external references before it is inlined.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any
from xml.etree import ElementTree

import vl_convert
from markupsafe import Markup

from seglens.report.snapshot import ReviewSnapshot

__all__ = [
    "Chart",
    "chart_text",
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
_FORBIDDEN_TAGS = frozenset({"script", "foreignobject", "iframe", "object", "embed", "image"})


@dataclass(frozen=True)
class Chart:
    """A rendered chart: key (for anchors and tests), title, caption and inline SVG markup."""

    key: str
    title: str
    caption: str
    svg: Markup
    spec: Spec

    @property
    def wide(self) -> bool:
        """Too wide for half the page: shown across the full width."""
        return bool(int(self.spec.get("width", 0)) > 400)


_CONTROL = (
    {c: 0x2400 + c for c in range(0x20) if c not in (0x09, 0x0A)}
    | {0x7F: 0x2421}
    | dict.fromkeys(range(0xD800, 0xE000), 0xFFFD)
)


def chart_text(text: str) -> str:
    """Text as the chart renderer can take it: control characters shown as control pictures.

    vl-convert aborts the process on C0 control characters and refuses lone surrogates, so a
    segment named ``"a\\x01b"`` is drawn as ``"a␁b"`` (the HTML tables show the name as given).

    Examples
    --------
    >>> chart_text("VIP" + chr(1))
    'VIP␁'
    """
    return text.translate(_CONTROL)


def _clean(value: Any) -> Any:
    if isinstance(value, str):
        return chart_text(value)
    if isinstance(value, list):
        return [_clean(v) for v in value]
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    return value


def _top(spec: Spec) -> Spec:
    """Shared configuration; every string passes :func:`chart_text`."""
    full = {
        "$schema": "https://vega.github.io/schema/vega-lite/v5.json",
        "background": "white",
        "config": {"font": _FONT, "view": {"stroke": "#d0d7de"}},
        **spec,
    }
    out: Spec = _clean(full)
    return out


def _q(field: str, **extra: Any) -> Spec:
    return {"field": field, "type": "quantitative", **extra}


def _n(field: str, **extra: Any) -> Spec:
    return {"field": field, "type": "nominal", **extra}


def safe_svg(svg: str) -> Markup:
    """Mark vl-convert's SVG as safe to inline, after refusing anything active or external.

    The SVG is parsed; any script-like element, ``on*`` event attribute or reference that is not
    a local ``#fragment`` or ``data:`` URL is refused. Text content (segment names...) is already
    escaped by vl-convert and stays text.

    Examples
    --------
    >>> str(safe_svg('<svg xmlns="http://www.w3.org/2000/svg"><text>&lt;b&gt;</text></svg>'))[:4]
    '<svg'
    """
    body = svg[svg.index("<svg") :] if "<svg" in svg else ""
    try:
        root = ElementTree.fromstring(body)
    except ElementTree.ParseError as err:
        raise RuntimeError(f"refusing to inline an SVG that does not parse: {err}") from None
    for el in root.iter():
        tag = el.tag.rsplit("}", 1)[-1].lower()
        if tag in _FORBIDDEN_TAGS:
            raise RuntimeError(f"refusing to inline an SVG with a <{tag}> element")
        for name, value in el.attrib.items():
            local = name.rsplit("}", 1)[-1].lower()
            if local.startswith("on"):
                raise RuntimeError(f"refusing to inline an SVG with an {local} handler")
            if local in ("href", "src") and not value.startswith(("#", "data:")):
                raise RuntimeError(f"refusing to inline an SVG referencing {value!r}")
    return Markup(body)


def spec_to_svg(spec: Spec) -> Markup:
    """Render a Vega-Lite spec to inline SVG (no network: vl-convert runs Vega in-process)."""
    return safe_svg(vl_convert.vegalite_to_svg(spec))


def _y_floor(values: list[float], target: float) -> float:
    low = min([*values, target])
    return max(0.0, math.floor((low - 5) / 5) * 5)


def trend_spec(snap: ReviewSnapshot) -> Spec | None:
    """KPI per measured period with its 95 % band (error bar when alone) and the target as a
    dashed rule; ``None`` when no period was measured.

    Only measured accuracies (:attr:`ReviewSnapshot.trend`) are plotted: a label-free proxy is
    never drawn against the target.
    """
    if not snap.trend:
        return None
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
    x = {
        "field": "period",
        "type": "ordinal",
        "sort": order,
        "title": "Period",
        "axis": {"labelAngle": 0},
    }
    scale = {"domain": [floor, 100]}
    blue = "#0969da"
    width = max(420, 110 * len(rows))
    goal = [{"target": snap.target_pct, "label": f"target {snap.target_pct:g} %"}]
    layers: list[Spec] = [
        {
            "mark": {"type": "rule", "color": blue, "strokeWidth": 2},
            "encoding": {"x": x, "y": _q("low", scale=scale), "y2": {"field": "high"}},
        },
        {
            "mark": {"type": "line", "color": blue, "point": {"size": 60, "color": blue}},
            "encoding": {
                "x": x,
                "y": _q("value", scale=scale, title="Segmentation Accuracy (%)"),
                "tooltip": [
                    {"field": f, "type": "nominal"} for f in ("period", "value", "low", "high", "n")
                ],
            },
        },
        {
            "mark": {"type": "text", "dy": -12, "fontSize": 11},
            "encoding": {"x": x, "y": _q("value"), "text": _q("value", format=".1f")},
        },
        {
            "data": {"values": goal},
            "mark": {"type": "rule", "color": _TARGET, "strokeDash": [6, 4]},
            "encoding": {"y": _q("target")},
        },
        {
            "data": {"values": goal},
            "mark": {
                "type": "text",
                "align": "right",
                "dx": -4,
                "dy": -7,
                "color": _TARGET,
                "fontSize": 11,
            },
            "encoding": {"y": _q("target"), "x": {"value": width}, "text": _n("label")},
        },
    ]
    if len(rows) > 1:
        band = {
            "mark": {"type": "area", "opacity": 0.18, "color": blue},
            "encoding": {"x": x, "y": _q("low", scale=scale), "y2": {"field": "high"}},
        }
        layers.insert(0, band)
    return _top({"data": {"values": rows}, "width": width, "height": 230, "layer": layers})


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
    y = _n("segment", sort=order, title=None)
    scale = {"domain": [floor, 100]}
    colour = _n(
        "verdict",
        scale={"domain": ["meets target", "below"], "range": [_PASS, _FAIL]},
        legend={"title": None, "orient": "bottom"},
    )
    tooltip = [_n(f) for f in ("segment", "value", "low", "high", "n")]
    layers: list[Spec] = [
        {
            "mark": {"type": "rule", "strokeWidth": 2},
            "encoding": {
                "y": y,
                "x": _q("low", scale=scale),
                "x2": {"field": "high"},
                "color": colour,
            },
        },
        {
            "mark": {"type": "point", "filled": True, "size": 70},
            "encoding": {
                "y": y,
                "x": _q("value", scale=scale, title="Precision (%)"),
                "color": colour,
                "tooltip": tooltip,
            },
        },
        {
            "mark": {"type": "text", "align": "left", "dx": 8, "dy": -9, "fontSize": 10},
            "encoding": {"y": y, "x": _q("value"), "text": _q("n", format=",d")},
        },
        {
            "data": {"values": [{"target": snap.target_pct}]},
            "mark": {"type": "rule", "color": _TARGET, "strokeDash": [6, 4]},
            "encoding": {"x": _q("target")},
        },
    ]
    return _top(
        {"data": {"values": rows}, "width": 380, "height": 28 * len(rows) + 20, "layer": layers}
    )


def _heatmap(
    cells: list[dict[str, Any]],
    x: tuple[str, str, list[str]],
    y: tuple[str, str, list[str]],
    colour_title: str,
) -> Spec:
    enc = {
        "x": _n(x[0], sort=x[2], title=x[1], axis={"labelAngle": -30}),
        "y": _n(y[0], sort=y[2], title=y[1]),
    }
    rect = {
        "mark": "rect",
        "encoding": {
            **enc,
            "color": _q(
                "share",
                title=colour_title,
                scale={"type": "quantize", "scheme": "blues", "domain": [0, 100], "nice": False},
            ),
            "tooltip": [_n(y[0]), _n(x[0]), _q("count"), _q("share")],
        },
    }
    text = {
        "mark": {"type": "text", "fontSize": 11},
        "encoding": {
            **enc,
            "text": _q("count", format=",d"),
            "color": {
                "condition": {"test": "datum.share > 55", "value": "white"},
                "value": "#1f2328",
            },
        },
    }
    size = 44
    return _top(
        {
            "data": {"values": cells},
            "width": size * len(x[2]),
            "height": size * len(y[2]),
            "layer": [rect, text],
        }
    )


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
    enc = {
        "x": _n("feature", sort=list(p.features), title=None, axis={"labelAngle": -30}),
        "y": _n("segment", sort=list(p.segments), title=None),
    }
    rect = {
        "mark": "rect",
        "encoding": {
            **enc,
            "color": _q(
                "z",
                title="z vs segments",
                scale={"type": "quantize", "scheme": "redblue", "domain": [-2, 2], "nice": False},
            ),
        },
    }
    text = {"mark": {"type": "text", "fontSize": 10}, "encoding": {**enc, "text": _n("label")}}
    return _top(
        {
            "data": {"values": cells},
            "width": max(200, 78 * len(p.features)),
            "height": 34 * len(p.segments),
            "layer": [rect, text],
        }
    )


def make_charts(snap: ReviewSnapshot) -> tuple[Chart, ...]:
    """All charts the snapshot has data for, rendered to SVG, in review order."""
    pending: list[tuple[str, str, str, Spec | None]] = [
        (
            "trend",
            "Accuracy trend",
            f"KPI per measured period with its 95 % interval; dashed line: {snap.target_pct:g} % "
            "target."
            + ("" if snap.measured else f" {snap.period} is not measured and has no point."),
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
