"""The cleaning rules as data: one table of rule specs and one of row masks, for every engine.

A rule is one :class:`RuleSpec` entry in :data:`RULES` (name, action, message, the field its
examples show, whether it excludes rows) naming a mask in :data:`MASKS`. A mask is a
:class:`~seglens.io.mask_expr.Mask` in a tiny expression vocabulary (columns, literals, null
tests, comparisons, ``and``/``or``/``not``, prefix and substring tests, set membership) that
each engine compiles: :func:`~seglens.io.mask_expr.to_polars` (the embedded loader adds the
masks to its streaming projection) and :func:`seglens.io.spark_cleaning.to_spark`. So both
engines apply the same rules, in the same order, with the same messages, from this one
definition.

The masks read the *parsed* columns (``timestamp``, ``amount``, ``quantity``, ``order_id``,
``customer_id``, ``product_id``…, ``__unit_price``, the source id ``__raw_customer_id``, the
whole-number id ``__cid_int`` and the decimal-id flag ``__id_fixed``); parsing is the engines'
job. Masks come in two stages: the second reads the first's results (``__m_<name>``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final, Literal

from seglens.io.mask_expr import Mask, any_of, codes_mask, col, lit
from seglens.io.parsing import MISSING_TOKENS

if TYPE_CHECKING:
    from seglens.io.cleaning import RuleContext
    from seglens.io.report import Action

__all__ = [
    "DUPLICATES",
    "EARLIEST_YEAR",
    "MASK",
    "MASKS",
    "RULES",
    "FrameFacts",
    "MaskSpec",
    "RuleSpec",
    "latest_plausible",
    "mask_columns",
    "raw_name",
]

MASK: Final = "__m_"
"""Prefix of the rule-mask columns (``__m_<mask name>``)."""
DUPLICATES: Final = "duplicate"
"""The mask each engine computes itself (exact copies of an earlier line: a sort or a window)."""
EARLIEST_YEAR: Final = 1900
"""Timestamps before this year are reported as implausible (``implausible_year``)."""


def latest_plausible() -> dt.datetime:
    """Timestamps after this (a year from today) are reported as implausible."""
    return dt.datetime.combine(dt.date.today() + dt.timedelta(days=366), dt.time.min)


def raw_name(field: str) -> str:
    """Name of the helper column holding the source text of a parsed field."""
    return f"__raw_{field}"


# -- the masks ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class FrameFacts:
    """What the masks need to know about the parsed frame besides the options."""

    columns: frozenset[str]
    """Parsed columns present (an unmapped optional field is absent)."""
    ids: Literal["text", "integer", "float"]
    """How customer ids are held: parsed text (``customer_id``) or whole numbers
    (``__cid_int``, with the source values in ``__raw_customer_id``)."""
    text_fields: tuple[str, ...] = ()
    """Fields read from text columns (checked for formula-like values)."""
    lossy: bool = False
    """Invalid UTF-8 was replaced by U+FFFD (the ``invalid_utf8`` rule looks for it)."""

    @property
    def price(self) -> str:
        """The column a zero price is judged on: the unit price, else the amount."""
        return "__unit_price" if "__unit_price" in self.columns else "amount"


MaskDef = Callable[["RuleContext", FrameFacts], Mask | None]


@dataclass(frozen=True)
class MaskSpec:
    """A named row mask (``None`` from ``define``: not computed for this frame)."""

    name: str
    stage: int
    define: MaskDef


def _customer_missing(ctx: RuleContext, f: FrameFacts) -> Mask:
    if f.ids == "text":
        ids = col("customer_id")
        return (ids.is_null() | ids.is_in(MISSING_TOKENS)).or_false()
    missing = col("__cid_int").is_null()
    if f.ids == "float":  # a finite non-whole id is kept as written
        missing = missing & ~col(raw_name("customer_id")).is_finite().or_false()
    return missing


def _non_product(ctx: RuleContext, f: FrameFacts) -> Mask | None:
    if "product_id" not in ctx.source_columns or not ctx.non_product_codes:
        return None
    return codes_mask("product_id", ctx.non_product_codes)


def _implausible(ctx: RuleContext, f: FrameFacts) -> Mask:
    ts = col("timestamp")
    early = ts.lt(dt.datetime(EARLIEST_YEAR, 1, 1))
    return (early | ts.ge(latest_plausible())).or_false()


def _formula(ctx: RuleContext, f: FrameFacts) -> Mask:
    if not f.text_fields:
        return lit(False)
    starts = (col(x).starts_with(p) for x in f.text_fields for p in ("=", "+", "@"))
    return any_of(starts).or_false()


def _bad_utf8(ctx: RuleContext, f: FrameFacts) -> Mask:
    if not (f.text_fields and f.lossy):
        return lit(False)
    return any_of(col(x).contains("\ufffd") for x in f.text_fields).or_false()


def _m(name: str) -> Mask:
    return col(MASK + name)


def _flagged(ctx: RuleContext) -> Mask:
    """Lines marked as returns: a cancellation, or the source's return flag."""
    return (_m("cancel") | _m("source_return")) if ctx.return_prefix else _m("source_return")


