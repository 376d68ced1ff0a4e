"""Compact HTML for notebooks (``_repr_html_``): one place for escaping and the table markup.

Every helper escapes what it is given, so callers pass plain values (user text included: segment
names, sources, periods) and never build markup themselves.

Examples
--------
>>> card("Plan <b>", [("n", 3)], table(["segment"], [["<script>"]]))  # doctest: +ELLIPSIS
'<div class="seglens-repr"><strong>Plan &lt;b&gt;</strong>...&lt;script&gt;...'
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import polars as pl

    from seglens.stats import Estimate

__all__ = ["MAX_ROWS", "card", "cell", "esc", "estimate_text", "frame_table", "table"]

MAX_ROWS = 10
"""Rows shown in a notebook table; the rest are counted, not shown."""

_STYLE = "border-collapse:collapse;font-size:90%"


def esc(value: object) -> str:
    """``value`` as text, HTML-escaped (quotes included)."""
    return html.escape(str(value), quote=True)


def cell(value: object) -> str:
    """One value as short escaped text (floats to 4 significant digits, None as a dash)."""
    if value is None:
        return "—"
    if isinstance(value, float):
        return esc(f"{value:.4g}")
    return esc(value)


def estimate_text(est: Estimate | None) -> str:
    """``90.0 % (n=100, 95 % CI 82.6–94.5)``, or ``not measured (n = 0)`` (plain text)."""
    if est is None or est.n == 0:
        return "not measured (n = 0)"
    return str(est)


def table(
    header: Sequence[str], rows: Iterable[Sequence[object]], *, total: int | None = None
) -> str:
    """A small table of at most :data:`MAX_ROWS` rows; ``total`` rows in all (for "… more")."""
    shown = []
    for i, row in enumerate(rows):
        if i == MAX_ROWS:
            break
        shown.append("<tr>" + "".join(f"<td>{cell(v)}</td>" for v in row) + "</tr>")
    head = "<tr>" + "".join(f"<th>{esc(h)}</th>" for h in header) + "</tr>"
    more = ""
    if total is not None and total > len(shown):
        more = f"<p><small>… {total - len(shown):,} more rows</small></p>"
    body = "".join(shown)
    return f'<table style="{_STYLE}"><thead>{head}</thead><tbody>{body}</tbody></table>{more}'


def frame_table(frame: pl.DataFrame) -> str:
    """The first rows of a Polars frame as a :func:`table`."""
    return table(frame.columns, frame.head(MAX_ROWS).rows(), total=frame.height)


def card(title: str, facts: Sequence[tuple[str, object]] = (), body: str = "") -> str:
    """A title line, a line of ``name: value`` facts, then ``body`` (markup from :func:`table`)."""
    line = " · ".join(f"{esc(k)}: {cell(v)}" for k, v in facts)
    facts_html = f"<br><small>{line}</small>" if line else ""
    return f'<div class="seglens-repr"><strong>{esc(title)}</strong>{facts_html}{body}</div>'
