"""How the web pages print numbers, percentages, dates, ages and p-values (Jinja filters).

One module for every template, so no page prints ``584.9100000000001``, ``None``,
``p = 0.000`` or a timestamp with microseconds and no zone. The store keeps naive UTC
datetimes; they are shown as UTC with the zone named. :func:`install` registers the filters
on the app's Jinja environment. The p-value and change wording are the report's
(:mod:`seglens.report.text`), so the CLI, the report and the pages say the same.
"""

from __future__ import annotations

import math
from datetime import UTC, date, datetime
from typing import Any

from jinja2 import Environment

from seglens.report.text import fmt_p, fmt_points

__all__ = [
    "MISSING",
    "age",
    "ci",
    "install",
    "money",
    "num",
    "p_text",
    "pct",
    "points",
    "when",
    "when_date",
]

MISSING = "–"
"""What a missing value prints as (never ``None`` or ``nan``)."""


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and not math.isfinite(value))


def num(value: Any, places: int | None = None) -> str:
    """A number with thousands separators: ``1234 -> '1,234'``, ``584.9100000000001 -> '584.91'``.

    ``places=None`` prints whole numbers without decimals and others with at most two
    (trailing zeros dropped); an explicit ``places`` always prints that many.

    Examples
    --------
    >>> num(584.9100000000001), num(3.0), num(1234567), num(None), num(2.5, 2)
    ('584.91', '3', '1,234,567', '–', '2.50')
    """
    if _missing(value):
        return MISSING
    x = float(value)
    if places is not None:
        return f"{x:,.{places}f}"
    if x == round(x) and abs(x) < 1e15:
        return f"{x:,.0f}"
    text = f"{x:,.2f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def money(value: Any) -> str:
    """An amount with two decimals and separators: ``584.9100000000001 -> '584.91'``."""
    return MISSING if _missing(value) else f"{float(value):,.2f}"


def pct(value: Any, places: int = 1, *, ratio: bool = False) -> str:
    """A percentage, ``84.6 %`` (space before ``%``); ``ratio=True`` takes a share in [0, 1].

    Examples
    --------
    >>> pct(84.567), pct(0.25, ratio=True), pct(None), pct(100, 0)
    ('84.6 %', '25.0 %', '–', '100 %')
    """
    if _missing(value):
        return MISSING
    x = float(value) * (100.0 if ratio else 1.0)
    return f"{x:.{places}f} %"


def ci(low: Any, high: Any, places: int = 1) -> str:
    """An interval ``'80.1–90.2'`` (``–`` when either end is missing)."""
    if _missing(low) or _missing(high):
        return MISSING
    return f"{float(low):.{places}f}–{float(high):.{places}f}"


def points(delta: Any) -> str:
    """A signed change in percentage points: ``-3.14 -> '−3.1 points'``."""
    return MISSING if _missing(delta) else fmt_points(float(delta))


def p_text(p: Any) -> str:
    """A p-value: ``'p = 0.023'``, ``'p < 0.001'`` (never ``p = 0.000``), ``''`` when missing."""
    return "" if _missing(p) else fmt_p(float(p))


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def when(value: Any) -> str:
    """A timestamp to the minute with its zone: ``'2026-12-05 16:40 UTC'`` (store times are UTC).

    Examples
    --------
    >>> when(datetime(2026, 12, 5, 16, 40, 12, 123456)), when(None)
    ('2026-12-05 16:40 UTC', '–')
    """
    if _missing(value):
        return MISSING
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if not isinstance(value, datetime):
        return when_date(value)
    return _utc(value).strftime("%Y-%m-%d %H:%M UTC")


def when_date(value: Any) -> str:
    """A calendar date ``'2011-09-30'`` (a datetime loses its time)."""
    if _missing(value):
        return MISSING
    if isinstance(value, datetime):
        value = value.date()
    return value.isoformat() if isinstance(value, date) else str(value)


def age(value: Any, now: datetime | None = None) -> str:
    """How long ago: ``'just now'``, ``'5 min ago'``, ``'3 h ago'``, ``'12 days ago'``.

    Examples
    --------
    >>> t = datetime(2026, 12, 5, 12, 0)
    >>> age(datetime(2026, 12, 5, 11, 59, 40), t), age(datetime(2026, 11, 5, 12), t)
    ('just now', '30 days ago')
    """
    if _missing(value):
        return MISSING
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    ref = _utc(now) if now is not None else datetime.now(UTC)
    seconds = max(0.0, (ref - _utc(value)).total_seconds())
    if seconds < 60:
        return "just now"
    if seconds < 3600:
        return f"{int(seconds // 60)} min ago"
    if seconds < 86400:
        return f"{int(seconds // 3600)} h ago"
    days = int(seconds // 86400)
    if days < 730:
        return f"{days} day{'s' if days != 1 else ''} ago"
    return f"{days // 365} years ago"


def install(env: Environment) -> None:
    """Register the filters (``num money pct ci points p_text when when_date age``) on ``env``."""
    env.filters.update(
        num=num,
        money=money,
        pct=pct,
        ci=ci,
        points=points,
        p_text=p_text,
        when=when,
        when_date=when_date,
        age=age,
    )
    env.globals.update(ci=ci, p_text=p_text)
