"""Exact duplicate lines, found from a 64-bit hash of each whole line."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import polars as pl

__all__ = ["duplicate_mask", "repeated_hashes", "start_repeated_hashes"]


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