MASKS: Final[tuple[MaskSpec, ...]] = (
    MaskSpec("timestamp", 1, lambda ctx, f: col("timestamp").is_null()),
    MaskSpec("amount", 1, lambda ctx, f: col("amount").is_null()),
    MaskSpec("order_id", 1, lambda ctx, f: col("order_id").is_null()),
    MaskSpec("customer_id", 1, _customer_missing),
    MaskSpec("non_product", 1, _non_product),
    # the line's value, not its unit price: a quantity of 0 is a zero-value line too, and a
    # canonical table (no unit price) is then judged as its source was (re-loading is identity)
    MaskSpec("zero", 1, lambda ctx, f: col("amount").eq(0).or_false()),
    MaskSpec(
        "late",
        1,
        lambda ctx, f: None if ctx.as_of is None else col("timestamp").gt(ctx.as_of).or_false(),
    ),
    MaskSpec("implausible", 1, _implausible),
    MaskSpec(
        "cancel",
        1,
        lambda ctx, f: (
            col("order_id").starts_with(ctx.return_prefix).or_false() if ctx.return_prefix else None
        ),
    ),
    MaskSpec(
        "source_return",
        1,
        lambda ctx, f: (
            col("is_return").or_false() if "is_return" in ctx.source_columns else lit(False)
        ),
    ),
    MaskSpec(
        "below_zero",
        1,
        lambda ctx, f: col("amount").lt(0).or_false() | col("quantity").lt(0).or_false(),
    ),
    MaskSpec("positive", 1, lambda ctx, f: col("amount").gt(0).or_false()),
    MaskSpec("id_fixed", 1, lambda ctx, f: col("__id_fixed").or_false()),
    MaskSpec("bad_utf8", 1, _bad_utf8),
    MaskSpec("formula", 1, _formula),
    # second stage: cancellations and the source's flag are returns; other negative lines too
    MaskSpec(
        "return_flag",
        2,
        lambda ctx, f: (
            (_m("source_return") & ~_m("cancel")) if ctx.return_prefix else _m("source_return")
        ),
    ),
    MaskSpec("negative", 2, lambda ctx, f: _m("below_zero") & ~_flagged(ctx)),
    MaskSpec("is_return", 2, lambda ctx, f: _flagged(ctx) | _m("below_zero")),
    MaskSpec("return_sign", 2, lambda ctx, f: (_flagged(ctx) | _m("below_zero")) & _m("positive")),
)
"""Every row mask, in evaluation order."""


def mask_columns(ctx: RuleContext, facts: FrameFacts) -> list[list[tuple[str, Mask]]]:
    """The masks computed for this frame, by stage, as (column name, mask) pairs."""
    stages: list[list[tuple[str, Mask]]] = [[], []]
    for spec in MASKS:
        mask = spec.define(ctx, facts)
        if mask is not None:
            stages[spec.stage - 1].append((MASK + spec.name, mask))
    return stages


# -- the rules ---------------------------------------------------------------------------------


def _list_codes(codes: Sequence[str]) -> str:
    return ", ".join(codes[:12]) + (", …" if len(codes) > 12 else "")


Text = Callable[["RuleContext", FrameFacts], str]


@dataclass(frozen=True)
class RuleSpec:
    """One cleaning rule: what it is called, which mask it reads, what it does and says.

    ``action``, ``message`` and ``exclude`` may depend on the options (``ctx``); ``field`` names
    the column its examples show (None: none); ``listed`` says whether the rule appears in the
    report at all for this frame. A rule whose mask was not computed is reported as
    ``not_applied`` with its message.
    """

    name: str
    mask: str
    message: str | Text
    action: Action | Callable[[RuleContext], Action] = "flagged"
    field: str | Callable[[FrameFacts], str] | None = None
    exclude: bool | Callable[[RuleContext], bool] = False
    listed: Callable[[RuleContext], bool] = lambda ctx: True

    def action_for(self, ctx: RuleContext) -> Action:
        return self.action if isinstance(self.action, str) else self.action(ctx)

    def message_for(self, ctx: RuleContext, facts: FrameFacts) -> str:
        return self.message if isinstance(self.message, str) else self.message(ctx, facts)

    def field_for(self, facts: FrameFacts) -> str | None:
        return self.field(facts) if callable(self.field) else self.field

    def excludes(self, ctx: RuleContext) -> bool:
        return self.exclude if isinstance(self.exclude, bool) else self.exclude(ctx)


def _dup_message(ctx: RuleContext, f: FrameFacts) -> str:
    what = "exact copy of an earlier line (every source column equal); "
    if ctx.drop_duplicates:
        return what + "the first copy is kept, the repeats excluded"
    return what + "kept because drop_duplicates is off"


