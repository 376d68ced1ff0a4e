"""Cleaning rules for transactions: each says what it matched, what it did, and to how many rows.

Rules run over the parsed frame in a fixed order. ``rows`` counts every input row a rule
matches (independently of other rules); ``rows_excluded`` counts the rows it removed that an
earlier rule had not already removed, so those add up to ``rows_read - rows_kept``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final

import polars as pl

from seglens.errors import DataError
from seglens.io.report import Action, RuleResult
from seglens.io.sources_base import SHEET
from seglens.tables import TRANSACTIONS

__all__ = ["LINE", "RuleContext", "apply_rules", "check_fatal", "raw_name"]

LINE: Final = "__seglens_line"
CANONICAL: Final = TRANSACTIONS.names
MAX_EXAMPLES: Final = 5


def raw_name(field: str) -> str:
    """Name of the helper column holding the source text of a parsed field."""
    return f"__raw_{field}"


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


def _examples(
    df: pl.DataFrame, mask: pl.Series, column: str, label: str
) -> tuple[dict[str, Any], ...]:
    idx = mask.arg_true().head(MAX_EXAMPLES)
    lines = df.get_column(LINE).gather(idx).to_list()
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


def _bad_mask(df: pl.DataFrame, field: str) -> pl.Series:
    """Rows where the field is missing or could not be parsed."""
    return df.get_column(field).is_null()


def check_fatal(
    df: pl.DataFrame, ctx: RuleContext, fields: Sequence[str], notes: Sequence[str] = ()
) -> None:
    """Raise :class:`DataError` when a required field is unreadable in too many rows.

    ``notes`` (reader warnings, e.g. uncalculated Excel formulas) are added to the hint.
    """
    n = df.height
    for field in fields:
        col = field if field in df.columns else f"__{field}"
        bad = df.get_column(col).is_null()
        count = int(bad.sum())
        if count == 0 or (count <= ctx.max_bad_fraction * n and count < n):
            continue
        raw = raw_name(field) if raw_name(field) in df.columns else col
        sheet = [SHEET] if SHEET in df.columns else []
        ex = df.select(LINE, raw, *sheet).filter(bad).head(10)
        values = [_show(v) for v in ex.get_column(raw)]
        if sheet:
            values = [
                f"sheet {s}: {v!r}" for s, v in zip(ex.get_column(SHEET), values, strict=True)
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
            lines=tuple(int(v) for v in ex.get_column(LINE)),
            values=tuple(values),
            hint=hint + "".join(f"; note: {note}" for note in notes),
        )


def codes_expr(column: str, codes: Sequence[str]) -> pl.Expr:
    """Whether a product code is in ``codes`` (case-insensitive; ``*`` = prefix match).

    Exact codes are matched in their upper, lower, title and given case (cheap hash lookups,
    no per-row case folding); prefixes are matched on the upper-cased code.
    """
    exact = [c for c in codes if not c.endswith("*")]
    variants = sorted({v for c in exact for v in (c, c.upper(), c.lower(), c.title())})
    col = pl.col(column)  # already stripped
    mask = col.is_in(variants)
    prefixes = [c[:-1].upper() for c in codes if c.endswith("*")]
    if prefixes:
        upper = col.str.to_uppercase()
        mask = mask | pl.any_horizontal(upper.str.starts_with(p) for p in prefixes)
    return mask.fill_null(False)


def _list_codes(codes: Sequence[str]) -> str:
    return ", ".join(codes[:12]) + (", …" if len(codes) > 12 else "")


class _Rules:
    """Accumulates rule results and the running exclusion mask."""

    def __init__(self, df: pl.DataFrame, ctx: RuleContext) -> None:
        self.df = df
        self.ctx = ctx
        self.excluded = pl.repeat(False, df.height, dtype=pl.Boolean, eager=True).alias(LINE)
        self.results: list[RuleResult] = []

    def add(
        self,
        rule: str,
        mask: pl.Series | None,
        action: Action,
        description: str,
        column: str | None = None,
        *,
        exclude: bool = False,
    ) -> None:
        if mask is None:
            self.results.append(RuleResult(rule, "not_applied", 0, description))
            return
        mask = mask.fill_null(False)
        rows = int(mask.sum())
        newly = 0
        if exclude:
            new = mask & ~self.excluded
            newly = int(new.sum())
            self.excluded = self.excluded | mask
        examples: tuple[dict[str, Any], ...] = ()
        if rows and column is not None:
            field = column
            col = next(c for c in (raw_name(field), field, f"__{field}") if c in self.df.columns)
            examples = _examples(self.df, mask, col, self.ctx.source_columns.get(field, field))
        self.results.append(RuleResult(rule, action, rows, description, newly, examples))


def apply_rules(
    df: pl.DataFrame, ctx: RuleContext
) -> tuple[pl.DataFrame, list[RuleResult], pl.Series]:
    """Run every rule; return the kept rows (with ``is_return`` set) and the results."""
    r = _Rules(df, ctx)
    cols = df.columns
    r.add(
        "unparseable_timestamp",
        _bad_mask(df, "timestamp"),
        "excluded",
        "timestamp missing or not a date in the detected format; row excluded",
        "timestamp",
        exclude=True,
    )
    r.add(
        "unparseable_amount",
        _bad_mask(df, "amount"),
        "excluded",
        "amount (or quantity × unit price) missing or not a number; row excluded",
        "amount" if raw_name("amount") in df.columns else "unit_price",
        exclude=True,
    )
    r.add(
        "missing_order_id",
        _bad_mask(df, "order_id"),
        "excluded",
        "order id missing; row excluded",
        "order_id",
        exclude=True,
    )
    r.add(
        "missing_customer_id",
        _bad_mask(df, "customer_id"),
        "excluded",
        "no customer id; the line cannot be attributed to a customer and is excluded",
        "customer_id",
        exclude=True,
    )
    dup = df.get_column("__dup")
    if ctx.drop_duplicates:
        r.add(
            "duplicate_line",
            dup,
            "excluded",
            "exact copy of an earlier line (every source column equal); the first copy is "
            "kept, the repeats excluded",
            "order_id",
            exclude=True,
        )
    else:
        r.add(
            "duplicate_line",
            dup,
            "kept",
            "exact copy of an earlier line (every source column equal); kept because "
            "drop_duplicates is off",
            "order_id",
        )
    non_product = (
        df.get_column("__non_product")
        if "product_id" in ctx.source_columns and ctx.non_product_codes
        else None
    )
    r.add(
        "non_product_code",
        non_product,
        "excluded" if ctx.drop_non_product else "kept",
        "product code is a non-product code (postage, fees, discounts, adjustments: "
        f"{_list_codes(ctx.non_product_codes)})"
        + ("; excluded" if ctx.drop_non_product else "; kept"),
        "product_id",
        exclude=ctx.drop_non_product,
    )
    price_field = "__unit_price" if "__unit_price" in cols else "amount"
    zero = df.get_column(price_field) == 0
    r.add(
        "zero_price",
        zero,
        "excluded" if ctx.drop_zero_price else "kept",
        ("unit price is zero" if price_field != "amount" else "amount is zero")
        + ("; excluded (no money changed hands)" if ctx.drop_zero_price else "; kept"),
        "unit_price" if price_field != "amount" else "amount",
        exclude=ctx.drop_zero_price,
    )
    if ctx.as_of is not None:
        late = df.get_column("timestamp") > ctx.as_of
        r.add(
            "after_as_of",
            late,
            "excluded",
            f"timestamp after the as-of date {ctx.as_of.isoformat(sep=' ')}; excluded",
            "timestamp",
            exclude=True,
        )
    else:
        r.add("after_as_of", None, "not_applied", "no as-of date given; no timestamp cut-off")
    order = df.get_column("order_id")
    cancel = (
        order.str.starts_with(ctx.return_prefix).fill_null(False) if ctx.return_prefix else None
    )
    r.add(
        "cancellation",
        cancel,
        "flagged",
        f"order id starts with {ctx.return_prefix!r} (a cancellation); kept as a return "
        "(is_return = true)"
        if ctx.return_prefix
        else "no cancellation prefix for order ids in this layout",
        "order_id",
    )
    flagged = (
        cancel if cancel is not None else pl.repeat(False, df.height, dtype=pl.Boolean, eager=True)
    )
    if "is_return" in ctx.source_columns:
        src = df.get_column("is_return").fill_null(False)
        r.add(
            "return_flag",
            src & ~flagged,
            "flagged",
            "the source's return column says return; kept with is_return = true",
            "is_return",
        )
        flagged = flagged | src
    qty = df.get_column("quantity")
    negative = (df.get_column("amount") < 0).fill_null(False) | (qty < 0).fill_null(False)
    r.add(
        "negative_line",
        negative & ~flagged,
        "flagged",
        "negative quantity or amount on a line not otherwise marked as a return; kept as a "
        "return (is_return = true)",
        "amount",
    )
    is_return = flagged | negative
    positive_return = is_return & (df.get_column("amount") > 0).fill_null(False)
    r.add(
        "return_sign",
        positive_return,
        "fixed",
        "return line with a positive amount; amount negated so returns net against purchases",
        "amount",
    )
    r.add(
        "customer_id_decimal",
        df.get_column("__id_fixed"),
        "fixed",
        "customer id written as a decimal number (e.g. 17850.0); read as 17850",
        "customer_id",
    )
    if "__bad_utf8" in cols:
        r.add(
            "invalid_utf8",
            df.get_column("__bad_utf8"),
            "warned",
            "line has bytes that are not valid UTF-8 (mixed encodings); they were replaced "
            "with U+FFFD (checked in the columns seglens keeps)",
            None,
        )
    r.add(
        "formula_like_value",
        df.get_column("__formula"),
        "warned",
        "a text field starts with =, + or @ (looks like a spreadsheet formula); kept as text, "
        "take care when exporting to spreadsheets",
        None,
    )
    amount = df.get_column("amount")
    amount = amount.zip_with(~positive_return, -amount)
    columns = [
        amount
        if c == "amount"
        else is_return.alias("is_return")
        if c == "is_return"
        else df.get_column(c)
        for c in CANONICAL
    ]
    kept = pl.DataFrame(columns).filter(~r.excluded)
    return kept, r.results, ~r.excluded
