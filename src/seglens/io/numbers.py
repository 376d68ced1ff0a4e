"""Thousands and decimal separators, decided per column from all of its values.

Each text number is classed by where its separators are (after currency symbols and spaces
are removed): ``1,234.56`` and ``12.5`` show a decimal **point**, ``1.234,56`` and ``12,5`` a
decimal **comma**, ``1,000`` and ``1.500`` could be either (a thousands separator or three
decimals), plain digits show nothing. A column is read with a decimal comma when its values show
one and none shows a decimal point; values of the other convention in the same column are an
error with their lines, and a column whose only separators could be either stops with an
error asking for ``--decimal``.

The first rows choose how the column is parsed (:func:`sample_decimal`); the whole column is
checked after the load (:func:`check_column`) at little cost: with a decimal point, values with
a comma never take the fast path, so they are already known. The rule itself is
:func:`number_verdict`, on which styles the column shows; the Spark engine classes every value
with the same :data:`STYLE_PATTERNS`, counts the styles in one aggregation and calls the same
function (:mod:`seglens.io.spark_cleaning`), with the same messages (:func:`mixed_message`,
:func:`ambiguous_message`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final, Literal

import polars as pl

from seglens.errors import DataError, UsageError
from seglens.io.cleaning import RuleContext, line_numbers, raw_name
from seglens.io.parsing import clean_number_text, finite, number_fallback

__all__ = [
    "DECIMAL_HINT",
    "MIXED_HINT",
    "NUMBER_COLUMNS",
    "STYLE_PATTERNS",
    "NumberMode",
    "Style",
    "Verdict",
    "ambiguous_message",
    "check_column",
    "check_decimal",
    "check_numbers",
    "mixed_message",
    "number_styles",
    "number_verdict",
    "reread_warning",
    "sample_decimal",
]

Style = Literal["plain", "point", "comma", "either_comma", "either_point", "other"]

STYLE_PATTERNS: Final = (
    ("plain", r"^\d*$"),
    ("point", r"^\d{1,3}(,\d{3})+\.\d+$"),
    ("comma", r"^\d{1,3}(\.\d{3})+,\d+$"),
    ("point", r"^\d{1,3}(,\d{3}){2,}$"),
    ("point", r"^\d{1,2}(,\d{2})+,\d{3}(\.\d+)?$"),  # Indian grouping: 12,34,567.50
    ("comma", r"^\d{1,3}(\.\d{3}){2,}$"),
    ("either_comma", r"^[1-9]\d{0,2},\d{3}$"),
    ("either_point", r"^[1-9]\d{0,2}\.\d{3}$"),
    ("comma", r"^\d*,\d+$"),
    ("point", r"^\d*\.\d+$"),
)
"""Each :data:`Style` and the pattern a cleaned value (no currency, spaces, sign or accounting
parentheses) of that style matches; the first match wins, no match is ``"other"``."""
Verdict = Literal["ok", "comma", "mixed", "ambiguous"]
NUMBER_COLUMNS: Final = {"quantity": "quantity", "unit_price": "__unit_price", "amount": "amount"}
"""The loader's column holding each parsed number field."""
_SAMPLE: Final = 100_000
_DISTINCT: Final = 5_000


@dataclass(frozen=True)
class NumberMode:
    """How a text number column was read and what its first rows showed.

    ``unstripped``: the fast path cast the text as written (its misses are first re-read
    stripped). ``explicit``: the convention was given (``--decimal``), nothing is checked.
    """

    decimal_comma: bool
    unstripped: bool
    careful: bool = False
    explicit: bool = False
    sample_point: bool = False
    sample_comma: bool = False


def check_decimal(value: str) -> str:
    """The decimal separator a user gave: ``"."`` or ``","`` (also ``point``/``comma``)."""
    text = value.strip().lower()
    names = {".": ".", "point": ".", "dot": ".", "period": ".", ",": ",", "comma": ","}
    if text not in names:
        raise UsageError(
            f"unknown decimal separator {value!r}",
            hint="use --decimal . (1,234.56) or --decimal , (1.234,56)",
        )
    return names[text]


def number_styles(values: pl.Series) -> pl.Series:
    """The :data:`Style` of each text number (``None`` where the value is missing).

    >>> number_styles(pl.Series(["1,234.56", "1.234,56", "1,000", "12", "12,5", "x"])).to_list()
    ['point', 'comma', 'either_comma', 'plain', 'comma', 'other']
    """
    cleaned = (
        clean_number_text(pl.col("v").cast(pl.String).str.strip_chars())
        .str.strip_chars("()")
        .str.strip_prefix("-")
        .str.strip_prefix("+")
    )
    styles = [
        pl.when(cleaned.str.contains(pattern)).then(pl.lit(style))
        for style, pattern in STYLE_PATTERNS
    ]
    expr = pl.when(pl.col("v").is_not_null()).then(pl.coalesce([*styles, pl.lit("other")]))
    return values.to_frame("v").select(expr.alias("s")).to_series()


