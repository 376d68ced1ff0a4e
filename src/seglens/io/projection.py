"""The loader's main projection: every parsed column, helper column and rule mask, in one pass.

:func:`build_frame` decides on the first rows (:data:`SAMPLE_ROWS`) how each mapped column is
read, and returns one lazy Polars projection holding the canonical columns, the source values
of checked fields (``__raw_*``), the line hash, the empty-line markers and every rule's mask
(:func:`seglens.io.cleaning.mask_exprs`, from the rule table in :mod:`seglens.io.rules`). The
masks are row-wise, so the streaming engine computes them on each batch while it is in cache.
Each part is a small function that returns its expressions (and what it decided); only
:func:`build_frame` assembles them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Final

import polars as pl

from seglens.errors import DataError
from seglens.io.cleaning import LINE, RuleContext, mask_exprs, raw_name
from seglens.io.config import IngestOptions
from seglens.io.customers import whole_numbers
from seglens.io.duplicates import judge_duplicates
from seglens.io.fixups import empty_row_exprs
from seglens.io.mapping import NO_ORDER_ID_NOTE, Layout, derived_order_id
from seglens.io.numbers import NumberMode, sample_decimal
from seglens.io.parsing import (
    TWO_DIGIT_YEARS,
    DateFormat,
    bool_expr,
    detect_date_format,
    finite,
    id_decimal_mode,
    id_expr,
    needs_careful_numbers,
    number_expr,
    swap_day_month,
    text_expr,
    timestamp_expr,
)
from seglens.io.report import MappedColumn
from seglens.io.rules import FrameFacts
from seglens.io.sources_base import ROW, SHEET, RawSource

__all__ = [
    "NO_ROWS_KEPT",
    "SAMPLE_ROWS",
    "Plan",
    "build_frame",
    "date_orders_error",
    "date_warnings",
    "day_month_warnings",
    "has_order_id",
    "return_prefix",
    "rule_context",
    "text_fields",
]

SAMPLE_ROWS: Final = 100_000
"""The first rows, on which every reading decision is taken."""
NO_ROWS_KEPT: Final = "no rows were kept: every line was excluded by a rule above"
"""The report's warning when the rules excluded every line (every engine)."""
_STRIPPED_ID: Final = "__seglens_cid_stripped"
_TEXT_FIELDS: Final = ("product_id", "category", "channel")


@dataclass
class Plan:
    """What the eager steps after the main projection need to know about it."""

    number_modes: dict[str, NumberMode] = field(default_factory=dict)
    """Text number fields and how they were read."""
    date_format: str | None = None
    """The format of a text timestamp column parsed unstripped (its misses are re-read)."""
    date_other: str | None = None
    """That format with day and month swapped, when the first rows read either way (later
    rows may show the column is written the other way: :func:`day_month_warnings`)."""
    numeric_ids: bool = False
    """The customer id column is numeric: its ids are read from the source column."""
    masks: list[list[pl.Expr]] = field(default_factory=list)
    """The rule-mask expressions added to the projection (re-run on patched rows)."""
    facts: FrameFacts = field(default_factory=lambda: FrameFacts(frozenset(), "text"))
    """What the rule masks were built for (the rules read the same)."""
    details: dict[str, Any] = field(default_factory=dict)
    """Report details decided here (``timestamp_format``, ``decimal_comma``)."""


@dataclass(frozen=True)
class _Input:
    """The source, its schema, the mapped source column of each field and the sample."""

    raw: RawSource
    schema: pl.Schema
    src: dict[str, str]
    sample: pl.DataFrame | None
    opts: IngestOptions

    def sampled(self, fld: str) -> pl.Series | None:
        """The sample of a text column (None for typed columns: nothing to decide)."""
        col = self.src[fld]
        if self.schema[col] != pl.String or self.sample is None:
            return None
        return self.sample.get_column(col)

    def raw_text(self, fld: str) -> pl.Expr:
        return pl.col(self.src[fld]).alias(raw_name(fld))

    def text(self, fld: str) -> pl.Expr:
        col = self.src[fld]
        return text_expr(col, self.schema[col], self.sampled(fld)).alias(fld)


