"""Whitespace-separated logs (the classic BTYD / CDNOW layout ``00001 19970101 1 11.77``):
fields separated by runs of spaces or tabs, with or without a header line.

A file without a header gets its columns named from their values when they show the classic
shape (an id first, a date, optionally whole-number quantities, a number last): ``customer_id``,
``date``, ``quantity``, ``amount``; other columns are ``column_<n>``. The report says so.
"""

from __future__ import annotations

import csv
import io
import re
from typing import Final

import polars as pl

from seglens.errors import DataError
from seglens.io.sources_base import ROW, RawSource

__all__ = ["WHITESPACE", "read_whitespace"]

WHITESPACE: Final = "whitespace"
"""The delimiter of logs whose fields are separated by runs of spaces or tabs."""

_EDGES: Final = re.compile(rb"(?m)^[ \t]+|[ \t]+$")
_RUNS: Final = re.compile(rb"[ \t]+")
_DATA_FIELD: Final = re.compile(r"[-+]?[\d.,:/-]+")
_DATE: Final = re.compile(
    r"(?:19|20)\d\d(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])|\d{4}-\d\d-\d\d|\d{1,2}[./]\d{1,2}[./]\d{2,4}"
)
_INTEGER: Final = re.compile(r"[-+]?\d+")
_NUMBER: Final = re.compile(r"[-+]?(?:\d+(?:[.,]\d*)?|[.,]\d+)")


def _looks_like_data(fields: list[str]) -> bool:
    """Whether a first line is data, not a header: it holds a date, or half its fields are
    numbers (``C001 19970101 1 11.77`` is data although its id is text).

    >>> _looks_like_data(["C001", "19970101", "1", "11.77"]), _looks_like_data(["id", "date"])
    (True, False)
    """
    if any(_DATE.fullmatch(f) for f in fields):
        return True
    return 2 * sum(bool(_DATA_FIELD.fullmatch(f)) for f in fields) >= len(fields)


def _kind(values: list[str]) -> str:
    """``date``, ``integer``, ``number`` or ``text``: what nine in ten values of a column read
    as (a typo in a few lines is then reported by the loader with its line, not hidden here)."""
    for kind, pattern in (("date", _DATE), ("integer", _INTEGER), ("number", _NUMBER)):
        if values and sum(bool(pattern.fullmatch(v)) for v in values) >= 0.9 * len(values):
            return kind
    return "text"


def names_by_content(rows: list[list[str]], width: int) -> tuple[list[str], bool]:
    """Column names for a file without a header, and whether the classic shape was recognised.

    >>> names_by_content([["00001", "19970101", "1", "11.77"], ["00002", "19970112", "2", "9"]], 4)
    (['customer_id', 'date', 'quantity', 'amount'], True)
    >>> names_by_content([["a", "b"]], 2)
    (['column_1', 'column_2'], False)
    """
    names = [f"column_{i + 1}" for i in range(width)]
    kinds = [_kind([r[i] for r in rows if i < len(r)]) for i in range(width)]
    dates = [i for i, k in enumerate(kinds) if k == "date"]
    last = width - 1
    if not dates or dates[0] == 0 or dates[0] >= last or kinds[last] not in ("integer", "number"):
        return names, False
    when = dates[0]
    names[0], names[when], names[last] = "customer_id", "date", "amount"
    between = [i for i in range(when + 1, last) if kinds[i] == "integer"]
    if len(between) == 1:
        names[between[0]] = "quantity"
    return names, True


def _header_note(names: list[str], recognised: bool) -> str:
    if not recognised:
        return (
            f"the file has no header line; its {len(names)} columns are named column_1 to "
            f"column_{len(names)}: map them with --columns customer_id=column_1,..."
        )
    named = ", ".join(f"column {i + 1} = {n}" for i, n in enumerate(names))
    return (
        f"the file has no header line; its columns were named from their values ({named}); "
        "map them with --columns (e.g. amount=column_5) if that is wrong"
    )


def read_whitespace(
    data: bytes, *, name: str, details: dict[str, object], warnings: list[str]
) -> RawSource:
    """Read UTF-8 ``data`` whose fields are separated by runs of spaces or tabs."""
    data = _RUNS.sub(b"\t", _EDGES.sub(b"", data.replace(b"\r\n", b"\n")))
    head = data[: 256 * 1024].decode("utf-8", errors="replace").splitlines()[:200]
    sample = [ln.split("\t") for ln in head if ln]
    header = bool(sample) and not _looks_like_data(sample[0])
    frame = pl.read_csv(
        io.BytesIO(data),
        separator="\t",
        has_header=header,
        infer_schema=False,
        quote_char=None,
        row_index_name=ROW,
        raise_if_empty=False,
        encoding="utf8-lossy",
    )
    details["delimiter"] = WHITESPACE
    details["header"] = header
    if not header:
        width = frame.width - 1
        names, recognised = names_by_content(sample, width)
        data_columns = [c for c in frame.columns if c != ROW]
        frame = frame.rename(dict(zip(data_columns, names, strict=True)))
        warnings.append(_header_note(names, recognised))
    return RawSource(
        frame=frame.lazy(),
        name=name,
        format="csv",
        first_line=2 if header else 1,
        text=True,
        details=details,
        warnings=warnings,
        locate_bad_structure=lambda: _locate_ragged(data, name),
    )


def _locate_ragged(data: bytes, name: str) -> DataError:
    """The first lines whose field count differs from the first line's."""
    reader = csv.reader(
        io.StringIO(data.decode("utf-8", errors="replace")), delimiter="\t", quoting=csv.QUOTE_NONE
    )
    first = next(reader, [])
    bad: list[int] = []
    values: list[str] = []
    for row in reader:
        if row and len(row) != len(first):
            bad.append(reader.line_num)
            values.append(" ".join(row)[:80])
            if len(bad) >= 5:
                break
    return DataError(
        f"some lines do not have the first line's {len(first)} fields (fields separated by spaces)",
        source=name,
        lines=tuple(bad),
        values=tuple(values),
        hint="give every line the same fields, or fill an empty field with a placeholder "
        "such as NA (an empty field cannot be seen between spaces)",
    )
