"""Exact duplicate lines, found from a 64-bit hash of each whole line, and when to drop them."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor

import polars as pl

from seglens.tables import TRANSACTIONS

__all__ = [
    "CANONICAL_SOURCE",
    "NO_ORDER_ID",
    "duplicate_mask",
    "is_canonical_table",
    "judge_duplicates",
    "repeated_hashes",
    "start_repeated_hashes",
]

CANONICAL_SOURCE = (
    "duplicates not judged again: the source is a seglens canonical table (its columns are "
    "exactly those of seglens.tables.TRANSACTIONS), whose duplicates were judged when it was "
    "made; equal rows in it were different source lines (e.g. differing only in a description)"
)
NO_ORDER_ID = (
    "duplicates kept: the source has no order id, so two equal lines are two purchases as "
    "likely as one copied line (give --drop-duplicates to exclude them)"
)


def is_canonical_table(columns: Sequence[str]) -> bool:
    """Whether ``columns`` are exactly the canonical transaction columns, in order: a table
    written by ``seglens ingest -o`` or returned by :func:`~seglens.io.load_transactions`."""
    return tuple(columns) == TRANSACTIONS.names


def judge_duplicates(
    option: bool | None, columns: Sequence[str], *, has_order_id: bool
) -> tuple[bool, str | None]:
    """Whether exact duplicate lines are excluded, and the reason when the default keeps them.

    ``option`` ``True``/``False`` is the user's choice. By default (``None``) they are excluded,
    except in a canonical table (loading it again must not change it: the first load judged
    them, on the source's every column) and in a source without order ids (a log of one line
    per purchase cannot tell a repeat purchase from a copied line; lifetimes counts both).
    """
    if option is not None:
        return option, None
    if is_canonical_table(columns):
        return False, CANONICAL_SOURCE
    if not has_order_id:
        return False, NO_ORDER_ID
    return True, None


def repeated_hashes(hashes: pl.Series) -> pl.Series:
    """The line-hash values that occur more than once (sorted, then compared with the previous).

    Sorting 64-bit hashes is the cheap part of duplicate detection: Polars' multi-threaded sort
    takes 0.25 s for 10 M hashes on two cores, where ``is_first_distinct`` over every row takes
    1.9 s and NumPy's single-threaded sort 0.7-0.9 s (measured on this 2-core machine).
    """
    h = pl.col("h")
    return (
        hashes.alias("h")
        .to_frame()
        .lazy()
        .select(h.fill_null(0).sort())
        .filter(h == h.shift(1))
        .unique()
        .collect()  # a lazy query releases the GIL, an eager sort does not
        .to_series()
    )


def start_repeated_hashes(hashes: pl.Series) -> Callable[[], pl.Series]:
    """Start :func:`repeated_hashes` on a worker thread; call the result to wait for it.

    The sort runs as a lazy query, which releases the GIL, so the loader goes on with other
    work (the customer counts) meanwhile.
    """
    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="seglens-dups")
    future = pool.submit(repeated_hashes, hashes)
    pool.shutdown(wait=False)  # the thread ends with the task
    return future.result


def duplicate_mask(hashes: pl.Series, repeated: pl.Series) -> pl.Series:
    """Whether each line's hash was already seen on an earlier line (``repeated``: the values
    that occur more than once, from :func:`repeated_hashes`)."""
    dup = pl.repeat(False, hashes.len(), dtype=pl.Boolean, eager=True)
    if repeated.len():
        candidates = hashes.to_frame("h").select(pl.col("h").is_in(repeated.implode())).to_series()
        idx = candidates.arg_true()
        firsts = hashes.gather(idx).is_first_distinct()
        dup = dup.scatter(idx, ~firsts)
    return dup
