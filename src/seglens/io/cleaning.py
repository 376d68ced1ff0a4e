"""Cleaning rules for transactions: each says what it matched, what it did, and to how many rows.

Rules run over the parsed frame in a fixed order. ``rows`` counts every input row a rule
matches (independently of other rules); ``rows_excluded`` counts the rows it removed that an
earlier rule had not already removed, so those add up to ``rows_read - rows_kept``.

The rules and their masks are data (:mod:`seglens.io.rules`); this module is the embedded
engine that evaluates them. For speed on large files each rule's row mask is an expression
computed inside the loader's main projection (:func:`mask_exprs`), counting and examples work
on those bitmaps, and the kept rows are selected by one filter at the end.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Final

import polars as pl

from seglens.errors import DataError
from seglens.io.customers import CustomerIds
from seglens.io.duplicates import duplicate_mask
from seglens.io.mask_expr import codes_mask, to_polars
from seglens.io.report import Action, RuleResult
from seglens.io.rules import (
    DUPLICATES,
    EARLIEST_YEAR,
    MASK,
    RULES,
    FrameFacts,
    RuleSpec,
    mask_columns,
    raw_name,
)
from seglens.io.sources_base import SHEET
from seglens.tables import TRANSACTIONS

__all__ = [
    "EARLIEST_YEAR",
    "LINE",
    "MASK",
    "Cleaned",
    "FrameFacts",
    "RuleContext",
    "apply_rules",
    "check_fatal",
    "codes_expr",
    "line_numbers",
    "mask_exprs",
    "raw_name",
    "refresh_masks",
]

LINE: Final = "__seglens_line"
CANONICAL: Final = TRANSACTIONS.names
MAX_EXAMPLES: Final = 5


@dataclass(frozen=True)
class RuleContext:
    """What the rules need besides the frame."""

    source: str
    line_word: str
    source_columns: dict[str, str]
    """Canonical field -> source column name (for messages)."""
    as_of: dt.datetime | None
    non_product_codes: tuple[str, ...]
    drop_duplicates: bool
    drop_zero_price: bool
    drop_non_product: bool
    return_prefix: str | None
    max_bad_fraction: float
    first_line: int
    """Line (or row) number of position 0, for frames without a :data:`LINE` column."""


def line_numbers(df: pl.DataFrame, idx: pl.Series, ctx: RuleContext) -> list[int]:
    """Source line (or row) numbers of the rows at positions ``idx``.

    From the :data:`LINE` column when the frame carries one (Excel: rows numbered per sheet),
    else ``position + first_line``: every other reader numbers rows by position.
    """
    if LINE in df.columns:
        return [int(v) for v in df.get_column(LINE).gather(idx)]
    return [int(i) + ctx.first_line for i in idx]


def _examples(
    df: pl.DataFrame, mask: pl.Series, column: str, label: str, ctx: RuleContext
) -> tuple[dict[str, Any], ...]:
    idx = mask.arg_true().head(MAX_EXAMPLES)
    lines = line_numbers(df, idx, ctx)
    values = df.get_column(column).gather(idx).to_list()
    sheets = df.get_column(SHEET).gather(idx).to_list() if SHEET in df.columns else None
    out = []
    for i, (line, value) in enumerate(zip(lines, values, strict=True)):
        ex: dict[str, Any] = {"line": line, "column": label, "value": _show(value)}
        if sheets is not None:
            ex["sheet"] = sheets[i]
        out.append(ex)
    return tuple(out)


def _show(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ")
    return str(value)


def check_fatal(
    df: pl.DataFrame, ctx: RuleContext, fields: Sequence[str], notes: Sequence[str] = ()
) -> None:
    """Raise :class:`DataError` when a required field is unreadable in too many rows.

    ``notes`` (reader warnings, e.g. uncalculated Excel formulas) are added to the hint.
    """
    n = df.height
    for field in fields:
        col = field if field in df.columns else f"__{field}"
        count = df.get_column(col).null_count()
        if count == 0 or (count <= ctx.max_bad_fraction * n and count < n):
            continue
        bad = df.get_column(col).is_null()
        raw = raw_name(field) if raw_name(field) in df.columns else col
        idx = bad.arg_true().head(10)
        lines = line_numbers(df, idx, ctx)
        values = [_show(v) for v in df.get_column(raw).gather(idx)]
        if SHEET in df.columns:
            values = [
                f"sheet {s}: {v!r}"
                for s, v in zip(df.get_column(SHEET).gather(idx), values, strict=True)
            ]
        src = ctx.source_columns.get(field, field)
        what = {
            "timestamp": "dates",
            "amount": "amounts",
            "order_id": "order ids",
            "quantity": "quantities",
            "unit_price": "prices",
        }.get(field, field)
        hint = {
            "timestamp": "fix or remove those rows, or give the format with date_format= / "
            "--date-format (e.g. %d/%m/%Y)",
            "amount": "amounts must be numbers (currency symbols and thousands separators are "
            "fine); fix those rows, or map the right column with --columns amount=<column>",
            "order_id": "fill in the order ids, or map the right column with "
            "--columns order_id=<column>",
        }.get(field, "fix those rows or map another column with --columns")
        raise DataError(
            f"{count:,} of {n:,} rows have missing or unreadable {what} "
            f"({count / n:.1%}; the tolerance is {ctx.max_bad_fraction:.1%})",
            source=ctx.source,
            column=src,
            lines=tuple(lines),
            values=tuple(values),
            hint=hint + "".join(f"; note: {note}" for note in notes),
        )


def codes_expr(column: str, codes: Sequence[str]) -> pl.Expr:
    """Whether a product code is in ``codes`` (``mask_expr.codes_mask`` compiled to Polars)."""
    return to_polars(codes_mask(column, codes))


@dataclass
class _Pending:
    rule: str
    mask: pl.Series | None
    action: Action
    description: str
    column: str | None
    exclude: bool
    rows: int = 0
    examples: tuple[dict[str, Any], ...] = ()


class _Rules:
    """Collects the rules in order; counts and examples are taken as each rule is added, the
    exclusions (which depend on every earlier rule) when :meth:`finish` is given the last mask.
    """

    def __init__(self, df: pl.DataFrame, ctx: RuleContext) -> None:
        self.df = df
        self.ctx = ctx
        self.pending: list[_Pending] = []

    def add(self, spec: RuleSpec, facts: FrameFacts) -> None:
        """Add one rule of the table; its mask is the frame's ``__m_<mask>`` column (the
        duplicates' mask comes with :meth:`finish`; a mask not computed: not applied)."""
        ctx = self.ctx
        entry = _Pending(
            spec.name,
            None,
            spec.action_for(ctx),
            spec.message_for(ctx, facts),
            spec.field_for(facts),
            spec.excludes(ctx),
        )
        self.pending.append(entry)
        if spec.mask == DUPLICATES:
            return
        if MASK + spec.mask in self.df.columns:
            self._count(entry, self.df.get_column(MASK + spec.mask))
        else:
            entry.action = "not_applied"

    def _count(self, entry: _Pending, mask: pl.Series) -> None:
        entry.mask = mask
        entry.rows = int(mask.sum())
        if entry.rows and entry.column is not None:
            field = entry.column
            col = next(c for c in (raw_name(field), field, f"__{field}") if c in self.df.columns)
            label = self.ctx.source_columns.get(field, field)
            entry.examples = _examples(self.df, mask, col, label, self.ctx)

    def excluded_by_others(self) -> pl.Series:
        """Rows excluded by a rule other than the duplicates."""
        excluded = pl.repeat(False, self.df.height, dtype=pl.Boolean, eager=True)
        for entry in self.pending:
            if entry.exclude and entry.mask is not None and entry.rows:
                excluded = excluded | entry.mask
        return excluded

    def finish(self, later: pl.Series) -> tuple[list[RuleResult], pl.Series]:
        """The results, in order, and the rows kept; ``later`` is the duplicates' mask."""
        excluded = pl.repeat(False, self.df.height, dtype=pl.Boolean, eager=True)
        results: list[RuleResult] = []
        for entry in self.pending:
            if entry.mask is None and entry.action != "not_applied":
                self._count(entry, later)
            if entry.mask is None:
                results.append(RuleResult(entry.rule, "not_applied", 0, entry.description))
                continue
            newly = 0
            if entry.exclude and entry.rows:
                newly = int((entry.mask & ~excluded).sum())
                excluded = excluded | entry.mask
            results.append(
                RuleResult(
                    entry.rule, entry.action, entry.rows, entry.description, newly, entry.examples
                )
            )
        return results, ~excluded


