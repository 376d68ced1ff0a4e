"""Eager fix-ups after the main lazy projection: empty lines, the few values the fast paths
could not read (numbers, dates), and dates whose year cannot be right."""

from __future__ import annotations

import datetime as dt
from typing import Any, Final

import polars as pl

from seglens.io.cleaning import LINE, raw_name
from seglens.io.numbers import NUMBER_COLUMNS, NumberMode
from seglens.io.parsing import (
    TWO_DIGIT_YEARS,
    number_fallback,
    parse_dates_fallback,
    retry_numbers,
    retry_timestamps,
)
from seglens.io.report import RuleResult

__all__ = [
    "EMPTY_FIRST",
    "REST_EMPTY",
    "drop_empty_rows",
    "empty_row_exprs",
    "fallback_dates",
    "fallback_numbers",
]


_NO_ROWS = pl.Series("rows", [], dtype=pl.UInt32)
REST_EMPTY: Final = "__rest_empty"
EMPTY_FIRST: Final = "__first_if_rest_empty"
_FOUR_DIGIT_YEAR: Final = dt.datetime(1000, 1, 1)
_EMPTY_LINE: Final = (
    "line with no values (blank, only delimiters or spaces, or the DOS end-of-file mark ^Z); "
    "excluded"
)


def empty_row_exprs(columns: list[str], first_is_text: bool = True) -> list[pl.Expr]:
    """Columns that let :func:`drop_empty_rows` find empty lines: whether every source column
    but the first is empty, and then the first column's text (cheap: a null bitmap and a
    mostly-null column). A first column that is not text is only checked for null."""
    rest = pl.all_horizontal([pl.col(c).is_null() for c in columns[1:]] or [pl.lit(True)])
    if not first_is_text:
        return [
            (rest & pl.col(columns[0]).is_null()).alias(REST_EMPTY),
            pl.lit(None, pl.String).alias(EMPTY_FIRST),
        ]
    return [rest.alias(REST_EMPTY), pl.when(rest).then(pl.col(columns[0])).alias(EMPTY_FIRST)]


def drop_empty_rows(df: pl.DataFrame, first_line: int) -> tuple[pl.DataFrame, RuleResult]:
    """Drop lines with no value at all (blank lines, lines of empty fields, whitespace, the DOS
    end-of-file mark ^Z); the rule result counts them. Line numbers of the other rows are kept
    (a :data:`LINE` column is added when rows are dropped)."""
    rest = df.get_column(REST_EMPTY)
    first = df.get_column(EMPTY_FIRST)
    if not rest.any():
        return df.drop(REST_EMPTY, EMPTY_FIRST), RuleResult(
            "empty_line", "excluded", 0, _EMPTY_LINE
        )
    empty = rest & (first.is_null() | (first.str.strip_chars(" \t\r\x1a") == "")).fill_null(False)
    n = int(empty.sum())
    examples: list[dict[str, Any]] = []
    if n:
        if LINE not in df.columns:
            lines = pl.int_range(pl.len(), dtype=pl.Int64) + first_line
            df = df.with_columns(lines.alias(LINE))
        idx = empty.arg_true().head(5)
        lines_ = df.get_column(LINE).gather(idx).to_list()
        values = first.gather(idx).to_list()
        examples = [
            {"line": ln, "column": "(whole line)", "value": "^Z" if v and "\x1a" in v else v}
            for ln, v in zip(lines_, values, strict=True)
        ]
        df = df.filter(~empty)
    df = df.drop(REST_EMPTY, EMPTY_FIRST)
    return df, RuleResult("empty_line", "excluded", n, _EMPTY_LINE, n, tuple(examples))


def _misses(df: pl.DataFrame, col: str, raw: str) -> pl.Series | None:
    """Rows whose parsed value is null although the source has a value (None when there are none).

    A null source value always parses to null, so equal null counts mean no misses (O(1) check).
    """
    parsed, source = df.get_column(col), df.get_column(raw)
    if parsed.null_count() == source.null_count():
        return None
    return parsed.is_null() & source.is_not_null()


