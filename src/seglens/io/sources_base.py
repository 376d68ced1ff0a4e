"""The raw-source record every reader returns, before column mapping and parsing."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Final

import polars as pl

from seglens.errors import DataError

__all__ = ["ROW", "SHEET", "RawSource"]

ROW: Final = "__seglens_row"
"""0-based position of a row in its source (within its sheet for Excel)."""
SHEET: Final = "__seglens_sheet"
"""Sheet name, for Excel sources read with all sheets."""


@dataclass
class RawSource:
    """A source opened lazily: its columns as written plus :data:`ROW` (and :data:`SHEET`).

    ``first_line`` is the 1-based line (or row) number of row 0, so ``line = ROW + first_line``.
    ``text`` says whether every source column is a string (delimited text) or typed.
    """

    frame: pl.LazyFrame
    name: str
    format: str
    first_line: int
    text: bool
    details: dict[str, object] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    locate_bad_structure: Callable[[], DataError] | None = None
    lossy_frame: Callable[[], pl.LazyFrame] | None = None
    """For text read as strict UTF-8: the same scan replacing invalid bytes with U+FFFD."""
    row_is_position: bool = True
    """Whether :data:`ROW` is the row's position in the frame (every reader but Excel, whose
    rows are numbered per sheet): the loader then derives line numbers from positions instead
    of carrying a line column through the whole load."""

    @property
    def columns(self) -> list[str]:
        """Source column names (without the helper columns)."""
        return [c for c in self.frame.collect_schema().names() if c not in (ROW, SHEET)]
