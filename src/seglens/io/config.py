"""Ingestion options, from keyword arguments and an optional TOML file.

A config file has a ``[columns]`` table (canonical = source) and an ``[ingest]`` table with any
of the options of :class:`IngestOptions`::

    [columns]
    customer_id = "CustID"
    timestamp = "OrderDate"

    [ingest]
    as_of = "2011-12-10"
    non_product_codes = ["POST", "DOT", "M"]
    drop_zero_price = true
"""

from __future__ import annotations

import datetime as dt
import os
import tomllib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any, Final

import polars as pl

from seglens.errors import UsageError
from seglens.io.encodings import check_encoding
from seglens.io.numbers import check_decimal
from seglens.io.parsing import check_date_format
from seglens.io.sources_base import RawSource

__all__ = [
    "DEFAULT_NON_PRODUCT_CODES",
    "IngestOptions",
    "check_applicable",
    "parse_as_of",
    "read_config",
]

DEFAULT_NON_PRODUCT_CODES: Final = (
    "POST",
    "DOT",
    "C2",
    "M",
    "D",
    "S",
    "B",
    "BANK CHARGES",
    "AMAZONFEE",
    "CRUK",
    "ADJUST",
    "ADJUST2",
    "TEST001",
    "TEST002",
)
"""Stock codes that are not products: postage (POST, DOT), carriage (C2), manual entries (M),
discounts (D), samples (S), bad-debt adjustments (B), fees and commissions (BANK CHARGES,
AMAZONFEE, CRUK) and test/adjustment codes. Matched case-insensitively; ``*`` at the end of a
code matches any suffix (e.g. ``gift_0001_*``)."""


def parse_as_of(value: str | dt.date | dt.datetime | None) -> dt.datetime | None:
    """An as-of date or datetime; a bare date means the end of that day.

    >>> parse_as_of("2011-12-09")
    datetime.datetime(2011, 12, 9, 23, 59, 59, 999999)
    """
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return (
            value.replace(tzinfo=None)
            if value.tzinfo is None
            else (value.astimezone(dt.UTC).replace(tzinfo=None))
        )
    if isinstance(value, dt.date):
        return dt.datetime.combine(value, dt.time.max)
    text = str(value).strip()
    try:
        if len(text) == 8 and text.isdigit():
            return dt.datetime.combine(dt.datetime.strptime(text, "%Y%m%d").date(), dt.time.max)
        if len(text) == 10:
            return dt.datetime.combine(dt.date.fromisoformat(text), dt.time.max)
        return parse_as_of(dt.datetime.fromisoformat(text))
    except ValueError:
        raise UsageError(
            f"cannot read the as-of date {text!r}",
            hint="write it as YYYY-MM-DD (end of that day) or YYYY-MM-DDTHH:MM:SS",
        ) from None


@dataclass(frozen=True)
class IngestOptions:
    """Every option of the loader; see ``docs/ingestion.md`` for what each does."""

    as_of: dt.datetime | None = None
    non_product_codes: tuple[str, ...] = DEFAULT_NON_PRODUCT_CODES
    drop_duplicates: bool | None = None
    """Exclude exact duplicate lines: ``None`` (default) decides from the source
    (:func:`seglens.io.duplicates.judge_duplicates`), ``True``/``False`` always/never."""
    drop_zero_price: bool = False
    """Exclude zero-value lines; by default they are kept (and counted in the report): a
    zero-value order is still a purchase occasion, as lifetimes counts it."""
    drop_non_product: bool = True
    return_prefix: str | None = "auto"
    date_format: str | None = None
    decimal: str | None = None
    delimiter: str | None = None
    encoding: str | None = None
    sheet: str | None = None
    table: str | None = None
    query: str | None = None
    max_bad_fraction: float = 0.01

    def merged(self, values: Mapping[str, Any], origin: str) -> IngestOptions:
        """A copy with ``values`` applied (validated; ``origin`` names them in errors)."""
        known = {f.name for f in fields(self)}
        changes: dict[str, Any] = {}
        for key, value in values.items():
            if value is None:
                continue
            if key not in known:
                raise UsageError(
                    f"unknown ingest option {key!r} in {origin}",
                    hint=f"known options: {', '.join(sorted(known))}",
                )
            if key == "as_of":
                value = parse_as_of(value)
            elif key == "non_product_codes":
                value = _codes(value, origin)
            elif key in {"drop_duplicates", "drop_zero_price", "drop_non_product"}:
                if not isinstance(value, bool):
                    raise UsageError(f"{key} in {origin} must be true or false")
            elif key == "max_bad_fraction":
                if not isinstance(value, int | float) or not 0 <= float(value) <= 1:
                    raise UsageError(f"{key} in {origin} must be a number between 0 and 1")
                value = float(value)
            elif key == "sheet" and isinstance(value, int):
                value = str(value)
            elif not isinstance(value, str):
                raise UsageError(f"{key} in {origin} must be text, got {value!r}")
            elif key in _CHECKS:
                value = _CHECKS[key](value)
            changes[key] = value
        return replace(self, **changes)


