"""Customer ids during a load: which rows lack one, their text in the kept rows, and how many
distinct customers were read and kept.

Ids are held in their cheapest form until the canonical table is built: text ids as parsed,
numeric ids as whole numbers. Numeric ids only become text for the kept rows, and when they span
a short range (customer numbers usually do) each number in the range is formatted once and the
rows take their text by position, instead of formatting ten million numbers one by one.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

__all__ = ["CustomerIds", "numeric_ids", "text_ids"]


@dataclass(frozen=True)
class CustomerIds:
    """The customer id of every row of a load, in a form ready for the rules and the table.

    Build it with :func:`text_ids` or :func:`numeric_ids`.
    """

    missing: pl.Series
    """Rows without a customer id (the ``missing_customer_id`` rule)."""
    key: pl.Series
    """Distinct customers are distinct non-null values of this (the ids, or whole numbers)."""
    text: pl.Series | None = None
    """Text ids; None for numeric ids, whose text is made for the kept rows only."""
    lo: int | None = None
    """Numeric ids: the smallest id, when the ids span a short range (the text is a lookup)."""
    hi: int | None = None
    patch_rows: pl.Series | None = None
    """Numeric ids: rows whose id is not a whole number, kept as written (``patch_text``)."""
    patch_text: pl.Series | None = None

    def kept_text(self, keep: pl.Series) -> pl.Series:
        """The text ids of the rows where ``keep`` is true, in row order."""
        if self.text is not None:
            return self.text.filter(keep)
        kept = self.key.filter(keep)
        if self.lo is not None and self.hi is not None:
            lookup = pl.int_range(self.lo, self.hi + 1, eager=True).cast(pl.String)
            text = lookup.gather((kept - self.lo).cast(pl.UInt32))
        else:
            text = kept.cast(pl.String)
        if self.patch_rows is not None and self.patch_text is not None:
            held = keep.gather(self.patch_rows)
            if held.any():
                position = keep.cast(pl.UInt32).cum_sum().gather(self.patch_rows) - 1
                text = text.scatter(position.filter(held), self.patch_text.filter(held))
        return text

    def counts(self, keep: pl.Series) -> tuple[int, int]:
        """Distinct customers in all rows and in the kept rows (nulls not counted).

        Ids in a short range are counted by marking their offsets in a bitmap (no hashing);
        otherwise both counts run in one query, so Polars computes them in parallel.
        """
        if self.lo is not None and self.hi is not None:
            span, lo = self.hi - self.lo + 1, self.lo

            def distinct(ids: pl.Series) -> int:
                seen = pl.repeat(False, span, dtype=pl.Boolean, eager=True)
                return int(seen.scatter(ids.drop_nulls() - lo, True).sum())

            return distinct(self.key), distinct(self.key.filter(keep))
        k = pl.col("key")
        counted = (
            pl.DataFrame([self.key.alias("key"), keep.alias("keep")])
            .lazy()
            .select(
                k.drop_nulls().n_unique().alias("read"),
                k.filter(pl.col("keep")).drop_nulls().n_unique().alias("kept"),
            )
            .collect()
        )
        return int(counted.item(0, "read")), int(counted.item(0, "kept"))


def text_ids(ids: pl.Series) -> CustomerIds:
    """Customer ids that are text already (parsed, missing tokens null)."""
    return CustomerIds(missing=ids.is_null(), key=ids, text=ids)


def numeric_ids(values: pl.Series) -> CustomerIds:
    """Customer ids from an integer or float source column.

    The text of an id is the whole number as written (``17850.0`` -> ``"17850"``); a finite float
    that is not a whole number is kept as written (``"17850.5"``); NaN and infinities are
    missing. Distinct customers are counted on the whole numbers, so -- as the loader always
    did -- a non-whole id is kept in the table but not counted.

    When the ids span a range no longer than the column, the kept rows' text is looked up in
    the formatted range (``ids - min``): the same text as casting each id, at a fraction of the
    cost.
    """
    if values.dtype == pl.UInt64:  # may not fit Int64: cast each id
        return text_ids(values.cast(pl.String))
    if values.dtype.is_float():
        v = pl.col("v")
        whole = pl.when(v == v.floor()).then(v.cast(pl.Int64, strict=False))
        ints = values.to_frame("v").select(whole).to_series()
        odd = (ints.is_null() & values.is_finite()).fill_null(False)
    else:
        ints = values.cast(pl.Int64)
        odd = None
    patch_rows = patch_text = None
    missing = ints.is_null()
    if odd is not None and odd.any():
        patch_rows = odd.arg_true()
        patch_text = values.gather(patch_rows).cast(pl.String)
        missing = missing & ~odd
    lo, hi = ints.min(), ints.max()
    span = min(max(ints.len(), 1024), 2**31)
    dense = isinstance(lo, int) and isinstance(hi, int) and hi - lo < span
    return CustomerIds(
        missing=missing,
        key=ints,
        lo=lo if dense and isinstance(lo, int) else None,
        hi=hi if dense and isinstance(hi, int) else None,
        patch_rows=patch_rows,
        patch_text=patch_text,
    )
