"""Eager fix-ups after the main lazy projection: the few values the fast paths could not read
(numbers, dates)."""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from seglens.io.cleaning import raw_name
from seglens.io.parsing import (
    number_fallback,
    parse_dates_fallback,
    retry_numbers,
    retry_timestamps,
)

__all__ = [
    "NumberMode",
    "fallback_dates",
    "fallback_numbers",
]


_NO_ROWS = pl.Series("rows", [], dtype=pl.UInt32)


@dataclass(frozen=True)
class NumberMode:
    """How a text number column was read: decimal comma, and whether the fast path was unstripped
    (then its misses are first re-read stripped, as the stripped fast path would have read them)."""

    decimal_comma: bool
    unstripped: bool


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
) -> tuple[pl.DataFrame, pl.Series]:
    """Re-read the few text numbers the fast path missed: stripped (when the fast path did not
    strip), then the careful way (then re-derive ``amount``). Also returns the patched rows."""
    columns = {"quantity": "quantity", "unit_price": "__unit_price", "amount": "amount"}
    patched: list[pl.Series] = []
    for field, mode in modes.items():
        col, raw = columns[field], raw_name(field)
        if raw not in df.columns:
            continue
        bad = _misses(df, col, raw)
        if bad is None:
            continue
        idx = bad.arg_true()
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
    return df, rows


def fallback_dates(
    df: pl.DataFrame, warnings: list[str], unstripped: str | None
) -> tuple[pl.DataFrame, pl.Series]:
    """Re-read the few timestamps the column's format missed: stripped with that format (when the
    fast path parsed ``unstripped`` text), then with every known format. Also returns the
    patched rows."""
    raw = raw_name("timestamp")
    bad = _misses(df, "timestamp", raw)
    if bad is None:
        return df, _NO_ROWS
    patched: list[pl.Series] = []
    if unstripped is not None:
        idx = bad.arg_true()
        again = retry_timestamps(df.get_column(raw).gather(idx), unstripped)
        ok = again.is_not_null()
        if ok.any():
            df, rows = _patch(df, "timestamp", idx, again, ok)
            bad = bad.scatter(rows, False)
            patched.append(rows)
    n = int(bad.sum())
    idx = bad.arg_true()
    fixed = parse_dates_fallback(df.get_column(raw).gather(idx)) if 0 < n <= 100_000 else None
    if fixed is not None and fixed.is_not_null().any():
        ok = fixed.is_not_null()
        df, rows = _patch(df, "timestamp", idx, fixed, ok)
        warnings.append(
            f"{rows.len():,} timestamp(s) were not in the column's main format and were read "
            "with another known format"
        )
        patched.append(rows)
    return df, pl.concat(patched) if patched else _NO_ROWS
