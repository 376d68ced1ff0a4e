"""User-facing errors.

Every problem a user can fix (a bad file, a missing column, an unknown option) is raised as a
:class:`SeglensError`. Its message names *where* (file, line, column), *what* (the bad value) and
*what to do*. The CLI prints these messages without a traceback; library callers can catch the
class and read the structured fields.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

__all__ = ["DataError", "SeglensError", "UsageError"]


@dataclass
class SeglensError(Exception):
    """A problem the user can fix; ``str(err)`` is a complete, readable explanation.

    Parameters
    ----------
    message
        What went wrong, in one sentence.
    source
        The file (or table, or query) the problem was found in, if any.
    column
        The column concerned, if any.
    lines
        1-based line numbers in ``source`` of the first offending rows (header is line 1).
    values
        The offending values, aligned with ``lines`` where both are given.
    hint
        What to do about it.
    """

    message: str
    source: str | None = None
    column: str | None = None
    lines: Sequence[int] = field(default_factory=tuple)
    values: Sequence[object] = field(default_factory=tuple)
    hint: str | None = None

    def __post_init__(self) -> None:
        super().__init__(self.message)

    def __str__(self) -> str:
        parts = []
        where = []
        if self.source:
            where.append(f"file {self.source}")
        if self.column:
            where.append(f"column {self.column!r}")
        head = f"{', '.join(where)}: " if where else ""
        parts.append(f"{head}{self.message}")
        if self.lines:
            shown = list(self.lines)[:10]
            if self.values:
                pairs = ", ".join(
                    f"line {ln}: {val!r}" for ln, val in zip(shown, self.values, strict=False)
                )
            else:
                pairs = ", ".join(f"line {ln}" for ln in shown)
            more = f" (and {len(self.lines) - len(shown)} more)" if len(self.lines) > 10 else ""
            parts.append(f"first offending rows: {pairs}{more}")
        if self.hint:
            parts.append(f"what to do: {self.hint}")
        return "\n".join(parts)


class DataError(SeglensError):
    """The input data cannot be used as given (missing column, unparseable values, bad file)."""


class UsageError(SeglensError):
    """An option or argument is invalid (unknown engine, malformed ``--columns`` pair, ...)."""
