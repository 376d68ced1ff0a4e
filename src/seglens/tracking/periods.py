"""Reporting periods: calendar quarters by default, months optionally."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Literal

from seglens.errors import UsageError

__all__ = ["Period", "PeriodKind", "period_of"]

PeriodKind = Literal["quarter", "month"]


@dataclass(frozen=True, order=True)
class Period:
    """A calendar period: ``label`` (``2011Q2`` or ``2011-06``), first and last day."""

    start: date
    end: date
    label: str
    kind: PeriodKind

    def previous(self) -> Period:
        """The period just before this one.

        Examples
        --------
        >>> period_of(date(2011, 1, 15)).previous().label
        '2010Q4'
        """
        return period_of(self.start - timedelta(days=1), self.kind)


def period_of(day: date | datetime, kind: str = "quarter") -> Period:
    """The period containing ``day``.

    Examples
    --------
    >>> p = period_of(date(2011, 6, 30))
    >>> p.label, p.start, p.end
    ('2011Q2', datetime.date(2011, 4, 1), datetime.date(2011, 6, 30))
    >>> period_of(date(2011, 2, 3), "month").label
    '2011-02'
    """
    d = day.date() if isinstance(day, datetime) else day
    if kind == "quarter":
        q = (d.month - 1) // 3
        start = date(d.year, 3 * q + 1, 1)
        nxt = date(d.year + (q == 3), (3 * q + 3) % 12 + 1, 1)
        return Period(start, nxt - timedelta(days=1), f"{d.year}Q{q + 1}", "quarter")
    if kind == "month":
        start = date(d.year, d.month, 1)
        nxt = date(d.year + (d.month == 12), d.month % 12 + 1, 1)
        return Period(start, nxt - timedelta(days=1), f"{d.year}-{d.month:02d}", "month")
    raise UsageError(f"unknown period kind {kind!r}", hint="use quarter or month")