def _non_product_message(ctx: RuleContext, f: FrameFacts) -> str:
    return (
        "product code is a non-product code (postage, fees, discounts, adjustments: "
        f"{_list_codes(ctx.non_product_codes)})"
        + ("; excluded" if ctx.drop_non_product else "; kept")
    )


def _zero_message(ctx: RuleContext, f: FrameFacts) -> str:
    return (
        "value is zero (quantity × unit price)" if f.price != "amount" else "amount is zero"
    ) + ("; excluded (no money changed hands)" if ctx.drop_zero_price else "; kept")


def _late_message(ctx: RuleContext, f: FrameFacts) -> str:
    if ctx.as_of is None:
        return "no as-of date given; no timestamp cut-off"
    return f"timestamp after the as-of date {ctx.as_of.isoformat(sep=' ')}; excluded"


def _cancel_message(ctx: RuleContext, f: FrameFacts) -> str:
    if not ctx.return_prefix:
        return "no cancellation prefix for order ids in this layout"
    return (
        f"order id starts with {ctx.return_prefix!r} (a cancellation); kept as a return "
        "(is_return = true)"
    )


def _implausible_message(ctx: RuleContext, f: FrameFacts) -> str:
    return (
        f"timestamp before {EARLIEST_YEAR} or more than a year from today "
        f"({latest_plausible():%Y-%m-%d}): a typo or a misread date? kept"
    )


def _kept_or_excluded(drop: Callable[[RuleContext], bool]) -> Callable[[RuleContext], Action]:
    return lambda ctx: "excluded" if drop(ctx) else "kept"


RULES: Final[tuple[RuleSpec, ...]] = (
    RuleSpec(
        "unparseable_timestamp",
        "timestamp",
        "timestamp missing or not a date in the detected format; row excluded",
        "excluded",
        "timestamp",
        exclude=True,
    ),
    RuleSpec(
        "unparseable_amount",
        "amount",
        "amount (or quantity × unit price) missing or not a number; row excluded",
        "excluded",
        lambda f: "amount" if raw_name("amount") in f.columns else "unit_price",
        exclude=True,
    ),
    RuleSpec(
        "missing_order_id",
        "order_id",
        "order id missing; row excluded",
        "excluded",
        "order_id",
        exclude=True,
    ),
    RuleSpec(
        "missing_customer_id",
        "customer_id",
        "no customer id; the line cannot be attributed to a customer and is excluded",
        "excluded",
        "customer_id",
        exclude=True,
    ),
    RuleSpec(
        "duplicate_line",
        DUPLICATES,
        _dup_message,
        _kept_or_excluded(lambda ctx: ctx.drop_duplicates),
        "order_id",
        exclude=lambda ctx: ctx.drop_duplicates,
    ),
    RuleSpec(
        "non_product_code",
        "non_product",
        _non_product_message,
        _kept_or_excluded(lambda ctx: ctx.drop_non_product),
        "product_id",
        exclude=lambda ctx: ctx.drop_non_product,
    ),
    RuleSpec(
        "zero_price",
        "zero",
        _zero_message,
        _kept_or_excluded(lambda ctx: ctx.drop_zero_price),
        lambda f: "unit_price" if f.price != "amount" else "amount",
        exclude=lambda ctx: ctx.drop_zero_price,
    ),
    RuleSpec("after_as_of", "late", _late_message, "excluded", "timestamp", exclude=True),
    RuleSpec("implausible_year", "implausible", _implausible_message, "warned", "timestamp"),
    RuleSpec("cancellation", "cancel", _cancel_message, "flagged", "order_id"),
    RuleSpec(
        "return_flag",
        "return_flag",
        "the source's return column says return; kept with is_return = true",
        "flagged",
        "is_return",
        listed=lambda ctx: "is_return" in ctx.source_columns,
    ),
    RuleSpec(
        "negative_line",
        "negative",
        "negative quantity or amount on a line not otherwise marked as a return; kept as a "
        "return (is_return = true)",
        "flagged",
        "amount",
    ),
    RuleSpec(
        "return_sign",
        "return_sign",
        "return line with a positive amount; amount negated so returns net against purchases",
        "fixed",
        "amount",
    ),
    RuleSpec(
        "customer_id_decimal",
        "id_fixed",
        "customer id written as a decimal number (e.g. 17850.0); read as 17850",
        "fixed",
        "customer_id",
    ),
    RuleSpec(
        "invalid_utf8",
        "bad_utf8",
        "line has bytes that are not valid UTF-8 (mixed encodings); they were replaced "
        "with U+FFFD (checked in the columns seglens keeps)",
        "warned",
    ),
    RuleSpec(
        "formula_like_value",
        "formula",
        "a text field starts with =, + or @ (looks like a spreadsheet formula); kept as text, "
        "take care when exporting to spreadsheets",
        "warned",
    ),
)
"""Every cleaning rule, in report order (exclusions are attributed to the first rule)."""
