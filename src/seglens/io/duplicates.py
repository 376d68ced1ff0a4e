"""Exact duplicate lines, found from a 64-bit hash of each whole line."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import polars as pl

__all__ = ["duplicate_mask", "repeated_hashes", "start_repeated_hashes"]


def repeated_hashes(hashes: pl.Series) -> pl.Series:
    """The line-hash values that occur more than once (sorted, then compared with the previous).

    Sorting 64-bit hashes is the cheap part of duplicate detection (``is_first_distinct`` over
    every row is several times slower). NumPy sorts 64-bit integers with SIMD on one thread,
    faster than Polars' sort on one thread and about as fast as it on two, which leaves the
    other core to the loader meanwhile (:func:`start_repeated_hashes`).
    """
    ordered = hashes.fill_null(0).to_numpy(writable=True)
    ordered.sort()
    repeated = np.unique(ordered[1:][ordered[1:] == ordered[:-1]])
    return pl.Series("h", repeated, dtype=pl.UInt64)


def start_repeated_hashes(hashes: pl.Series) -> Callable[[], pl.Series]:
    """Start :func:`repeated_hashes` on a worker thread; call the result to wait for it.

    Polars releases the GIL while it sorts, so the loader goes on with other work meanwhile.
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