def _id_exprs(inp: _Input) -> tuple[list[pl.Expr], list[pl.Expr], bool]:
    """Customer ids: (columns added before the projection, projected expressions, whether the
    ids are whole numbers of a numeric column). ``__id_fixed`` marks ids written as decimals."""
    cid = inp.src["customer_id"]
    dtype = inp.schema[cid]
    values = inp.sampled("customer_id")
    mode = id_decimal_mode(values) if values is not None else "none"
    pre: list[pl.Expr] = []
    numeric = dtype.is_float() or (dtype.is_integer() and dtype != pl.UInt64)
    if numeric:
        exprs = [whole_numbers(cid, dtype).alias("__cid_int")]
    elif dtype == pl.String:
        # one strip, shared by the id and its decimal-suffix flag
        pre.append(pl.col(cid).str.strip_chars().alias(_STRIPPED_ID))
        ids = id_expr(_STRIPPED_ID, pl.String(), decimals=mode, missing=False, stripped=True)
        exprs = [ids.alias("customer_id")]
    else:
        exprs = [id_expr(cid, dtype, decimals=mode, missing=False).alias("customer_id")]
    exprs.append(inp.raw_text("customer_id"))
    if dtype == pl.String and mode == "suffix":
        fixed = pl.col(_STRIPPED_ID).str.ends_with(".0").fill_null(False)
    elif dtype == pl.String and mode == "regex":
        fixed = pl.col(cid).str.contains(r"^\s*-?\d+\.0+\s*$").fill_null(False)
    elif dtype.is_float():
        fixed = pl.col(cid).is_not_null()
    else:
        fixed = pl.lit(False)
    exprs.append(fixed.alias("__id_fixed"))
    return pre, exprs, numeric


def _order_exprs(inp: _Input, mapping: dict[str, MappedColumn]) -> tuple[list[pl.Expr], list[str]]:
    """The order id (and its source text), or one made up per customer and time (warned)."""
    if mapping["order_id"].how == "derived":  # no order column: one order per customer and time
        order = derived_order_id(inp.src["customer_id"], inp.src["timestamp"])
        return [order.alias("order_id"), order.alias(raw_name("order_id"))], [NO_ORDER_ID_NOTE]
    return [inp.text("order_id"), inp.raw_text("order_id")], []


def _timestamp_exprs(inp: _Input) -> tuple[list[pl.Expr], DateFormat | None, list[str]]:
    """The timestamp read in the format detected on the sample: (expressions, the format of a
    text column, warnings about ambiguous day/month order or two-digit years)."""
    ts = inp.src["timestamp"]
    values = inp.sampled("timestamp")
    fmt = None
    if values is not None:
        preferred = inp.opts.date_format
        fmt = detect_date_format(values, preferred=preferred)
        if fmt is None and preferred is not None:
            raise _format_matches_nothing(inp.raw, ts, values, preferred)
    warnings = date_warnings(ts, fmt)
    parsed = timestamp_expr(ts, inp.schema[ts], fmt, strip=False).alias("timestamp")
    return [parsed, inp.raw_text("timestamp")], fmt, warnings


def date_warnings(column: str, fmt: DateFormat | None) -> list[str]:
    """The report's warnings about how a text date column is read (every engine says the same):
    day and month could be swapped (the format detected on the first rows reads each of their
    first 2,000 distinct dates day-first and month-first alike: every day is 12 or less), and
    two-digit years (read with the :data:`~seglens.io.parsing.TWO_DIGIT_YEARS` pivot).

    >>> date_warnings("Date", DateFormat("%d/%m/%Y", 1.0, "%m/%d/%Y"))[0].split(";")[0]
    "dates in 'Date' read as %d/%m/%Y"
    >>> date_warnings("Date", DateFormat("%Y-%m-%d", 1.0))
    []
    """
    if fmt is None:
        return []
    warnings = []
    if fmt.ambiguous_with:
        warnings.append(
            f"dates in {column!r} read as {fmt.format}; they could also be "
            f"{fmt.ambiguous_with} — set date_format if that is wrong"
        )
    if "%y" in fmt.format:
        warnings.append(
            f"dates in {column!r} have two-digit years ({fmt.format}), read as "
            f"{TWO_DIGIT_YEARS}; give --date-format with %Y if that is wrong"
        )
    return warnings


