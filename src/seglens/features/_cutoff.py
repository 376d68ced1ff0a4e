"""The ``as_of`` cut-off: which lines count, and the integer day number features are counted in."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from seglens.errors import UsageError

__all__ = ["Cutoff", "day_number", "resolve_cutoff"]

AsOf = dt.date | dt.datetime | str | None


def day_number(value: dt.date) -> int:
    """Integer day key of a date: days since 0001-01-01 (``date.toordinal() - 1``)."""
    return value.toordinal() - 1


@dataclass(frozen=True)
class Cutoff:
    """A resolved cut-off.

    ``end`` is the exclusive upper bound on ``timestamp`` (lines with ``timestamp < end`` count),
    ``as_of`` the inclusive moment shown to users, ``day`` the day number of ``as_of``'s date
    and ``month`` its month key (``year * 12 + month``).
    """

    as_of: dt.datetime
    end: dt.datetime
    day: int
    month: int

    @property
    def date(self) -> dt.date:
        """The calendar day of the cut-off."""
        return self.as_of.date()


def _parse(value: str) -> dt.date | dt.datetime:
    text = value.strip()
    try:
        if len(text) <= 10:
            return dt.date.fromisoformat(text)
        return dt.datetime.fromisoformat(text)
    except ValueError:
        raise UsageError(
            f"as_of {value!r} is not a date or date-time",
            hint="write it as YYYY-MM-DD or YYYY-MM-DDTHH:MM[:SS]",
        ) from None


def resolve_cutoff(as_of: AsOf, latest: dt.datetime | None) -> Cutoff:
    """Resolve ``as_of`` (or, when None, the latest transaction) to a :class:`Cutoff`.

    A date (or ``YYYY-MM-DD`` string) includes the whole day; a date-time includes lines up to
    and including that moment. A time-zone-aware date-time is converted to UTC and made naive,
    as transaction timestamps are.

    Examples
    --------
    >>> c = resolve_cutoff("2011-12-09", None)
    >>> c.end, c.day == day_number(dt.date(2011, 12, 9))
    (datetime.datetime(2011, 12, 10, 0, 0), True)
    """
    if isinstance(as_of, str):
        as_of = _parse(as_of)
    if as_of is None:
        if latest is None:
            raise UsageError("there are no transactions to take as_of from", hint="pass as_of")
        as_of = latest.date()
    if isinstance(as_of, dt.datetime):
        if as_of.tzinfo is not None:
            as_of = as_of.astimezone(dt.UTC).replace(tzinfo=None)
        end = as_of + dt.timedelta(microseconds=1)
        moment = as_of
    else:
        moment = dt.datetime.combine(as_of, dt.time(23, 59, 59, 999999))
        end = dt.datetime.combine(as_of + dt.timedelta(days=1), dt.time())
    return Cutoff(
        as_of=moment,
        end=end,
        day=day_number(moment.date()),
        month=moment.year * 12 + moment.month,
    )
