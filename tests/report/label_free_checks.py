"""Structural checks of a review whose period has no labels (used by the report and demo tests).

The review is parsed into an element tree (the standard library's ``html.parser``), and its JSON
snapshot is walked: a label-free proxy may appear in the Monitoring panel and under ``proxies``
only — never in the headline card, under an accuracy heading, beside the target or with a
traffic light or status colour.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any

from seglens.audit import plan_audit

VOID = {"meta", "link", "br", "hr", "img", "input", "col", "area", "base", "source", "wbr"}
STATUS_CLASSES = re.compile(r"\b(light|status-\w+|verdict-\w+|warning|critical|green|amber|red)\b")
ACCURACY_ATTRIBUTES = (
    "definition",
    "business_insights",
    "measurement_approach",
    "formula",
    "trend_analysis",
)


@dataclass
class Node:
    """One element: tag, attributes, and its content in order (text pieces and elements)."""

    tag: str
    attrs: dict[str, str]
    content: list[str | Node] = field(default_factory=list)

    @property
    def children(self) -> list[Node]:
        """The child elements."""
        return [c for c in self.content if isinstance(c, Node)]

    def text(self, skip: Node | None = None) -> str:
        """All text below this element in document order (``skip``'s subtree left out)."""
        if self is skip:
            return ""
        out = "".join(c if isinstance(c, str) else c.text(skip) for c in self.content)
        return re.sub(r"\s+", " ", out).strip()

    def iter(self) -> list[Node]:
        """This element and every descendant, in document order."""
        out = [self]
        for c in self.children:
            out.extend(c.iter())
        return out

    def find(self, **attrs: str) -> list[Node]:
        """Descendants (and self) whose attributes include ``attrs`` (``data_testid`` style)."""
        want = {k.replace("_", "-"): v for k, v in attrs.items()}
        return [n for n in self.iter() if all(n.attrs.get(k) == v for k, v in want.items())]


class _Builder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Node("#document", {})
        self.stack = [self.root]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        node = Node(tag, {k: v or "" for k, v in attrs})
        self.stack[-1].content.append(node)
        if tag not in VOID:
            self.stack.append(node)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.stack[-1].content.append(Node(tag, {k: v or "" for k, v in attrs}))

    def handle_endtag(self, tag: str) -> None:
        for i in range(len(self.stack) - 1, 0, -1):
            if self.stack[i].tag == tag:
                del self.stack[i:]
                return

    def handle_data(self, data: str) -> None:
        if self.stack[-1].tag not in ("script", "style"):
            self.stack[-1].content.append(data)


def parse(page: str) -> Node:
    """The document as a :class:`Node` tree."""
    b = _Builder()
    b.feed(page)
    b.close()
    return b.root


def _one(root: Node, **attrs: str) -> Node:
    found = root.find(**attrs)
    assert len(found) == 1, (attrs, len(found))
    return found[0]


def proxy_texts(value: float) -> list[str]:
    """How a proxy (0–1 scale) could be printed: ``0.283``, ``28.3 %``, ``28.33 %``, ``28.3%``."""
    pct = 100 * value
    return [f"{value:.3f}", f"{pct:.1f} %", f"{pct:.2f} %", f"{pct:.1f}%", f"{pct:.1f} pct"]


def _json_numbers(value: Any, path: str = "") -> list[tuple[str, float]]:
    if isinstance(value, dict):
        return [x for k, v in value.items() for x in _json_numbers(v, f"{path}.{k}")]
    if isinstance(value, list):
        return [x for i, v in enumerate(value) for x in _json_numbers(v, f"{path}[{i}]")]
    if isinstance(value, int | float) and not isinstance(value, bool):
        return [(path, float(value))]
    return []


def embedded_json(page: str) -> dict[str, Any]:
    """The snapshot JSON block of a rendered review."""
    m = re.search(
        r'<script type="application/json" id="seglens-snapshot">(.*?)</script>', page, re.S
    )
    assert m is not None, "the review embeds its snapshot"
    data: dict[str, Any] = json.loads(m.group(1))
    return data


def check_label_free_json(data: dict[str, Any]) -> list[dict[str, Any]]:
    """A label-free snapshot dict: no accuracy, no proxy trend, proxies only under ``proxies``.

    Returns the proxies (name, value, n, caveat).
    """
    assert data["accuracy"] is None and data["method"] == "unmeasured", (
        data["accuracy"],
        data["method"],
    )
    assert data["segment_accuracy"] is None and data["current_change"] is None
    assert all(h["method"] in ("labelled", "stratified") for h in data["history"])
    proxies: list[dict[str, Any]] = data["proxies"]
    assert proxies, "a label-free review lists its monitoring signals"
    elsewhere = [(p, v) for p, v in _json_numbers(data) if not p.startswith(".proxies")]
    for proxy in proxies:
        v = float(proxy["value"])
        for path, x in elsewhere:
            assert abs(x - v) > 1e-9 and abs(x - 100 * v) > 1e-6, (proxy["name"], path, x)
        assert "not the KPI" in proxy["caveat"] or "not accuracy" in proxy["caveat"]
    return proxies


def check_label_free_review(page: str, *, segment_sizes: dict[str, int] | None = None) -> Node:
    """Fail if a proxy is shown as the KPI; check the audit plan against ``plan_audit``.

    Checks, on the parsed document: the headline card says "not measured (n = 0)" with no
    value, no interval, no target and no light; no traffic light anywhere; every proxy sits in
    the Monitoring panel (its value, n and caveat), whose rows carry no status colour and no
    target; no proxy value is printed anywhere else, and no proxy name appears in the headline
    cards, the accuracy trend chart or the KPI's own attributes; the audit plan's ±5 and ±3
    totals and per-segment counts equal :func:`seglens.audit.plan_audit` on ``segment_sizes``.
    """
    root = parse(page)
    proxies = check_label_free_json(embedded_json(page))
    card = _one(root, data_testid="headline-card")
    assert card.attrs.get("data-measured") == "false"
    assert card.attrs.get("aria-label") == "Segmentation accuracy: not measured (n = 0)"
    card_text = card.text()
    assert "not measured (n = 0)" in card_text, card_text
    assert "%" not in card_text and "target" not in card_text.lower(), card_text
    assert not STATUS_CLASSES.search(card.attrs.get("class", "")), card.attrs
    assert not root.find(data_testid="headline-accuracy")
    assert not root.find(data_testid="headline-ci")
    assert not root.find(data_testid="status")
    lights = [
        n
        for n in root.iter()
        if STATUS_CLASSES.search(n.attrs.get("class", ""))
        and ("light" in n.attrs.get("class", "") or "status-" in n.attrs.get("class", ""))
    ]
    assert lights == [], [n.attrs for n in lights]
    panel = _one(root, data_testid="monitoring")
    heading = [n for n in panel.iter() if n.tag == "h2"]
    assert heading and heading[0].text() == "Monitoring (label-free signals, not the KPI)"
    assert "target" not in panel.text().lower()
    for n in panel.iter():
        assert not STATUS_CLASSES.search(n.attrs.get("class", "")), n.attrs
    rows = panel.find(data_testid="monitoring-signal")
    assert len(rows) == len(proxies)
    outside = root.text(skip=panel)
    for proxy, row in zip(proxies, rows, strict=True):
        cells = [c.text() for c in row.children if c.tag == "td"]
        assert cells[0] == proxy["name"] and cells[1] == f"{proxy['value']:.3f}"
        assert cells[2] == (f"{proxy['n']:,}" if proxy["n"] else "—")
        assert cells[4] == proxy["caveat"]
        for shown in proxy_texts(float(proxy["value"])):
            assert shown not in outside, (proxy["name"], shown)
    accuracy_parts = [card, *root.find(data_chart="trend")]
    accuracy_parts += [_one(root, data_attribute=key) for key in ACCURACY_ATTRIBUTES]
    for part in accuracy_parts:
        for proxy in proxies:
            assert proxy["name"] not in part.text(), (proxy["name"], part.attrs)
    if segment_sizes is not None:
        check_audit_plan(root, segment_sizes)
    return root


def check_audit_plan(root: Node, segment_sizes: dict[str, int]) -> None:
    """The audit plan table equals ``plan_audit`` for ±5 and ±3 points, per segment and total."""
    table = _one(root, data_testid="audit-plan-table")
    sizes = dict(sorted(segment_sizes.items()))
    for margin in (5.0, 3.0):
        plan = plan_audit(sizes, margin_pct=margin)
        want = {s.segment: s.sample for s in plan.strata} | {"total": plan.total}
        got = {}
        for tr in (n for n in table.iter() if n.tag == "tr"):
            cells = [c for c in tr.children if c.tag == "td"]
            if not cells:
                continue
            mine = [c for c in cells if c.attrs.get("data-margin") == f"{margin:g}"]
            assert len(mine) == 1
            got[cells[0].text()] = int(mine[0].text().replace(",", ""))
        assert got == want, (margin, got, want)