@dataclass(frozen=True)
class Cleaned:
    """The kept rows in canonical form, what each rule did, and distinct customers before/after."""

    table: pl.DataFrame
    rules: list[RuleResult]
    customers_read: int
    customers_kept: int


def mask_exprs(ctx: RuleContext, facts: FrameFacts) -> list[list[pl.Expr]]:
    """Every rule's row mask (null read as false) and the final ``is_return``, as Polars
    expressions over the parsed columns, in two stages (the second reads the first).

    They are the masks of :data:`seglens.io.rules.MASKS`, added to the main projection: they
    are row-wise, so the streaming engine computes them on each batch of rows while it is in
    cache, instead of a second pass over the columns. Values patched afterwards (the few the
    fast parsers missed) get their masks recomputed with :func:`refresh_masks`.
    """
    return [
        [to_polars(mask).alias(name) for name, mask in stage] for stage in mask_columns(ctx, facts)
    ]


def refresh_masks(
    df: pl.DataFrame, stages: Sequence[Sequence[pl.Expr]], rows: pl.Series
) -> pl.DataFrame:
    """Recompute the masks of ``rows`` (positions whose values were patched after the main
    projection). Every mask is a function of its own row only, so this is exact."""
    if rows.len() == 0:
        return df
    fresh = df.gather(rows)
    for stage in stages:
        fresh = fresh.with_columns(stage)
    names = [e.meta.output_name() for stage in stages for e in stage]
    return df.with_columns(df.get_column(n).scatter(rows, fresh.get_column(n)) for n in names)


