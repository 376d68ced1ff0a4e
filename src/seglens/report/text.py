"""Formatting helpers and the attribute types (plain text; escaping is the template's job)."""

from __future__ import annotations

from dataclasses import dataclass

from seglens.report.snapshot import Estimate, Severity

__all__ = [
    "Attribute",
    "Item",
    "fmt_ci",
    "fmt_est",
    "fmt_money",
    "fmt_p",
    "fmt_pct",
    "fmt_points",
    "plural",
    "q",
]


def fmt_pct(value: float, digits: int = 1) -> str:
    """``85.25 -> '85.3 %'``."""
    return f"{value:.{digits}f} %"


def fmt_points(delta: float) -> str:
    """Signed change in percentage points: ``-3.14 -> '−3.1 points'``."""
    sign = "+" if delta > 0 else "−" if delta < 0 else "±"
    return f"{sign}{abs(delta):.1f} points"


def fmt_ci(est: Estimate) -> str:
    """``'[82.6, 94.5]'`` (percent)."""
    return f"[{est.ci_low_pct:.1f}, {est.ci_high_pct:.1f}]"


def fmt_est(est: Estimate) -> str:
    """``'90.0 % (95 % CI [82.6, 94.5], n = 100)'``."""
    level = round(100 * est.confidence)
    return f"{fmt_pct(est.value_pct)} ({level} % CI {fmt_ci(est)}, n = {est.n:,})"


def fmt_p(p: float) -> str:
    """A p-value for prose: ``'p = 0.023'`` or ``'p < 0.001'``."""
    return "p < 0.001" if p < 0.001 else f"p = {p:.3f}"


def fmt_money(value: float, currency: str = "") -> str:
    """``1234567.8 -> '1,234,568'`` with an optional currency prefix."""
    prefix = f"{currency} " if currency else ""
    return f"{prefix}{value:,.0f}"


def q(name: object) -> str:
    """A user-provided name in typographic quotes: ``q('VIP') -> '“VIP”'``."""
    return f"“{name}”"


def plural(n: int, word: str, many: str | None = None) -> str:
    """``plural(1, 'segment') -> '1 segment'``, ``plural(2, 'segment') -> '2 segments'``."""
    return f"{n:,} {word if n == 1 else (many or word + 's')}"


@dataclass(frozen=True)
class Item:
    """One line of an attribute, with a severity for styling (``info`` for plain facts)."""

    text: str
    severity: Severity = "info"


@dataclass(frozen=True)
class Attribute:
    """A KPI attribute: its key, title, a one-sentence summary and the supporting items."""

    key: str
    title: str
    summary: str
    items: tuple[Item, ...]
