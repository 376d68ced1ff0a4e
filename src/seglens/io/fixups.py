"""Eager fix-ups after the main lazy projection: duplicates, and the few values the fast paths
could not read (numbers, dates, non-whole float ids)."""

from __future__ import annotations

import polars as pl

from seglens.io.cleaning import raw_name
from seglens.io.parsing import number_fallback, parse_dates_fallback

__all__ = ["fallback_dates", "fallback_float_ids", "fallback_numbers", "mark_duplicates"]


def fallback_numbers(df: pl.DataFrame, modes: dict[str, bool], *, derived: bool) -> pl.DataFrame:
    """Re-read, the careful way, the few text numbers the fast path missed (then re-derive)."""
    columns = {"quantity": "quantity", "unit_price": "__unit_price", "amount": "amount"}
    patched: list[pl.Series] = []
    for field, comma in modes.items():
        col, raw = columns[field], raw_name(field)
        if raw not in df.columns:
            continue
        bad = df.get_column(col).is_null() & df.get_column(raw).is_not_null()
        n = int(bad.sum())
        if n == 0 or n > 1_000_000:
            continue
        idx = bad.arg_true()
        fixed = number_fallback(df.get_column(raw).gather(idx), decimal_comma=comma)
        ok = fixed.is_finite().fill_null(False)
        if ok.any():
            series = df.get_column(col).scatter(idx.filter(ok), fixed.filter(ok))
            df = df.with_columns(series.alias(col))
            patched.append(idx.filter(ok))
    if derived and patched:
        idx = pl.concat(patched).unique()
        product = df.get_column("quantity").gather(idx) * df.get_column("__unit_price").gather(idx)
        df = df.with_columns(df.get_column("amount").scatter(idx, product).alias("amount"))
    return df


def mark_duplicates(df: pl.DataFrame) -> pl.DataFrame:
    """``__dup``: the line's hash was already seen on an earlier line.

    Repeated hash values are found by sorting the hashes (cheap); only the rows carrying one of
    them (a few percent) go through the first-occurrence check.
    """
    hashes = df.get_column("__hash")
    ordered = hashes.sort()
    repeated = ordered.filter((ordered == ordered.shift(1)).fill_null(False)).unique()
    dup = pl.repeat(False, df.height, dtype=pl.Boolean, eager=True)
    if repeated.len():
        candidates = hashes.to_frame("h").select(pl.col("h").is_in(repeated.implode())).to_series()
        idx = candidates.arg_true()
        firsts = hashes.gather(idx).is_first_distinct()
        dup = dup.scatter(idx, ~firsts)
    return df.drop("__hash").with_columns(dup.alias("__dup"))


def fallback_float_ids(df: pl.DataFrame) -> pl.DataFrame:
    """Ids from a float column that are not whole numbers (rare) are kept as written."""
    raw = df.get_column(raw_name("customer_id"))
    if not raw.dtype.is_float():
        return df
    bad = (df.get_column("customer_id").is_null() & raw.is_finite()).fill_null(False)
    if not bad.any():
        return df
    idx = bad.arg_true()
    ids = df.get_column("customer_id").scatter(idx, raw.gather(idx).cast(pl.String))
    return df.with_columns(ids.alias("customer_id"))


def fallback_dates(df: pl.DataFrame, warnings: list[str]) -> pl.DataFrame:
    """Re-read, with every known format, the few timestamps the column's format missed."""
    bad = df.get_column("timestamp").is_null() & df.get_column(raw_name("timestamp")).is_not_null()
    n = int(bad.sum())
    if n == 0 or n > 100_000:
        return df
    idx = bad.arg_true()
    fixed = parse_dates_fallback(df.get_column(raw_name("timestamp")).gather(idx))
    ok = fixed.is_not_null()
    if not ok.any():
        return df
    ts = df.get_column("timestamp").scatter(idx.filter(ok), fixed.filter(ok))
    warnings.append(
        f"{int(ok.sum()):,} timestamp(s) were not in the column's main format and were read "
        "with another known format"
    )
    return df.with_columns(ts.alias("timestamp"))