def _order(fmt: str) -> str:
    return "month first" if fmt.index("%m") < fmt.index("%d") else "day first"


def day_month_warnings(column: str, fmt: str, line: str, value: str) -> list[str]:
    """The report's warnings when the first rows read the dates either way (every day 12 or
    less) and a later value reads only with day and month swapped, as the whole column does:
    the column is read as ``fmt`` (every value), and ``line`` (``"line 2,103"``) holds the
    first ``value`` that decided it. Every engine says the same.

    >>> day_month_warnings("Date", "%m/%d/%Y", "line 9", "04/13/2011")[0].split(":")[0]
    "dates in 'Date' read as %m/%d/%Y, month first"
    """
    order = _order(fmt)
    return [
        f"dates in {column!r} read as {fmt}, {order}: the first rows read either way (every "
        f"day 12 or less), and {line} ({value!r}) reads only {order}, as every date in the "
        "column does — set date_format if that is wrong",
        *date_warnings(column, DateFormat(fmt, 1.0)),
    ]


def date_orders_error(
    source: str, column: str, fmt: str, found: list[tuple[int, str, str]], line_word: str
) -> DataError:
    """The error when a text date column reads neither day first nor month first throughout:
    ``found`` holds (line, value, the only format reading it) for the first value of each
    order (``fmt`` the format detected on the first rows). Every engine raises the same."""
    found = sorted(found)
    shown = "; ".join(f"{line_word} {n:,} reads only {_order(f)}" for n, _, f in found)
    return DataError(
        f"dates in {column!r} are written both day first and month first ({shown}): "
        "no order reads every date",
        source=source,
        column=column,
        lines=tuple(n for n, _, _ in found),
        values=tuple(v for _, v, _ in found),
        hint=f"say which order the column uses with --date-format (e.g. {fmt!r} or "
        f"{swap_day_month(fmt)!r}): dates written the other way are then unreadable, so fix "
        "those lines first",
    )


def _number(inp: _Input, fld: str) -> tuple[pl.Expr, NumberMode | None]:
    """A number field and, for a text column, how its sample says to read it."""
    col = inp.src[fld]
    values = inp.sampled(fld)
    if values is None:
        return number_expr(col, inp.schema[col], strip=False), None
    point, comma = sample_decimal(values)
    explicit = inp.opts.decimal is not None
    decimal_comma = inp.opts.decimal == "," if explicit else comma and not point
    careful = needs_careful_numbers(values)
    mode = NumberMode(
        decimal_comma,
        unstripped=not (decimal_comma or careful),
        careful=careful,
        explicit=explicit,
        sample_point=point,
        sample_comma=comma,
    )
    expr = number_expr(
        col, inp.schema[col], decimal_comma=decimal_comma, careful=careful, strip=False
    )
    return expr, mode


def _amount_exprs(inp: _Input, derived: bool) -> tuple[list[pl.Expr], dict[str, NumberMode]]:
    """Quantity, unit price and amount (unless derived from the first two), with the source
    values shown for unreadable ones; and how each text number column is read."""
    modes: dict[str, NumberMode] = {}
    parsed: dict[str, pl.Expr] = {}
    for fld in ("quantity", "unit_price") if derived else ("quantity", "unit_price", "amount"):
        if fld in inp.src:
            parsed[fld], mode = _number(inp, fld)
            if mode is not None:
                modes[fld] = mode
    exprs = [parsed.get("quantity", pl.lit(None, pl.Float64)).alias("quantity")]
    if "unit_price" in parsed:
        exprs += [parsed["unit_price"].alias("__unit_price"), inp.raw_text("unit_price")]
    # the source quantity is shown only for unreadable quantities (and re-read when text); an
    # integer column reads exactly, null where null, so its parsed column serves
    if "quantity" in parsed and not inp.schema[inp.src["quantity"]].is_integer():
        exprs.append(inp.raw_text("quantity"))
    if not derived:
        exprs += [parsed["amount"].alias("amount"), inp.raw_text("amount")]
    return exprs, modes


