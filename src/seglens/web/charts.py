"""Vega-Lite specifications for the pages' charts, built from the server's figures.

The page embeds each spec as JSON and ``static/charts.js`` draws it with the vendored
vega/vega-lite/vega-embed scripts, so charts work without internet access.
"""

from __future__ import annotations

from typing import Any

import polars as pl

from seglens.accuracy import AccuracyReport

__all__ = ["bullet_spec", "confusion_spec", "migration_spec", "precision_spec", "trend_spec"]

Spec = dict[str, Any]
_SCHEMA = "https://vega.github.io/schema/vega-lite/v6.json"
_RED, _GREEN, _GREY = "#c0392b", "#2e7d32", "#555"


def _base(**kw: Any) -> Spec:
    return {"$schema": _SCHEMA, "config": {"view": {"stroke": None}}, **kw}


def bullet_spec(value: float, low: float, high: float, n: int, target: float) -> Spec:
    """A bullet chart: the KPI and its interval against the target line (0-100 %).

    Examples
    --------
    >>> bullet_spec(82.0, 78.0, 86.0, 300, 85.0)["layer"][1]["mark"]["type"]
    'rule'
    """
    colour = _GREEN if low >= target else (_RED if high < target else "#e69f00")
    row = {"value": value, "low": low, "high": high, "n": n, "target": target}
    x = {"scale": {"domain": [0, 100]}, "title": "Segmentation accuracy (%)"}
    return _base(
        width="container",
        height=60,
        data={"values": [row]},
        layer=[
            {
                "mark": {"type": "bar", "color": "#eee", "size": 40},
                "encoding": {"x": {"datum": 100}},
            },
            {
                "mark": {"type": "rule", "color": colour, "size": 14, "opacity": 0.45},
                "encoding": {
                    "x": {"field": "low", "type": "quantitative", **x},
                    "x2": {"field": "high"},
                },
            },
            {
                "mark": {"type": "tick", "color": colour, "thickness": 4, "size": 40},
                "encoding": {
                    "x": {"field": "value", "type": "quantitative"},
                    "tooltip": [
                        {"field": "value", "format": ".1f", "title": "accuracy %"},
                        {"field": "low", "format": ".1f", "title": "CI low"},
                        {"field": "high", "format": ".1f", "title": "CI high"},
                        {"field": "n", "title": "n"},
                    ],
                },
            },
            {
                "mark": {"type": "rule", "color": _GREY, "strokeDash": [4, 3], "size": 2},
                "encoding": {"x": {"field": "target", "type": "quantitative"}},
            },
        ],
    )


def trend_spec(history: pl.DataFrame, target: float) -> Spec:
    """KPI per period with its interval band and the target line."""
    rows = history.select("period", "value", "ci_low", "ci_high", "n").to_dicts()
    y = {"scale": {"domain": [0, 100]}, "title": "accuracy (%)"}
    return _base(
        width="container",
        height=220,
        data={"values": rows},
        layer=[
            {
                "mark": {"type": "area", "opacity": 0.2},
                "encoding": {
                    "x": {"field": "period", "type": "ordinal", "title": "period"},
                    "y": {"field": "ci_low", "type": "quantitative", **y},
                    "y2": {"field": "ci_high"},
                },
            },
            {
                "mark": {"type": "line", "point": True},
                "encoding": {
                    "x": {"field": "period", "type": "ordinal"},
                    "y": {"field": "value", "type": "quantitative"},
                    "tooltip": [
                        {"field": "period"},
                        {"field": "value", "format": ".1f"},
                        {"field": "n"},
                    ],
                },
            },
            {
                "data": {"values": [{"target": target}]},
                "mark": {"type": "rule", "color": _RED, "strokeDash": [4, 3]},
                "encoding": {"y": {"field": "target", "type": "quantitative"}},
            },
        ],
    )


def precision_spec(report: AccuracyReport) -> Spec:
    """Per-segment precision with its interval, against the target."""
    rows = [
        {
            "segment": r.segment,
            "precision": r.precision.value_pct,
            "low": r.precision.ci_low_pct,
            "high": r.precision.ci_high_pct,
            "n": r.size,
            "accurate": "accurate" if r.accurate else "not accurate",
        }
        for r in report.per_segment
    ]
    return _base(
        width="container",
        height={"step": 24},
        data={"values": rows},
        layer=[
            {
                "mark": "rule",
                "encoding": {
                    "y": {"field": "segment", "type": "nominal", "title": None},
                    "x": {
                        "field": "low",
                        "type": "quantitative",
                        "scale": {"domain": [0, 100]},
                        "title": "precision (%)",
                    },
                    "x2": {"field": "high"},
                },
            },
            {
                "mark": {"type": "point", "filled": True, "size": 70},
                "encoding": {
                    "y": {"field": "segment", "type": "nominal"},
                    "x": {"field": "precision", "type": "quantitative"},
                    "color": {
                        "field": "accurate",
                        "type": "nominal",
                        "scale": {"domain": ["accurate", "not accurate"], "range": [_GREEN, _RED]},
                    },
                    "tooltip": [
                        {"field": "segment"},
                        {"field": "precision", "format": ".1f"},
                        {"field": "n"},
                    ],
                },
            },
            {
                "data": {"values": [{"target": report.target_pct}]},
                "mark": {"type": "rule", "color": _GREY, "strokeDash": [4, 3]},
                "encoding": {"x": {"field": "target", "type": "quantitative"}},
            },
        ],
    )


def confusion_spec(report: AccuracyReport) -> Spec:
    """Heatmap of labels (rows) against assigned segments (columns)."""
    rows = [
        {"label": lab, "segment": seg, "customers": int(report.confusion[i, j])}
        for i, lab in enumerate(report.labels)
        for j, seg in enumerate(report.segments)
    ]
    return _heatmap(rows, "segment", "label", "customers", "assigned segment", "label (truth)")


def migration_spec(flows: pl.DataFrame) -> Spec:
    """Heatmap of customers moving between the segments of two runs."""
    rows = flows.select("from_segment", "to_segment", "customers").to_dicts()
    return _heatmap(rows, "to_segment", "from_segment", "customers", "later run", "earlier run")


def _heatmap(rows: list[dict[str, Any]], x: str, y: str, v: str, xt: str, yt: str) -> Spec:
    enc = {
        "x": {"field": x, "type": "nominal", "title": xt},
        "y": {"field": y, "type": "nominal", "title": yt},
    }
    return _base(
        width="container",
        height={"step": 26},
        data={"values": rows},
        encoding=enc,
        layer=[
            {
                "mark": "rect",
                "encoding": {
                    "color": {"field": v, "type": "quantitative", "scale": {"scheme": "blues"}},
                    "tooltip": [{"field": x}, {"field": y}, {"field": v}],
                },
            },
            {"mark": {"type": "text", "fontSize": 11}, "encoding": {"text": {"field": v}}},
        ],
    )