def apply_rules(
    df: pl.DataFrame,
    ctx: RuleContext,
    facts: FrameFacts,
    *,
    customers: CustomerIds,
    repeated: Callable[[], pl.Series],
) -> Cleaned:
    """Run every rule of :data:`~seglens.io.rules.RULES`; return the kept rows in canonical
    form, the results and customer counts.

    ``df`` holds the parsed columns (unmapped optional ones may be absent), the source values
    of checked fields (``__raw_*``), the line hash ``__hash`` and the rule masks
    (:func:`mask_exprs` with the same ``facts``); ``customers`` the customer ids; ``repeated``
    waits for the repeated line hashes (:func:`~seglens.io.duplicates.start_repeated_hashes`).
    """
    r = _Rules(df, ctx)
    for spec in RULES:
        if spec.listed(ctx):
            r.add(spec, facts)
    # Everything so far only counts and takes examples, while the line hashes are sorted; so do
    # the customer counts. Kept customers are counted on the rows no other rule excludes: a
    # line excluded only as a duplicate has an identical first copy, with the same customer,
    # which every rule treats alike and which is kept.
    read, kept = customers.counts(~r.excluded_by_others())
    results, keep = r.finish(duplicate_mask(df.get_column("__hash"), repeated()))
    table = _canonical(df, keep, customers)
    return Cleaned(
        table=table,
        rules=results,
        customers_read=read,
        customers_kept=kept,
    )


def _canonical(df: pl.DataFrame, keep: pl.Series, customers: CustomerIds) -> pl.DataFrame:
    """The kept rows in canonical form: returns flagged, positive return amounts negated,
    unmapped optional columns null (made here, not carried through the load)."""
    amount = pl.col("amount")
    exprs: list[pl.Expr] = []
    for col in TRANSACTIONS.columns:
        if col.name == "customer_id":
            expr = customers.text_expr()
        elif col.name == "amount":
            expr = pl.when(pl.col(MASK + "return_sign")).then(-amount).otherwise(amount)
        elif col.name == "is_return":
            expr = pl.col(MASK + "is_return")
        elif col.name in df.columns:
            expr = pl.col(col.name)
        else:
            expr = pl.lit(None, col.dtype)
        exprs.append(expr.cast(col.dtype).alias(col.name))
    used = {c for c in CANONICAL if c in df.columns and c not in ("customer_id", "is_return")}
    used |= {customers.column, MASK + "is_return", MASK + "return_sign"}
    table = (
        df.select(sorted(used))
        .with_columns(keep.alias("__keep"))
        .lazy()
        .filter(pl.col("__keep"))
        .select(exprs)
        .collect()
    )
    ids = customers.patch(table.get_column("customer_id"), keep)
    # replacing a column realigns (copies) every column's chunks: only when ids were patched
    return table if ids is None else table.with_columns(ids)