def _line_exprs(raw: RawSource, schema: pl.Schema) -> list[pl.Expr]:
    """The exact-duplicate hash of each line and the empty-line markers."""
    # Exact duplicate lines: a 64-bit hash of the whole line (every source column, each hashed
    # with its own seed, summed), first occurrence kept. Far faster than comparing row structs;
    # two different lines collide with probability ~ n^2 / 2^65 (< 3e-6 for 10 M lines).
    line_hash = pl.sum_horizontal(pl.col(c).hash(seed=i + 1) for i, c in enumerate(raw.columns))
    return [
        line_hash.alias("__hash"),
        *empty_row_exprs(raw.columns, schema[raw.columns[0]] == pl.String),
    ]


def build_frame(
    raw: RawSource, mapping: dict[str, MappedColumn], opts: IngestOptions, layout: Layout | None
) -> tuple[pl.LazyFrame, list[str], Plan, RuleContext]:
    """Lazy frame with canonical columns, raw values of checked fields, the line hash and every
    rule's mask; the warnings, what later steps need (:class:`Plan`), and the rules' context
    (its cancellation prefix is detected on the same sample).

    Only columns something reads are carried: unmapped optional columns are made null at the
    end, and line numbers come from row positions unless the reader numbers rows otherwise.
    """
    schema = raw.frame.collect_schema()
    src = {k: m.source for k, m in mapping.items() if m.how != "derived"}
    cols = sorted(set(src.values()))
    sample = raw.frame.select(cols).head(SAMPLE_ROWS).collect() if cols else None
    inp = _Input(raw, schema, src, sample, opts)
    exprs: list[pl.Expr] = []
    if not raw.row_is_position:
        exprs.append((pl.col(ROW).cast(pl.Int64) + raw.first_line).alias(LINE))
    if SHEET in schema:
        exprs.append(pl.col(SHEET))
    pre, id_exprs, numeric = _id_exprs(inp)
    order_exprs, warnings = _order_exprs(inp, mapping)
    ts_exprs, date_fmt, ts_warnings = _timestamp_exprs(inp)
    derived = mapping["amount"].how == "derived"
    amount_exprs, modes = _amount_exprs(inp, derived)
    exprs += [*id_exprs, *order_exprs, *ts_exprs, *amount_exprs]
    # unmapped optional columns are not carried: the canonical table gets them as nulls
    exprs += [inp.text(fld) for fld in _TEXT_FIELDS if fld in src]
    if "is_return" in src:
        exprs.append(bool_expr(src["is_return"], schema[src["is_return"]]).alias("is_return"))
    exprs += _line_exprs(raw, schema)
    frame = (raw.frame.with_columns(pre) if pre else raw.frame).select(exprs)
    present = {e.meta.output_name() for e in exprs}
    frame = frame.with_columns(
        finite(c) for c in ("quantity", "__unit_price", "amount") if c in present
    )
    if derived:
        frame = frame.with_columns((pl.col("quantity") * pl.col("__unit_price")).alias("amount"))
    orders = (
        sample.get_column(src["order_id"]) if sample is not None and "order_id" in src else None
    )
    ctx = rule_context(raw, mapping, opts, return_prefix(opts, layout, orders))
    plan = _plan(raw, mapping, frame, ctx, numeric=numeric, date=date_fmt, modes=modes)
    for stage in plan.masks:
        frame = frame.with_columns(stage)
    return frame, warnings + ts_warnings, plan, ctx


