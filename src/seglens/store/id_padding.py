"""Customer ids that lost their leading zeros (Excel turns ``00461`` into ``461``), found by
comparing a file's ids with the ones the store holds. Never guessed: the caller refuses the file
until the user chooses to restore the zeros or to keep the ids as written."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import polars as pl

from seglens.errors import DataError

__all__ = [
    "customers_among",
    "lost_zeros",
    "lost_zeros_error",
    "padded_forms",
    "refuse_lost_zeros",
]

MAX_WIDTH = 20
"""Widest zero-padded id looked for (:func:`padded_forms`)."""


def lost_zeros(ids: Sequence[str | None], known: set[str]) -> dict[str, str]:
    """Ids (as written) that are not in ``known`` but are, once zero-padded, exactly one of its
    leading-zero ids; each mapped to that id.

    An id is restored only to a width the store's own zero-padded ids have, and only when one
    width matches (``461`` with both ``0461`` and ``00461`` stored is left alone).

    >>> lost_zeros(["461", "00462", "7", "A12", None], {"00461", "00462", "12345"})
    {'461': '00461'}
    """
    padded = {k for k in known if k.isdigit() and k.startswith("0")}
    widths = sorted({len(k) for k in padded})
    out: dict[str, str] = {}
    for i in sorted({i for i in ids if i is not None} - known):
        if not i.isdigit():
            continue
        hits = [i.zfill(w) for w in widths if w > len(i) and i.zfill(w) in padded]
        if len(hits) == 1:
            out[i] = hits[0]
    return out


def padded_forms(ids: Sequence[str | None]) -> set[str]:
    """The ids as written and every zero-padded form of the numeric ones (up to
    :data:`MAX_WIDTH` digits): all a store or a table must be asked about to run
    :func:`lost_zeros` without reading every customer id.

    >>> sorted(sorted(padded_forms(["7", "A1"])), key=len)[:4]
    ['7', '07', 'A1', '007']
    """
    out = {i for i in ids if i is not None}
    for i in list(out):
        if i.isdigit():
            out.update(i.zfill(w) for w in range(len(i) + 1, MAX_WIDTH + 1))
    return out


def customers_among(table: Any, ids: Sequence[str | None]) -> set[str]:
    """The customers of ``table`` (a Polars or, for ``track --engine spark``, a Spark DataFrame
    with ``customer_id``) among the ids and their padded forms: all :func:`lost_zeros` needs,
    without collecting every customer id from Spark.

    >>> sorted(customers_among(pl.DataFrame({"customer_id": ["00007", "12"]}), ["7", "8"]))
    ['00007']
    """
    wanted = sorted(padded_forms(ids))
    if isinstance(table, pl.DataFrame):
        col = table.get_column("customer_id").cast(pl.String)
        return set(col.filter(col.is_in(wanted)).unique().to_list())
    from pyspark.sql import functions as sf

    found = table.where(sf.col("customer_id").isin(wanted)).select("customer_id").distinct()
    return {row[0] for row in found.collect()}


def lost_zeros_error(
    restored: dict[str, str],
    ids: Sequence[str | None],
    lines: Sequence[int],
    source: str,
    where: str = "in the store",
    how: str = "give --pad-ids (seglens labels import, audit-estimate; pad_ids=True)",
) -> DataError:
    """The refusal naming the ids, their lines and the two ways on."""
    rows = [(ln, i) for ln, i in zip(lines, ids, strict=True) if i in restored]
    first, padded = next(iter(restored.items()))
    widths = ", ".join(sorted({str(len(v)) for v in restored.values()}))
    return DataError(
        f"{len(restored):,} customer id(s) match customers {where} only with their leading "
        f"zeros restored (e.g. {first} -> {padded}): a spreadsheet such as Excel dropped them",
        source=source,
        column="customer_id",
        lines=tuple(ln for ln, _ in rows[:5]),
        values=tuple(i for _, i in rows[:5]),
        hint=f"{how} to restore the zeros (each id padded to the width of the stored id it "
        f"matches: {widths} digits), or --no-pad-ids (pad_ids=False) to keep the ids as written",
    )


def refuse_lost_zeros(
    ids: Sequence[str | None],
    customers: Iterable[str],
    lines: Sequence[int] | None,
    source: str,
) -> None:
    """Refuse label ids that match ``customers`` (e.g. the transactions a run is about to be
    made from) only with their leading zeros restored, before anything is written."""
    known = {c for c in customers if c is not None}
    restored = lost_zeros(ids, known)
    if restored:
        at = list(lines) if lines is not None else list(range(2, len(ids) + 2))
        how = "run track without --labels, then `seglens labels import FILE --pad-ids`"
        raise lost_zeros_error(restored, ids, at, source, "of the transactions", how)