def sample_decimal(sample: pl.Series) -> tuple[bool, bool]:
    """Whether the first rows show a decimal point, and a decimal comma.

    Looked for among up to :data:`_DISTINCT` distinct values with a separator: enough to choose
    how to parse; :func:`check_column` then checks every value.
    """
    text = sample.cast(pl.String).drop_nulls().unique()
    text = text.filter(text.str.contains(r"[.,]")).head(_DISTINCT)
    if text.len() == 0:
        return False, False
    styles = number_styles(text)
    return bool((styles == "point").any()), bool((styles == "comma").any())


def _rows(idx: pl.Series, styles: pl.Series, style: str) -> pl.Series:
    return idx.filter(styles == style)


def _either_point_rows(parsed: pl.Series, text: pl.Series, skip: pl.Series) -> pl.Series:
    """Rows read with a decimal point that could also be thousands (``1.500``): found from the
    parsed value and the text's length, then confirmed on those few rows."""
    if text.len() == 0 or (text.str.len_bytes().max() or 0) < 5:  # type: ignore[operator]
        return pl.Series("i", [], pl.UInt32)
    frame = pl.DataFrame({"x": parsed.abs(), "n": text.str.len_bytes()})
    digits = frame.get_column("x").log10().floor() + 1
    cand = (
        (frame.get_column("x") >= 1)
        & (frame.get_column("x") < 1000)
        & ((frame.get_column("n") == digits + 4) | (frame.get_column("n") == digits + 5))
    ).fill_null(False)
    idx = cand.arg_true()
    if skip.len():
        idx = idx.filter(~idx.is_in(skip))
    styles = number_styles(text.gather(idx))
    return _rows(idx, styles, "either_point")


def _first(text: pl.Series, style: str, limit: int = 3) -> pl.Series:
    """Positions of the first values of ``style`` (searched in growing prefixes)."""
    size = _SAMPLE
    while True:
        head = text.head(size)
        idx = (number_styles(head) == style).arg_true().head(limit)
        if idx.len() or size >= text.len():
            return idx
        size *= 10


def _error(
    df: pl.DataFrame, ctx: RuleContext, column: str, raw: str, rows: pl.Series, **kw: str
) -> DataError:
    rows = rows.sort().head(10)
    return DataError(
        kw["message"],
        source=ctx.source,
        column=column,
        lines=tuple(line_numbers(df, rows, ctx)),
        values=tuple(df.get_column(raw).gather(rows).to_list()),
        hint=kw["hint"],
    )


DECIMAL_HINT: Final = (
    "say which with --decimal . (1,000 = one thousand, 1.5 = one and a half) or "
    "--decimal , (1.000 = one thousand, 1,5 = one and a half); decimal = in [ingest]"
)
MIXED_HINT: Final = (
    "write every value the same way, or say which format the column uses with --decimal . "
    "or --decimal , (values written the other way are then unreadable)"
)


def number_verdict(*, point: bool, comma: bool, either: bool, comma_read: bool) -> Verdict:
    """The rule for a text number column, from the styles its values show (all of them).

    ``point``/``comma``: some value shows a decimal point / comma; ``either``: some value's
    separator could be either (``1,000``, ``1.500``); ``comma_read``: the column was read with a
    decimal comma (its first rows showed one and no decimal point). ``"mixed"``: both
    conventions, an error; ``"comma"``: only later rows show a decimal comma, read the column
    again with it; ``"ambiguous"``: nothing tells, an error asking for ``--decimal``.

    >>> number_verdict(point=False, comma=False, either=True, comma_read=False)
    'ambiguous'
    >>> number_verdict(point=True, comma=False, either=True, comma_read=False)
    'ok'
    """
    if comma and point:
        return "mixed"
    if comma:
        return "ok" if comma_read else "comma"
    return "ambiguous" if either and not point else "ok"


def mixed_message(examples: str | None = None) -> str:
    """The error for a column mixing conventions; ``examples`` (Spark) replaces the lines."""
    head = (
        "the column mixes two number formats: a decimal point (e.g. 1,234.56) and a decimal "
        "comma (e.g. 1.234,56)"
    )
    return f"{head}; the rows below show both" if examples is None else f"{head}: {examples}"