def _plan(
    raw: RawSource,
    mapping: dict[str, MappedColumn],
    frame: pl.LazyFrame,
    ctx: RuleContext,
    *,
    numeric: bool,
    date: DateFormat | None,
    modes: dict[str, NumberMode],
) -> Plan:
    """The plan of a projection: its rule masks, reading modes and report details."""
    cid_type = raw.frame.collect_schema()[mapping["customer_id"].source]
    facts = FrameFacts(
        columns=frozenset(frame.collect_schema().names()),
        ids=("float" if cid_type.is_float() else "integer") if numeric else "text",
        text_fields=text_fields(raw, mapping),
        lossy=raw.lossy_frame is None
        and raw.format == "csv"
        and raw.details.get("encoding") in {"utf-8", "utf-8-sig"},
    )
    details: dict[str, Any] = {}
    if date is not None:
        details["timestamp_format"] = date.format
    commas = [mapping[f].source for f, m in modes.items() if m.decimal_comma]
    if commas:
        details["decimal_comma"] = commas
    return Plan(
        number_modes=modes,
        date_format=date.format if date else None,
        date_other=date.ambiguous_with if date else None,
        numeric_ids=numeric,
        masks=mask_exprs(ctx, facts),
        facts=facts,
        details=details,
    )


def return_prefix(
    opts: IngestOptions, layout: Layout | None, orders: pl.Series | None
) -> str | None:
    """The cancellation prefix: configured, from the layout, or detected (``C`` + digits)."""
    if opts.return_prefix != "auto":
        return opts.return_prefix or None
    if layout is not None:
        return layout.return_prefix
    if orders is None:
        return None
    text = orders.cast(pl.String).str.strip_chars().drop_nulls()
    if text.len() == 0:
        return None
    digits = int(text.str.contains(r"^\d+$").sum())
    prefixed = int(text.str.contains(r"^C\d+$").sum())
    return "C" if prefixed > 0 and digits >= text.len() / 2 else None


def _format_matches_nothing(raw: RawSource, column: str, values: pl.Series, fmt: str) -> DataError:
    """The error when no date of the first rows reads with the format the user gave."""
    present = values.cast(pl.String).str.strip_chars()
    idx = (present.is_not_null() & (present != "")).arg_true().head(3)
    return DataError(
        f"no date in the first rows reads with the date format {fmt!r}",
        source=raw.name,
        column=column,
        lines=tuple(int(i) + raw.first_line for i in idx) if raw.row_is_position else (),
        values=tuple(values.gather(idx).to_list()),
        hint="check the format (%d day, %m month, %Y four-digit year, %y two-digit year, "
        "%H:%M time), or leave --date-format out to have the format detected",
    )


def rule_context(
    raw: RawSource, mapping: dict[str, MappedColumn], opts: IngestOptions, prefix: str | None
) -> RuleContext:
    """What the cleaning rules need besides the frame (the same on every engine)."""
    return RuleContext(
        source=raw.name,
        line_word="line" if raw.first_line == 2 else "row",
        source_columns={k: m.source for k, m in mapping.items()},
        as_of=opts.as_of,
        non_product_codes=opts.non_product_codes,
        drop_duplicates=judge_duplicates(
            opts.drop_duplicates, raw.columns, has_order_id=has_order_id(mapping)
        )[0],
        drop_zero_price=opts.drop_zero_price,
        drop_non_product=opts.drop_non_product,
        return_prefix=prefix,
        max_bad_fraction=opts.max_bad_fraction,
        first_line=raw.first_line,
    )


def text_fields(raw: RawSource, mapping: dict[str, MappedColumn]) -> tuple[str, ...]:
    """Kept fields read from text columns: checked for formula-looking values (=, +, @ first)
    and, after a lenient rescan, for U+FFFD (the ``formula_like_value`` and ``invalid_utf8``
    rules)."""
    schema = raw.frame.collect_schema()
    return tuple(
        f
        for f in ("customer_id", *_TEXT_FIELDS)
        if f in mapping and schema.get(mapping[f].source) == pl.String
    )


def has_order_id(mapping: dict[str, MappedColumn]) -> bool:
    """Whether the order id comes from a source column (not absent, not made up)."""
    return "order_id" in mapping and mapping["order_id"].how != "derived"
