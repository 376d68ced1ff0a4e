"""Parsing source values into canonical types: ids, numbers, dates and flags.

Each ``*_expr`` function returns a Polars expression for the whole column (fast path, run
lazily); values the fast path cannot read become null and are counted as unparseable by the
cleaning rules. Formats are decided once from a sample of the column.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

import polars as pl

from seglens.errors import UsageError

__all__ = [
    "DATE_FORMATS",
    "MISSING_TOKENS",
    "TWO_DIGIT_YEARS",
    "DateFormat",
    "bool_expr",
    "check_date_format",
    "detect_date_format",
    "finite",
    "id_decimal_mode",
    "id_expr",
    "needs_careful_numbers",
    "number_expr",
    "number_fallback",
    "parse_dates_fallback",
    "retry_numbers",
    "retry_timestamps",
    "swap_day_month",
    "text_expr",
    "text_steps",
    "timestamp_expr",
]

MISSING_TOKENS: Final = (
    "",
    "nan",
    "NaN",
    "NAN",
    "null",
    "NULL",
    "Null",
    "None",
    "none",
    "NONE",
    "NA",
    "N/A",
    "n/a",
    "#N/A",
    "-",
)
"""Text values read as missing in id and text columns."""

DATE_FORMATS: Final = (
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d %H:%M:%S%.f",
    "%Y-%m-%dT%H:%M:%S",
    "%Y-%m-%dT%H:%M:%S%.f",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%dT%H:%M",
    "%Y-%m-%d",
    "%Y-%m-%dT%H:%M:%S%z",
    "%Y-%m-%dT%H:%M:%S%.f%z",
    "%Y-%m-%d %H:%M:%S%z",
    "%Y-%m-%dT%H:%M:%SZ",
    "%Y-%m-%dT%H:%M:%S%.fZ",
    "%Y%m%d",
    "%Y%m%d%H%M%S",
    "%Y%m%d %H:%M:%S",
    "%Y/%m/%d",
    "%Y/%m/%d %H:%M",
    "%Y/%m/%d %H:%M:%S",
    "%d/%m/%Y",
    "%d/%m/%Y %H:%M",
    "%d/%m/%Y %H:%M:%S",
    "%m/%d/%Y",
    "%m/%d/%Y %H:%M",
    "%m/%d/%Y %H:%M:%S",
    "%m/%d/%Y %I:%M %p",
    "%m/%d/%Y %I:%M:%S %p",
    "%d.%m.%Y",
    "%d.%m.%Y %H:%M",
    "%d.%m.%Y %H:%M:%S",
    "%d-%m-%Y",
    "%d-%m-%Y %H:%M",
    "%d-%m-%Y %H:%M:%S",
    "%d %b %Y",
    "%d-%b-%Y",
    "%d %B %Y",
    "%b %d %Y",
    "%b %d, %Y",
    "%B %d, %Y",
    # two-digit years (see TWO_DIGIT_YEARS); a four-digit year never reads as one of these
    "%d/%m/%y",
    "%d/%m/%y %H:%M",
    "%d/%m/%y %H:%M:%S",
    "%m/%d/%y",
    "%m/%d/%y %H:%M",
    "%m/%d/%y %H:%M:%S",
    "%m/%d/%y %I:%M %p",
    "%d.%m.%y",
    "%d.%m.%y %H:%M",
    "%d-%m-%y",
    "%d-%b-%y",
    "%d %b %y",
)
"""Formats tried, in order of preference, when the format is not given. A ``%Y`` format reads
only four-digit years (``05/01/24`` is not the year 24)."""

TWO_DIGIT_YEARS: Final = "00-69 -> 2000-2069, 70-99 -> 1970-1999"
"""How a two-digit year (``%y``) is read: the pivot of Polars (chrono) and of C's strptime
(Python's own ``%y`` differs only for 69, which it reads as 1969)."""

_DIRECTIVES: Final = frozenset("YymdebBhHIMSfpzZjaA%FTDR")
_COMPOSITE: Final = {"F": "Ymd", "D": "mdy", "T": "HMS", "R": "HM"}
_MIN_YEAR_DIGITS4: Final = 1000

_DT: Final = pl.Datetime("us")


@dataclass(frozen=True)
class DateFormat:
    """The format chosen for a date column, and how sure we are."""

    format: str
    share: float
    ambiguous_with: str | None = None


def _strptime(expr: pl.Expr, fmt: str) -> pl.Expr:
    if "%z" in fmt:
        return (
            expr.str.strptime(pl.Datetime("us", "UTC"), fmt, strict=False)
            .dt.convert_time_zone("UTC")
            .dt.replace_time_zone(None)
        )
    if fmt.endswith("Z"):
        return expr.str.strptime(_DT, fmt[:-1], strict=False)
    return expr.str.strptime(_DT, fmt, strict=False)


def _prepare_text(expr: pl.Expr, fmt: str) -> pl.Expr:
    text = expr.str.strip_chars()
    return text.str.strip_suffix("Z") if fmt.endswith("Z") else text


def _parse(expr: pl.Expr, fmt: str) -> pl.Expr:
    """Stripped text parsed with ``fmt``; a ``%Y`` format only with a four-digit year."""
    parsed = _strptime(_prepare_text(expr, fmt), fmt)
    if "%Y" in fmt:
        return pl.when(parsed.dt.year() >= _MIN_YEAR_DIGITS4).then(parsed)
    return parsed


def check_date_format(fmt: str) -> str:
    """``fmt`` if it is a usable strftime format for dates, else a clear :class:`UsageError`.

    >>> check_date_format("%d/%m/%Y %H:%M")
    '%d/%m/%Y %H:%M'
    """
    example = "write it with strftime codes, e.g. %d/%m/%Y, %m/%d/%y or %Y-%m-%d %H:%M"
    codes = re.findall(r"%[-:.]?(.)", fmt)
    codes += [c for code in codes for c in _COMPOSITE.get(code, "")]
    if not codes:
        raise UsageError(f"the date format {fmt!r} has no strftime codes (%...)", hint=example)
    unknown = sorted({c for c in codes if c not in _DIRECTIVES})
    if unknown or (fmt.rstrip().endswith("%") and not fmt.endswith("%%")):
        bad = ", ".join(f"%{c}" for c in unknown) or "a lone % at the end"
        raise UsageError(f"the date format {fmt!r} has unknown code(s) {bad}", hint=example)
    missing = [
        name
        for name, options in (("year", "Yy"), ("month", "mbBh"), ("day", "de"))
        if not any(c in options for c in codes) and not (name != "year" and "j" in codes)
    ]
    if missing:
        raise UsageError(
            f"the date format {fmt!r} has no {' and no '.join(missing)}",
            hint="a transaction date needs year, month and day (%Y or %y, %m, %d); " + example,
        )
    if ("H" in codes or "I" in codes) != ("M" in codes):
        raise UsageError(
            f"the date format {fmt!r} gives hours without minutes (or minutes without hours)",
            hint="use both, e.g. %d/%m/%Y %H:%M",
        )
    return fmt


def detect_date_format(sample: pl.Series, *, preferred: str | None = None) -> DateFormat | None:
    """The format in :data:`DATE_FORMATS` that reads most of ``sample`` (text values).

    >>> detect_date_format(pl.Series(["20240105", "20240131"])).format
    '%Y%m%d'
    >>> detect_date_format(pl.Series(["12/1/2010 8:26", "12/13/2010 9:01"])).format
    '%m/%d/%Y %H:%M'
    """
    values = sample.cast(pl.String).str.strip_chars().drop_nulls()
    values = values.filter(values != "").unique(maintain_order=True).head(2000)
    if values.len() == 0:
        return None
    frame = values.to_frame("v")
    candidates = (preferred,) if preferred else DATE_FORMATS
    read = frame.select(
        _parse(pl.col("v"), fmt).is_not_null().sum().alias(str(i))
        for i, fmt in enumerate(candidates)
    ).row(0)
    shares = [(n / values.len(), fmt) for n, fmt in zip(read, candidates, strict=True) if n]
    if not shares:
        return None
    best = max(s for s, _ in shares)
    tops = [f for s, f in shares if s == best]  # stable: order of preference
    other = None
    for f in tops[1:]:
        if swap_day_month(f) == tops[0]:
            other = f
    return DateFormat(tops[0], best, other)


def swap_day_month(fmt: str) -> str:
    """``fmt`` with its day and month swapped (the other reading of ``01/02/2011``).

    >>> swap_day_month("%d/%m/%Y %H:%M")
    '%m/%d/%Y %H:%M'
    """
    return fmt.replace("%d", "\0").replace("%m", "%d").replace("\0", "%m")


def timestamp_expr(
    col: str, dtype: pl.DataType, fmt: DateFormat | None, *, strip: bool = True
) -> pl.Expr:
    """Canonical naive ``Datetime('us')`` from a text, date, datetime or integer column.

    With ``strip=False`` text is parsed as written (no whitespace strip: a full pass saved).
    A value the parser accepts unstripped has the same meaning stripped (only leading blanks
    are ever accepted), so the result equals the stripped parse except for values with
    surrounding blanks that fail; the caller re-reads those with :func:`retry_timestamps`.
    Formats ending in ``Z`` always take the stripped path (the ``Z`` is removed after the strip).
    """
    c = pl.col(col)
    if isinstance(dtype, pl.Datetime):
        if dtype.time_zone is not None:
            c = c.dt.convert_time_zone("UTC").dt.replace_time_zone(None)
        return c.cast(_DT)
    if dtype == pl.Date:
        return c.cast(_DT)
    if dtype.is_integer():
        # YYYYMMDD integers; anything else out of range becomes null (unparseable)
        text = c.cast(pl.Int64).cast(pl.String)
        return text.str.strptime(_DT, "%Y%m%d", strict=False)
    if dtype.is_float():
        text = c.cast(pl.Int64, strict=False).cast(pl.String)
        return text.str.strptime(_DT, "%Y%m%d", strict=False)
    if fmt is None:
        return pl.lit(None, dtype=_DT)
    if not strip and not fmt.format.endswith("Z"):
        return _strptime(c.cast(pl.String), fmt.format)
    return _strptime(_prepare_text(c.cast(pl.String), fmt.format), fmt.format)


def retry_timestamps(values: pl.Series, fmt: str) -> pl.Series:
    """Parse text values with ``fmt`` after stripping them (the few the unstripped pass missed)."""
    frame = values.cast(pl.String).to_frame("v")
    return frame.select(_parse(pl.col("v"), fmt)).to_series()


def _month_first(fmt: str) -> bool:
    return "%m" in fmt and "%d" in fmt and fmt.index("%m") < fmt.index("%d")


def parse_dates_fallback(values: pl.Series, main: str | None = None) -> tuple[pl.Series, bool]:
    """Try every known format on each value (for the few the column's format did not read).

    Formats with the day and month in the order of the column's ``main`` format come first.
    Also says whether some value was read with a two-digit year.
    """
    frame = values.cast(pl.String).str.strip_chars().to_frame("v")
    first = main is not None and _month_first(main)
    formats = sorted(DATE_FORMATS, key=lambda f: _month_first(f) != first)
    parsed = [_parse(pl.col("v"), f) for f in formats]
    short = [i for i, f in enumerate(formats) if "%y" in f]
    which = pl.coalesce([pl.when(p.is_not_null()).then(pl.lit(i)) for i, p in enumerate(parsed)])
    out = frame.select(pl.coalesce(parsed).alias("t"), which.alias("f"))
    return out.get_column("t"), bool(out.get_column("f").is_in(short).any())


_NUMBER_JUNK: Final = r"[\s£$€¥₹'\u00a0]|^[A-Z]{3}\b|\b[A-Z]{3}$"


_POINT_NUMBER: Final = (
    r"^[-+]?(\d{1,3}(,\d{3})+|\d{1,2}(,\d{2})+,\d{3}|\d*)(\.\d+)?([eE][-+]?\d+)?$"
)
"""A number with a decimal point: thousands, if any, grouped by commas in threes (or the
Indian way, ``12,34,567``)."""
_COMMA_NUMBER: Final = r"^[-+]?(\d{1,3}(\.\d{3})+|\d*)(,\d+)?$"
"""A number with a decimal comma: thousands, if any, grouped by points in threes."""


def clean_number_text(text: pl.Expr) -> pl.Expr:
    """Number text without currency symbols or codes, spaces and apostrophes."""
    return text.str.replace_all(_NUMBER_JUNK, "")


def _clean_number(text: pl.Expr, decimal_comma: bool) -> pl.Expr:
    """The careful text -> number path (currency, separators, accounting negatives).

    Separators must be where the convention puts them: ``1.234,56`` is not a number with a
    decimal point, ``1,2345`` is not one with thousands commas (both unreadable).
    """
    cleaned = clean_number_text(text)
    negative = cleaned.str.contains(r"^\(.*\)$")
    cleaned = cleaned.str.strip_chars("()")
    if decimal_comma:
        valid = cleaned.str.contains(_COMMA_NUMBER)
        cleaned = cleaned.str.replace_all(".", "", literal=True).str.replace(",", ".")
    else:
        valid = cleaned.str.contains(_POINT_NUMBER)
        cleaned = cleaned.str.replace_all(",", "", literal=True)
    value = pl.when(valid).then(cleaned.cast(pl.Float64, strict=False))
    return pl.when(negative).then(-value).otherwise(value)


def number_expr(
    col: str,
    dtype: pl.DataType,
    *,
    decimal_comma: bool = False,
    careful: bool = False,
    strip: bool = True,
) -> pl.Expr:
    """``Float64`` from a numeric or text column (lazy, whole column).

    Plain numbers take the fast path; with ``careful`` (or ``decimal_comma``) every value goes
    through the careful path (currency symbols or codes, spaces, thousands separators,
    accounting negatives ``(12.50)``; with ``decimal_comma`` ``.`` and ``,`` swap roles). Values
    the fast path misses are re-read by :func:`number_fallback`; non-finite values are made null
    by :func:`finite`. With ``strip=False`` the fast path casts the text as written: the cast
    accepts no surrounding blanks, so the values it reads are exactly those it would read
    stripped, and the caller re-reads the misses stripped (:func:`retry_numbers`).

    >>> frame = pl.DataFrame({"a": ["1,234.50", "(12.00)", "$ 7", "x"]})
    >>> frame.select(number_expr("a", pl.String, careful=True)).to_series().to_list()
    [1234.5, -12.0, 7.0, None]
    """
    c = pl.col(col)
    if dtype == pl.Boolean or dtype.is_numeric():
        return c.cast(pl.Float64)
    if careful or decimal_comma:
        return _clean_number(c.cast(pl.String).str.strip_chars(), decimal_comma)
    text = c.cast(pl.String)
    return (text.str.strip_chars() if strip else text).cast(pl.Float64, strict=False)


def retry_numbers(values: pl.Series) -> pl.Series:
    """The plain fast path on stripped text (for the few values the unstripped cast missed)."""
    return values.cast(pl.String).str.strip_chars().cast(pl.Float64, strict=False)


def number_fallback(values: pl.Series, *, decimal_comma: bool = False) -> pl.Series:
    """Re-read, the careful way, the few text numbers the fast path could not read."""
    frame = values.cast(pl.String).str.strip_chars().to_frame("v")
    return frame.select(_clean_number(pl.col("v"), decimal_comma)).to_series()


def needs_careful_numbers(sample: pl.Series) -> bool:
    """Whether a text sample has numbers the fast path cannot read (currency, separators).

    >>> needs_careful_numbers(pl.Series(["1.5", "2"])), needs_careful_numbers(pl.Series(["£3"]))
    (False, True)
    """
    text = sample.cast(pl.String).str.strip_chars().drop_nulls()
    text = text.filter(text != "")
    fast = text.cast(pl.Float64, strict=False)
    return bool(fast.null_count() > 0)


def finite(col: str) -> pl.Expr:
    """The column with NaN and infinities made null."""
    c = pl.col(col)
    return pl.when(c.is_finite()).then(c).otherwise(None)


def id_decimal_mode(sample: pl.Series) -> str:
    """How ids written as decimals (``17850.0``) appear in a text sample.

    ``"suffix"`` when every value is an integer or an integer + ``.0`` (a float column written
    as text: cheap suffix strip), ``"regex"`` when some values have ``.00...``, else ``"none"``.

    >>> id_decimal_mode(pl.Series(["17850.0", "13047.0", None]))
    'suffix'
    >>> id_decimal_mode(pl.Series(["A-1", "007"]))
    'none'
    """
    text = sample.cast(pl.String).str.strip_chars().drop_nulls()
    text = text.filter(~text.is_in(MISSING_TOKENS))
    if text.len() == 0 or not bool(text.str.contains(r"^-?\d+\.0+$").any()):
        return "none"
    if bool(text.str.contains(r"^-?\d+(\.0)?$").all()):
        return "suffix"
    return "regex"


def id_expr(
    col: str,
    dtype: pl.DataType,
    *,
    decimals: str = "regex",
    missing: bool = True,
    stripped: bool = False,
) -> pl.Expr:
    """Identifier text exactly as written: stripped, ``17850.0`` -> ``17850``, blanks -> null.

    ``decimals`` (see :func:`id_decimal_mode`) chooses how text ids written as decimals are
    read: ``"suffix"`` strips a trailing ``.0``, ``"regex"`` any ``.000`` after digits,
    ``"none"`` leaves them. With ``missing=False`` text ids that are missing tokens are left as
    they are (the caller treats them as missing). With ``stripped=True`` the text column is
    already stripped (the caller shares one strip between several expressions).

    >>> frame = pl.DataFrame({"c": ["007", " 17850.0", "nan", "A-1"]})
    >>> frame.select(id_expr("c", pl.String)).to_series().to_list()
    ['007', '17850', None, 'A-1']
    """
    c = pl.col(col)
    if dtype.is_integer():
        return c.cast(pl.String)
    if dtype.is_float():
        # integral floats only; the loader patches the rare non-integral id afterwards
        return pl.when(c == c.floor()).then(c.cast(pl.Int64, strict=False).cast(pl.String))
    text = c.cast(pl.String)
    if not stripped:
        text = text.str.strip_chars()
    if decimals == "suffix":
        text = text.str.strip_suffix(".0")
    elif decimals == "regex":
        text = text.str.replace(r"^(-?\d+)\.0+$", "${1}")
    if not missing:
        return text
    return pl.when(text.is_in(MISSING_TOKENS)).then(None).otherwise(text)


def text_expr(col: str, dtype: pl.DataType, sample: pl.Series | None = None) -> pl.Expr:
    """Free text (order id, product code, category, channel): stripped, missing tokens -> null.

    With a ``sample`` of the column, stripping and missing-token replacement are applied only
    when the sample shows them (a full pass over tens of millions of strings each).
    """
    if dtype.is_numeric():
        return id_expr(col, dtype)
    text = pl.col(col).cast(pl.String)
    strip, missing = text_steps(sample)
    if strip:
        text = text.str.strip_chars()
    if missing:
        return pl.when(text.is_in(MISSING_TOKENS)).then(None).otherwise(text)
    return text


def text_steps(sample: pl.Series | None) -> tuple[bool, bool]:
    """Whether a free-text column is stripped, and its missing tokens made null: both without a
    sample, else only when the sample shows surrounding blanks / missing tokens (every engine
    decides the same way, so they read the same values)."""
    if sample is None:
        return True, True
    values = sample.cast(pl.String).drop_nulls()
    strip = bool((values != values.str.strip_chars()).any())
    if strip:
        values = values.str.strip_chars()
    return strip, bool(values.is_in(MISSING_TOKENS).any())


_TRUE: Final = ("true", "t", "yes", "y", "1", "1.0", "return", "returned", "refund", "x")
_FALSE: Final = ("false", "f", "no", "n", "0", "0.0", "")


def bool_expr(col: str, dtype: pl.DataType) -> pl.Expr:
    """Boolean from a bool, numeric or text (true/false, yes/no, 1/0, y/n) column."""
    c = pl.col(col)
    if dtype == pl.Boolean:
        return c
    if dtype.is_numeric():
        return c != 0
    text = c.cast(pl.String).str.strip_chars().str.to_lowercase()
    return pl.when(text.is_in(_TRUE)).then(True).when(text.is_in(_FALSE)).then(False)
