"""The *change impact* attribute: the KPI's movement set against revenue, retention, migration."""

from __future__ import annotations

from seglens.report.snapshot import MigrationTable, ReviewSnapshot
from seglens.report.text import Attribute, Item, fmt_money, fmt_p, fmt_pct, fmt_points, q

__all__ = ["change_impact", "misdirected_revenue", "top_flows"]


def misdirected_revenue(snap: ReviewSnapshot) -> tuple[float, float] | None:
    """Estimated revenue held by wrongly segmented customers: ``(amount, share %)``.

    Each segment's revenue is weighted by ``1 − precision``; segments without a labelled
    precision are left out of both numerator and denominator.
    """
    rows = [(s.revenue, s.precision) for s in snap.segments if s.revenue is not None]
    used = [(r, p.value_pct) for r, p in rows if p is not None and r is not None]
    total = sum(r for r, _ in used)
    if not used or total <= 0:
        return None
    wrong = sum(r * (1 - p / 100) for r, p in used)
    return wrong, 100 * wrong / total


def top_flows(m: MigrationTable, k: int = 3) -> list[tuple[str, str, int, float | None]]:
    """Largest off-diagonal flows ``(from, to, customers, revenue)``."""
    flows: list[tuple[str, str, int, float | None]] = []
    for i, a in enumerate(m.from_segments):
        for j, b in enumerate(m.to_segments):
            if a != b and m.counts[i][j] > 0:
                rev = m.revenue[i][j] if m.revenue is not None else None
                flows.append((a, b, m.counts[i][j], rev))
    flows.sort(key=lambda f: (-f[2], f[0], f[1]))
    return flows[:k]


def _revenue_items(snap: ReviewSnapshot) -> list[Item]:
    items: list[Item] = []
    cur = snap.currency
    mis = misdirected_revenue(snap)
    if mis is not None:
        items.append(
            Item(
                f"About {fmt_money(mis[0], cur)} of revenue ({mis[1]:.1f} %) sits with customers "
                "placed in the wrong segment (revenue × (1 − precision)).",
                "warning" if mis[1] > 100 - snap.target_pct else "info",
            )
        )
    moves = [
        (s, (s.revenue or 0.0) - (s.revenue_previous or 0.0))
        for s in snap.segments
        if s.revenue is not None and s.revenue_previous is not None
    ]
    moves.sort(key=lambda t: -abs(t[1]))
    for s, delta in moves[:2]:
        prec = f"; precision {fmt_pct(s.precision.value_pct)}" if s.precision else ""
        sign = "+" if delta >= 0 else "−"
        items.append(
            Item(
                f"{q(s.name)} revenue {sign}{fmt_money(abs(delta), cur)} against the previous "
                f"period{prec}."
            )
        )
    ret = [s for s in snap.segments if s.retention_pct is not None]
    if ret:
        low = min(ret, key=lambda s: s.retention_pct or 0.0)
        prec = f" and precision {fmt_pct(low.precision.value_pct)}" if low.precision else ""
        items.append(
            Item(f"Lowest retention: {q(low.name)} at {fmt_pct(low.retention_pct or 0.0)}{prec}.")
        )
    return items


def change_impact(snap: ReviewSnapshot) -> Attribute:
    """Relate the KPI's movement to per-segment revenue, retention and migration."""
    items: list[Item] = []
    ch = snap.change
    if ch is not None:
        word = "significant" if ch.significant else "not significant"
        items.append(
            Item(
                f"KPI {fmt_points(ch.delta_points)} since {ch.previous_period} "
                f"({fmt_p(ch.p_value)}, {word}).",
                "warning" if ch.significant_drop else "info",
            )
        )
    items.extend(_revenue_items(snap))
    m = snap.migration
    if m is not None and m.total:
        items.append(
            Item(
                f"{m.moved:,} of {m.total:,} customers ({100 * m.moved / m.total:.1f} %) changed "
                f"segment between {m.from_period} and {m.to_period}."
            )
        )
        for a, b, n, rev in top_flows(m):
            money = f", revenue {fmt_money(rev, snap.currency)}" if rev is not None else ""
            items.append(Item(f"{q(a)} → {q(b)}: {n:,} customers{money}."))
    if ch is not None and m is not None and m.total:
        summary = (
            f"The KPI moved {fmt_points(ch.delta_points)} while "
            f"{100 * m.moved / m.total:.1f} % of customers changed segment."
        )
    elif ch is not None:
        summary = f"The KPI moved {fmt_points(ch.delta_points)} since {ch.previous_period}."
    elif not snap.measured:
        summary = f"The KPI is not measured for {snap.period} (n = 0): " + (
            "revenue and migration are shown without a KPI movement."
            if items
            else "no movement to relate to revenue or migration."
        )
    elif items:
        summary = "First period: impact shown as revenue at stake, no movement yet."
    else:
        summary = "No previous period, revenue or migration data to relate the KPI to."
    return Attribute("change_impact", "Change impact", summary, tuple(items))