_CHECKS: Final[Mapping[str, Callable[[str], str]]] = {
    "encoding": check_encoding,
    "date_format": check_date_format,
    "decimal": check_decimal,
}


def _codes(value: object, origin: str) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [v for v in value.split(",") if v.strip()]
    if not isinstance(value, Sequence) or not all(isinstance(v, str) for v in value):
        raise UsageError(f"non_product_codes in {origin} must be a list of codes")
    return tuple(v.strip() for v in value)


def read_toml(path: Path, *, docs: str) -> dict[str, Any]:
    """A TOML config file's contents; a missing or invalid file is a :class:`UsageError`
    pointing at ``docs`` (the page that describes the tables the caller reads)."""
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UsageError("no such config file", source=str(path), hint="check the path") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as err:
        raise UsageError(
            f"the config file is not valid TOML ({err})", source=str(path), hint=f"see {docs}"
        ) from None


def read_config(path: str | os.PathLike[str]) -> tuple[dict[str, str], dict[str, Any]]:
    """Read a TOML config: (column mapping, ingest options)."""
    p = Path(path)
    data = read_toml(p, docs="docs/ingestion.md for the format")
    unknown = set(data) - {"columns", "ingest", "spark"}  # [spark]: seglens.spark.connect
    if unknown:
        raise UsageError(
            f"unknown section(s) {sorted(unknown)} in the config file",
            source=str(p),
            hint="use [columns], [ingest] and [spark]",
        )
    columns = data.get("columns", {})
    if not isinstance(columns, dict) or not all(isinstance(v, str) for v in columns.values()):
        raise UsageError(
            "[columns] must map canonical names to source column names (text)", source=str(p)
        )
    ingest = data.get("ingest", {})
    if not isinstance(ingest, dict):
        raise UsageError("[ingest] must be a table of options", source=str(p))
    return dict(columns), dict(ingest)


_NUMBER_FIELDS: Final = ("amount", "quantity", "unit_price")


def check_applicable(opts: IngestOptions, raw: RawSource, sources: Mapping[str, str]) -> None:
    """Refuse a reading option that cannot apply to this source, instead of ignoring it.

    ``delimiter`` and ``encoding`` apply to text files only; ``decimal`` to numbers written as
    text and ``date_format`` to dates written as text (a canonical Parquet table has neither).
    ``sources`` maps canonical fields to the source columns they are read from.
    """
    if raw.format != "csv":
        for key in ("delimiter", "encoding"):
            if getattr(opts, key) is not None:
                raise UsageError(
                    f"{key} (--{key}) applies to delimited text files, not to this "
                    f"{raw.format} source",
                    source=raw.name,
                    hint=f"drop --{key}: this source is read with its own structure",
                )
    schema = raw.frame.collect_schema()
    if opts.decimal is not None:
        numbers = [sources[f] for f in _NUMBER_FIELDS if f in sources]
        if numbers and not any(schema.get(c) == pl.String for c in numbers):
            typed = ", ".join(f"{c!r} ({schema.get(c)})" for c in numbers)
            raise UsageError(
                f"decimal (--decimal) applies to numbers written as text; {typed} already "
                "hold numbers",
                source=raw.name,
                column=numbers[0],
                hint="drop --decimal",
            )
    stamp = sources.get("timestamp")
    if opts.date_format is not None and stamp is not None and schema.get(stamp) != pl.String:
        raise UsageError(
            f"date_format (--date-format) applies to dates written as text; {stamp!r} already "
            f"holds {schema.get(stamp)} values",
            source=raw.name,
            column=stamp,
            hint="drop --date-format",
        )