def ambiguous_message(example: str) -> str:
    """The error for a column whose separators could be thousands or decimals (``example``)."""
    digits = "".join(ch for ch in example if ch.isdigit())
    sep = "," if "," in example else "."
    one = f"{digits[:-3]}.{digits[-3:]}".rstrip("0").rstrip(".")
    return (
        f"cannot tell whether {sep!r} in these numbers separates thousands or decimals "
        f"({example!r} could be {int(digits)} or {one}), and no other value in the column "
        "shows which"
    )


def reread_warning(column: str) -> str:
    """The warning for a column read again with a decimal comma (``"comma"`` verdict)."""
    return (
        f"numbers in {column!r} are read with a decimal comma: the first rows did not show "
        "which separator the column uses, later rows do"
    )


def check_column(
    df: pl.DataFrame,
    col: str,
    raw: str,
    mode: NumberMode,
    misses: pl.Series,
    ctx: RuleContext,
    column: str,
) -> pl.Series | None:
    """Check a text number column against all of its values (:func:`number_verdict`); the
    column re-read with a decimal comma when only later rows showed one, else None. Raises
    :class:`DataError` for a column mixing conventions or one whose separators could be either.

    ``misses`` are the positions the fast path could not read (every value with a comma when
    the column was read with a decimal point and without the careful path).
    """
    if mode.explicit:
        return None
    text = df.get_column(raw).cast(pl.String)
    if mode.decimal_comma:
        styles = number_styles(text.gather(misses)) if misses.len() else None
        point = _rows(misses, styles, "point") if styles is not None else misses
        if number_verdict(point=point.len() > 0, comma=True, either=False, comma_read=True) == "ok":
            return None
        rows = pl.concat([_first(text, "comma"), point.head(5)])
        raise _error(df, ctx, column, raw, rows, message=mixed_message(), hint=MIXED_HINT)
    if mode.careful:
        misses = text.str.contains(",", literal=True).fill_null(False).arg_true()
    styles = number_styles(text.gather(misses)) if misses.len() else pl.Series([], dtype=pl.String)
    comma = _rows(misses, styles, "comma")
    point_seen = mode.sample_point or bool((styles == "point").any())

    def dotted() -> pl.Series:
        """Rows whose value shows a decimal point (the whole column, only when needed)."""
        has_dot = text.str.contains(".", literal=True).fill_null(False)
        idx = (has_dot & ~text.str.contains(",", literal=True).fill_null(False)).arg_true()
        idx = pl.concat([idx, _rows(misses, styles, "point")])
        return _rows(idx, number_styles(text.gather(idx)), "point").sort()

    if comma.len():
        point = dotted()
        if number_verdict(point=point.len() > 0, comma=True, either=False, comma_read=False) == (
            "mixed"
        ):
            rows = pl.concat([point.head(3), comma.head(5)])
            raise _error(df, ctx, column, raw, rows, message=mixed_message(), hint=MIXED_HINT)
        # only later rows show the decimal comma: read the whole column with it
        return number_fallback(text, decimal_comma=True)
    either = _rows(misses, styles, "either_comma")
    if not point_seen and either.len() == 0:
        either = _either_point_rows(df.get_column(col), text, misses)
    # a decimal point is looked for in the whole column only when it decides
    point_any = point_seen or (either.len() > 0 and dotted().len() > 0)
    if number_verdict(point=point_any, comma=False, either=either.len() > 0, comma_read=False) == (
        "ok"
    ):
        return None
    example = str(df.get_column(raw).gather(either.head(1)).item()).strip()
    raise _error(
        df, ctx, column, raw, either, message=ambiguous_message(example), hint=DECIMAL_HINT
    )


def check_numbers(
    df: pl.DataFrame,
    modes: dict[str, NumberMode],
    missed: dict[str, pl.Series],
    ctx: RuleContext,
    details: dict[str, Any],
    warnings: list[str],
) -> tuple[pl.DataFrame, bool]:
    """:func:`check_column` for every text number field; also whether a column was re-read
    (then derived amounts and rule masks must be recomputed)."""
    reread = False
    for name, mode in modes.items():
        col, raw = NUMBER_COLUMNS[name], raw_name(name)
        if raw not in df.columns:
            continue
        source = ctx.source_columns.get(name, name)
        misses = missed.get(name, pl.Series([], dtype=pl.UInt32))
        again = check_column(df, col, raw, mode, misses, ctx, source)
        if again is None:
            continue
        df = df.with_columns(again.alias(col)).with_columns(finite(col))
        details.setdefault("decimal_comma", []).append(source)
        warnings.append(reread_warning(source))
        reread = True
    return df, reread
