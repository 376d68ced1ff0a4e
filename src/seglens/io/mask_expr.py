"""The expression vocabulary of the cleaning rules' row masks, and its Polars compiler.

A :class:`Mask` is a small tree (columns, constants, null tests, comparisons, ``and``/``or``/
``not``, prefix and substring tests, set membership, upper case, finiteness, null read as
false) that each engine compiles to its own expressions: :func:`to_polars` here, and
:func:`seglens.io.spark_cleaning.to_spark` on Spark. Keeping the vocabulary this small is what
lets one definition of each mask run on both engines with equal results (a test compiles every
operation on both and compares).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import reduce
from typing import Any, Final

import polars as pl

__all__ = ["OPS", "Mask", "any_of", "codes_mask", "col", "lit", "to_polars"]


@dataclass(frozen=True)
class Mask:
    """A row-wise boolean (or value) expression in the vocabulary both engines compile.

    ``op`` is one of :data:`OPS`; ``args`` its operands (masks or Python values).
    """

    op: str
    args: tuple[Any, ...] = ()

    def __and__(self, other: Mask) -> Mask:
        return Mask("and", (self, other))

    def __or__(self, other: Mask) -> Mask:
        return Mask("or", (self, other))

    def __invert__(self) -> Mask:
        return Mask("not", (self,))

    def is_null(self) -> Mask:
        return Mask("is_null", (self,))

    def lt(self, value: object) -> Mask:
        return Mask("lt", (self, value))

    def gt(self, value: object) -> Mask:
        return Mask("gt", (self, value))

    def ge(self, value: object) -> Mask:
        return Mask("ge", (self, value))

    def eq(self, value: object) -> Mask:
        return Mask("eq", (self, value))

    def starts_with(self, text: str) -> Mask:
        return Mask("starts_with", (self, text))

    def contains(self, text: str) -> Mask:
        """Literal substring test."""
        return Mask("contains", (self, text))

    def is_in(self, values: Sequence[str]) -> Mask:
        return Mask("is_in", (self, tuple(values)))

    def upper(self) -> Mask:
        return Mask("upper", (self,))

    def is_finite(self) -> Mask:
        return Mask("is_finite", (self,))

    def or_false(self) -> Mask:
        """Null read as false."""
        return Mask("or_false", (self,))


OPS: Final = frozenset(
    {"col", "lit", "and", "or", "not", "is_null", "lt", "gt", "ge", "eq"}
    | {"starts_with", "contains", "is_in", "upper", "is_finite", "or_false"}
)


def col(name: str) -> Mask:
    """A column of the parsed frame."""
    return Mask("col", (name,))


def lit(value: object) -> Mask:
    """A constant."""
    return Mask("lit", (value,))


def any_of(masks: Iterable[Mask]) -> Mask:
    """True where any of ``masks`` is (Kleene ``or``); false for none."""
    return reduce(lambda a, b: a | b, masks, lit(False))


def to_polars(mask: Mask) -> pl.Expr:
    """The Polars expression of ``mask``."""
    op, a = mask.op, mask.args
    if op == "col":
        return pl.col(a[0])
    if op == "lit":
        return pl.lit(a[0])
    if op == "and":
        return to_polars(a[0]) & to_polars(a[1])
    if op == "or":
        if a[0].op == "lit" and a[0].args[0] is False:  # any_of's start
            return to_polars(a[1])
        return to_polars(a[0]) | to_polars(a[1])
    inner = to_polars(a[0])
    simple: dict[str, Callable[[], pl.Expr]] = {
        "not": lambda: ~inner,
        "is_null": inner.is_null,
        "lt": lambda: inner < a[1],
        "gt": lambda: inner > a[1],
        "ge": lambda: inner >= a[1],
        "eq": lambda: inner == a[1],
        "starts_with": lambda: inner.str.starts_with(a[1]),
        "contains": lambda: inner.str.contains(a[1], literal=True),
        "is_in": lambda: inner.is_in(list(a[1])),
        "upper": inner.str.to_uppercase,
        "is_finite": inner.is_finite,
        "or_false": lambda: inner.fill_null(False),
    }
    return simple[op]()


def codes_mask(column: str, codes: Sequence[str]) -> Mask:
    """Whether a product code is in ``codes`` (case-insensitive; ``*`` = prefix match).

    Exact codes are matched in their upper, lower, title and given case (cheap hash lookups,
    no per-row case folding); prefixes are matched on the upper-cased code.
    """
    exact = [c for c in codes if not c.endswith("*")]
    variants = sorted({v for c in exact for v in (c, c.upper(), c.lower(), c.title())})
    code = col(column)  # already stripped
    mask = code.is_in(variants)
    prefixes = [c[:-1].upper() for c in codes if c.endswith("*")]
    if prefixes:
        upper = code.upper()
        mask = mask | any_of(upper.starts_with(p) for p in prefixes)
    return mask.or_false()