def _patch(
    df: pl.DataFrame, col: str, idx: pl.Series, values: pl.Series, ok: pl.Series
) -> tuple[pl.DataFrame, pl.Series]:
    """Set ``col`` at the positions ``idx`` where ``ok`` to ``values``; also the rows set."""
    rows = idx.filter(ok)
    series = df.get_column(col).scatter(rows, values.filter(ok))
    return df.with_columns(series.alias(col)), rows


def fallback_numbers(
    df: pl.DataFrame, modes: dict[str, NumberMode], *, derived: bool
) -> tuple[pl.DataFrame, pl.Series, dict[str, pl.Series]]:
    """Re-read the few text numbers the fast path missed: stripped (when the fast path did not
    strip), then the careful way (then re-derive ``amount``). Also returns the patched rows and,
    per field, the positions the first parse missed."""
    patched: list[pl.Series] = []
    missed: dict[str, pl.Series] = {}
    for field, mode in modes.items():
        col, raw = NUMBER_COLUMNS[field], raw_name(field)
        if raw not in df.columns:
            continue
        bad = _misses(df, col, raw)
        if bad is None:
            missed[field] = _NO_ROWS
            continue
        idx = bad.arg_true()
        missed[field] = idx
        if mode.unstripped:
            again = retry_numbers(df.get_column(raw).gather(idx))
            ok = again.is_finite().fill_null(False)
            if ok.any():
                df, rows = _patch(df, col, idx, again, ok)
                patched.append(rows)
                idx = idx.filter(~ok)
        n = idx.len()
        if n == 0 or n > 1_000_000:
            continue
        fixed = number_fallback(df.get_column(raw).gather(idx), decimal_comma=mode.decimal_comma)
        ok = fixed.is_finite().fill_null(False)
        if ok.any():
            df, rows = _patch(df, col, idx, fixed, ok)
            patched.append(rows)
    rows = pl.concat(patched).unique() if patched else _NO_ROWS
    if derived and patched:
        product = df.get_column("quantity").gather(rows) * df.get_column("__unit_price").gather(
            rows
        )
        df = df.with_columns(df.get_column("amount").scatter(rows, product).alias("amount"))
    return df, rows, missed


def _short_years(df: pl.DataFrame, col: str) -> pl.DataFrame:
    """Text dates read with a year below 1000 (``05/01/24`` in a ``%d/%m/%Y`` column) made
    null, so that the fallback re-reads them (with a two-digit year)."""
    low = df.get_column(col).min()
    if low is None or low >= _FOUR_DIGIT_YEAR:  # type: ignore[operator]
        return df
    return df.with_columns(pl.when(pl.col(col) >= _FOUR_DIGIT_YEAR).then(pl.col(col)))


def fallback_dates(
    df: pl.DataFrame,
    warnings: list[str],
    unstripped: str | None,
    *,
    text: bool = True,
    col: str = "timestamp",
) -> tuple[pl.DataFrame, pl.Series]:
    """Re-read the few dates of ``col`` its format missed: stripped with that format (when the
    fast path parsed ``unstripped`` text), then with every known format. Also returns the
    patched rows. ``text``: the source column is text (then a year below 1000 is a misread)."""
    raw = raw_name(col)
    if text:
        df = _short_years(df, col)
    bad = _misses(df, col, raw)
    if bad is None:
        return df, _NO_ROWS
    patched: list[pl.Series] = []
    if unstripped is not None:
        idx = bad.arg_true()
        again = retry_timestamps(df.get_column(raw).gather(idx), unstripped)
        ok = again.is_not_null()
        if ok.any():
            df, rows = _patch(df, col, idx, again, ok)
            bad = bad.scatter(rows, False)
            patched.append(rows)
    n = int(bad.sum())
    idx = bad.arg_true()
    fixed, short = (
        parse_dates_fallback(df.get_column(raw).gather(idx), unstripped)
        if 0 < n <= 100_000
        else (None, False)
    )
    if fixed is not None and fixed.is_not_null().any():
        ok = fixed.is_not_null()
        df, rows = _patch(df, col, idx, fixed, ok)
        warnings.append(
            f"{rows.len():,} {col}(s) were not in the column's main format and were read "
            "with another known format"
            + (f" (two-digit years read as {TWO_DIGIT_YEARS})" if short else "")
        )
        patched.append(rows)
    return df, pl.concat(patched) if patched else _NO_ROWS
