"""The embedded engine's cleaning on Spark: same mapping, parsing decisions, rules and messages.

:func:`clean_on_spark` turns a raw Spark DataFrame (a CSV read as text, a Parquet file, a
table) into the canonical transactions table, as :func:`seglens.io.load_transactions` does:

- the column mapping and layout come from :func:`seglens.io.mapping.resolve_mapping`;
- how each column is read (date format, decimal comma, ids written as ``12346.0``, the
  cancellation prefix, whether text is stripped) is decided by the embedded engine's own
  functions on the same sample (the first 100,000 rows);
- the separators of every text number column are then checked on all of its values with the
  embedded engine's rule (:func:`seglens.io.numbers.number_verdict`; each distinct value
  classed once, in one Spark job over the parsed lines): a column mixing ``1,234.56`` and
  ``1.234,56``, or whose only separators could be thousands or decimals (``3.668``), stops
  with the embedded engine's message (examples instead of line numbers); a decimal comma
  first seen after the sample reads the column again with it;
- the cleaning rules and their masks are the table of :mod:`seglens.io.rules`, compiled to
  Spark columns by :func:`to_spark`; exact duplicate lines are judged on every source column.

What Spark cannot read the same way it refuses with a :class:`~seglens.errors.UsageError` or
:class:`~seglens.errors.DataError`, never a silently different table: date formats with
two-digit years, month names, AM/PM or time zones; single-byte encodings other than Latin-1
(and Windows-1252 without bytes 0x80-0x9F); blank-separated or header-less text; and any value
the detected format cannot read (the embedded engine re-reads those with every known format,
which Spark does not). Dates whose first rows read either way (every day 12 or less) are read
in the other day/month order when a later value reads only so, or refused when the column mixes
both orders, as the embedded engine does (one more pass; the line named is the value's position
in the file, as the embedded engine counts it, short by the blank lines before it, which
Spark's reader skips). Reading is :mod:`seglens.io.spark_reading`. Line numbers are not known
on Spark otherwise: the examples in its report are empty.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

import polars as pl

from seglens.errors import DataError, UsageError
from seglens.io.config import IngestOptions, check_applicable
from seglens.io.duplicates import judge_duplicates
from seglens.io.load import resolve_options
from seglens.io.mapping import resolve_mapping
from seglens.io.mask_expr import Mask
from seglens.io.numbers import (
    DECIMAL_HINT,
    MIXED_HINT,
    ambiguous_message,
    mixed_message,
    number_verdict,
    reread_warning,
)
from seglens.io.projection import (
    NO_ROWS_KEPT,
    date_orders_error,
    day_month_warnings,
    has_order_id,
    return_prefix,
    rule_context,
)
from seglens.io.report import CleaningReport, MappedColumn, RuleResult
from seglens.io.rules import (
    DUPLICATES,
    MASK,
    RULES,
    FrameFacts,
    mask_columns,
    raw_name,
)
from seglens.io.sources_base import RawSource
from seglens.io.spark_reading import (
    INGEST_FIRST,
    DateOrder,
    SparkRead,
    SparkText,
    first_rows,
    number_style,
    read_columns,
    read_spark_csv,
    refuse_derived,
    spark_date_pattern,
    spark_dates,
    spark_errors,
    spark_functions,
    src_col,
    strip_text,
)
from seglens.tables import TRANSACTIONS

__all__ = [
    "SparkCleaned",
    "clean_on_spark",
    "read_spark_csv",
    "spark_date_pattern",
    "spark_errors",
    "to_spark",
]

_LINE: Final = "__line"


def _lit(value: object) -> Any:
    sf = spark_functions()
    if isinstance(value, dt.datetime):  # naive: no Python-side time-zone conversion
        return sf.lit(value.isoformat(sep=" ")).cast("timestamp_ntz")
    return sf.lit(value)


def to_spark(mask: Mask) -> Any:
    """The Spark column of a rule mask (:mod:`seglens.io.rules`' vocabulary)."""
    sf = spark_functions()
    op, a = mask.op, mask.args
    if op == "col":
        return sf.col(a[0])
    if op == "lit":
        return _lit(a[0])
    if op in ("and", "or"):
        left, right = to_spark(a[0]), to_spark(a[1])
        return (left & right) if op == "and" else (left | right)
    c = to_spark(a[0])
    if op == "not":
        return ~c
    if op == "is_null":
        return c.isNull()
    if op in ("lt", "gt", "ge", "eq"):
        v = _lit(a[1])
        return {"lt": c < v, "gt": c > v, "ge": c >= v, "eq": c == v}[op]
    if op == "starts_with":
        return c.startswith(a[1])
    if op == "contains":
        return c.contains(a[1])
    if op == "is_in":
        return c.isin(list(a[1]))
    if op == "upper":
        return sf.upper(c)
    if op == "is_finite":
        return ~sf.isnan(c) & (sf.abs(c) != sf.lit(float("inf")))
    if op == "or_false":
        return sf.coalesce(c, sf.lit(False))
    raise ValueError(f"unknown mask operation {op!r}")


@dataclass(frozen=True)
class SparkCleaned:
    """The kept rows in canonical form (a Spark DataFrame) and the cleaning report."""

    table: Any
    report: CleaningReport


def _lines(frame: Any) -> Any:
    """The source rows with their position, empty lines marked, and duplicates: a row equal in
    every source column to an earlier one (the embedded engine hashes the same columns)."""
    from pyspark.sql import Window

    sf = spark_functions()
    cols = [src_col(c) for c in frame.columns]
    rest = sf.lit(True)
    for c in cols[1:]:
        rest = rest & c.isNull()
    first = cols[0].cast("string")
    empty = rest & (
        first.isNull() | (sf.regexp_replace(first, "^[ \t\r\x1a]+|[ \t\r\x1a]+$", "") == "")
    )
    window = Window.partitionBy(*cols).orderBy(_LINE)
    return (
        frame.withColumn(_LINE, sf.monotonically_increasing_id())
        .withColumn("__empty", sf.coalesce(empty, sf.lit(False)))
        .withColumn(MASK + DUPLICATES, sf.row_number().over(window) > 1)
    )


def _sum(c: Any) -> Any:
    sf = spark_functions()
    return sf.sum(sf.coalesce(c, sf.lit(False)).cast("long"))


def _rule_aggregates(ctx: Any, facts: FrameFacts, names: set[str]) -> tuple[list[Any], Any, Any]:
    """Per rule: rows matched and rows newly excluded (in rule order), as aggregate columns;
    also the rows excluded by every rule, and by every rule but the duplicates."""
    sf = spark_functions()
    aggs: list[Any] = []
    excluded, others = sf.lit(False), sf.lit(False)
    for spec in RULES:
        name = MASK + spec.mask
        if not spec.listed(ctx) or name not in names:
            continue
        mask = sf.coalesce(sf.col(name), sf.lit(False))
        aggs.append(_sum(mask).alias(f"rows:{spec.name}"))
        if spec.excludes(ctx):
            aggs.append(_sum(mask & ~excluded).alias(f"newly:{spec.name}"))
            excluded = excluded | mask
            others = others if spec.mask == DUPLICATES else others | mask
    return aggs, excluded, others


def _results(ctx: Any, facts: FrameFacts, names: set[str], counts: dict[str, Any]) -> list[Any]:
    out = []
    for spec in RULES:
        if not spec.listed(ctx):
            continue
        message = spec.message_for(ctx, facts)
        if MASK + spec.mask not in names:
            out.append(RuleResult(spec.name, "not_applied", 0, message))
            continue
        rows = int(counts[f"rows:{spec.name}"] or 0)
        newly = int(counts.get(f"newly:{spec.name}") or 0) if rows else 0
        out.append(RuleResult(spec.name, spec.action_for(ctx), rows, message, newly))
    return out


def _refuse_unreadable(parsed: Any, read: SparkRead, counts: dict[str, Any], source: str) -> None:
    """Values the detected format could not read: the embedded engine re-reads them with every
    known format (or the careful number path), Spark does not, so it stops rather than differ."""
    for name, column in read.checked:
        n = counts[f"unreadable:{name}"]
        if not n:
            continue
        rows = parsed.filter(_unreadable(name)).select(raw_name(_field_of(name))).limit(5)
        values = ", ".join(repr(str(r[0])) for r in rows.collect())
        raise DataError(
            f"{n:,} value(s) of {column!r} do not read with the format detected on the first "
            f"rows (e.g. {values}); the spark engine does not re-read them (Spark does not "
            "know line numbers: seglens ingest names their lines)",
            source=source,
            column=column,
            hint=INGEST_FIRST,
        )


def _day_month_order(lines: Any, read: SparkRead, ctx: Any) -> DateOrder | None:
    """The embedded loader's day/month check (``seglens.io.load``), on every line: when some
    value reads only with day and month swapped, the column is read that way if every value
    the detected format reads also reads so (None: nothing to change); else the error."""
    sf = spark_functions()
    fmt, other = read.date_format, read.date_other
    assert fmt is not None and other is not None
    text = sf.col(raw_name("timestamp")).cast("string")
    chosen, swapped = spark_dates(text, fmt), spark_dates(text, other)
    first = lines.select(
        sf.min(sf.when(swapped.isNotNull() & chosen.isNull(), sf.col(_LINE))).alias("other"),
        sf.min(sf.when(chosen.isNotNull() & swapped.isNull(), sf.col(_LINE))).alias("back"),
    ).first()
    if first["other"] is None:
        return None
    line, value = _located(lines, first["other"], ctx)
    column = ctx.source_columns["timestamp"]
    if first["back"] is not None:
        found = [(line, value, other), (*_located(lines, first["back"], ctx), fmt)]
        raise date_orders_error(ctx.source, column, fmt, found, ctx.line_word)
    return DateOrder(other, day_month_warnings(column, other, f"{ctx.line_word} {line:,}", value))


def _located(lines: Any, at: int, ctx: Any) -> tuple[int, str]:
    """The line number and source date of the line ``at``: its position in the file, counted
    as the embedded reader numbers lines (Spark's CSV reader skips blank lines, so after one
    the number is that many lines short)."""
    sf = spark_functions()
    value = lines.filter(sf.col(_LINE) == at).select(raw_name("timestamp")).first()[0]
    return lines.filter(sf.col(_LINE) < at).count() + ctx.first_line, str(value)


def _unreadable(name: str) -> Any:
    """Parsed value missing although the source value is not blank."""
    text = strip_text(spark_functions().col(raw_name(_field_of(name))).cast("string"))
    return spark_functions().col(name).isNull() & (text != "")


def _fatal(counts: dict[str, Any], ctx: Any, derived: bool, n: int) -> None:
    """The embedded loader's tolerance for rows without a date, an amount or an order id."""
    fields = ("timestamp", "quantity", "unit_price") if derived else ("timestamp", "amount")
    for fld in (*fields, "order_id"):
        count = int(counts.get(f"null:{fld}") or 0)
        if count == 0 or (count <= ctx.max_bad_fraction * n and count < n):
            continue
        raise DataError(
            f"{count:,} of {n:,} rows have missing or unreadable {fld} values "
            f"({count / n:.1%}; the tolerance is {ctx.max_bad_fraction:.1%})",
            source=ctx.source,
            column=ctx.source_columns.get(fld, fld),
            hint="fix or remove those rows (seglens ingest FILE names their lines)",
        )


def clean_on_spark(
    frame: Any,
    *,
    source: str = "Spark DataFrame",
    columns: str | Mapping[str, str] | None = None,
    config: str | os.PathLike[str] | Mapping[str, Any] | None = None,
    **options: Any,
) -> SparkCleaned:
    """Clean raw transactions on Spark exactly as :func:`seglens.io.load_transactions` does.

    Parameters
    ----------
    frame
        A Spark DataFrame of raw lines (e.g. :func:`read_spark_csv`, ``spark.read.parquet``),
        or a canonical table (cleaning it again changes nothing); or a text file read by
        :func:`~seglens.io.spark_reading.read_spark_text`, whose reader details and warnings
        (encoding, delimiter; a file read as Windows-1252) the report then carries as the
        embedded engine's does.
    source
        The name shown in messages and the report.
    columns, config, **options
        As for :func:`~seglens.io.load_transactions`: the column mapping, a config file, and
        the ingest options (``as_of``, ``non_product_codes``, ``drop_duplicates``,
        ``date_format``, ``decimal`` …).

    Returns
    -------
    SparkCleaned
        ``table``: a Spark DataFrame with the columns of :data:`seglens.tables.TRANSACTIONS`
        (rows in no particular order); ``report``: the cleaning report (same rules, counts and
        messages as the embedded engine; no example lines).

    Raises
    ------
    UsageError, DataError
        What the embedded engine refuses, and what Spark cannot read the same way (see the
        module docstring); an error Spark raises while reading (a malformed line) becomes a
        :class:`~seglens.errors.DataError` naming the source.
    """
    reader = frame if isinstance(frame, SparkText) else SparkText(frame, {}, [])
    with spark_errors(source):
        return _clean(reader, source, columns, config, options)


def _clean(
    reader: SparkText,
    source: str,
    columns: str | Mapping[str, str] | None,
    config: str | os.PathLike[str] | Mapping[str, Any] | None,
    options: dict[str, Any],
    comma: frozenset[str] = frozenset(),
    dates: DateOrder | None = None,
) -> SparkCleaned:
    frame = reader.frame
    explicit, cfg_columns, opts = resolve_options(columns, config, options)
    mapped_list, layout = resolve_mapping(
        frame.columns, TRANSACTIONS, explicit=explicit, config=cfg_columns, source=source
    )
    mapping = {m.canonical: m for m in mapped_list}
    refuse_derived(mapping, source)
    sample = first_rows(frame, source)
    raw = RawSource(frame=sample.lazy(), name=source, format="spark", first_line=2, text=True)
    check_applicable(opts, raw, {k: m.source for k, m in mapping.items() if m.how != "derived"})
    try:
        read = read_columns(mapping, sample, opts, comma, dates)
    except (DataError, UsageError) as err:
        raise dataclasses.replace(err, source=source) from None
    orders = None
    if mapping["order_id"].how != "derived":
        orders = sample.get_column(mapping["order_id"].source)
    ctx = rule_context(raw, mapping, opts, return_prefix(opts, layout, orders))
    facts = FrameFacts(frozenset(read.exprs), read.ids, read.text_fields)  # type: ignore[arg-type]
    sf = spark_functions()
    parsed = _lines(frame).select(
        sf.col(_LINE),
        sf.col("__empty"),
        sf.col(MASK + DUPLICATES),
        *[expr.alias(name) for name, expr in read.exprs.items()],
    )
    for stage in mask_columns(ctx, facts):
        parsed = parsed.withColumns({name: to_spark(mask) for name, mask in stage})
    names = set(parsed.columns)
    aggs, excluded, others = _rule_aggregates(ctx, facts, names)
    # one pass over the source: everything after reads the parsed lines from the executors
    parsed = parsed.withColumn("__keep", ~excluded).withColumn("__others", ~others)
    lines = parsed.localCheckpoint()
    empty = lines.filter(sf.col("__empty")).count()
    parsed = lines.filter(~sf.col("__empty"))
    counts = _counts(parsed, read, aggs) | {"empty": empty}
    later = _check_numbers(parsed, read, source)
    if later:  # a decimal comma only after the sample: read those columns again with it
        return _clean(reader, source, columns, config, options, comma | later, dates)
    if read.date_other and counts["unreadable:timestamp"]:
        order = _day_month_order(lines, read, ctx)
        if order is not None:  # later rows show the other day/month order: read it so
            return _clean(reader, source, columns, config, options, comma, order)
    _refuse_unreadable(parsed, read, counts, source)
    derived = mapping["amount"].how == "derived"
    _fatal(counts, ctx, derived, int(counts["n"]))
    if not counts["customers_read"]:
        raise DataError(
            "no row has a customer id",
            source=source,
            column=mapping["customer_id"].source,
            hint="map the customer column with --columns customer_id=<column>",
        )
    return SparkCleaned(
        table=_canonical(parsed),
        report=_report(reader, mapped_list, layout, ctx, (facts, names, counts), read, opts),
    )


def _counts(parsed: Any, read: SparkRead, aggs: list[Any]) -> dict[str, Any]:
    """Every figure of the report in one pass over the parsed lines."""
    sf = spark_functions()
    missing = sf.coalesce(sf.col(MASK + "customer_id"), sf.lit(False))
    cust = sf.when(~missing, sf.col("customer_id"))
    nulls = {"timestamp": "timestamp", "amount": "amount", "order_id": "order_id"}
    nulls |= {"quantity": "quantity", "unit_price": "__unit_price"}
    row = parsed.select(
        sf.count(sf.lit(1)).alias("n"),
        _sum(sf.col("__keep")).alias("kept"),
        sf.count_distinct(cust).alias("customers_read"),
        sf.count_distinct(sf.when(sf.col("__others"), cust)).alias("customers_kept"),
        *aggs,
        *[_sum(sf.col(c).isNull()).alias(f"null:{f}") for f, c in nulls.items() if c in read.exprs],
        *[_sum(_unreadable(name)).alias(f"unreadable:{name}") for name, _ in read.checked],
    ).first()
    return dict(row.asDict())


_STYLES: Final[dict[str, tuple[str, ...]]] = {
    "point": ("point",),
    "comma": ("comma",),
    "either": ("either_comma", "either_point"),
}
"""The styles behind each argument of :func:`seglens.io.numbers.number_verdict`."""


def _styles(parsed: Any, read: SparkRead) -> Any:
    """Every distinct value with a separator of the checked number columns, once: field ``f``,
    value ``v``, first line ``line`` and style ``s``, kept on the executors. Values repeat
    (prices above all) and the patterns cost most of the check, so each is classed once."""
    sf = spark_functions()
    parts = [
        parsed.select(
            sf.lit(fld).alias("f"), sf.col(raw_name(fld)).cast("string").alias("v"), sf.col(_LINE)
        )
        for fld, _, _ in read.numbers
    ]
    lines = functools.reduce(lambda a, b: a.unionByName(b), parts)
    value = sf.col("v")
    lines = lines.filter(value.contains(".") | value.contains(","))
    distinct = lines.groupBy("f", "v").agg(sf.min(_LINE).alias("line"))
    # kept: Spark would otherwise class every value again inside each aggregate (seconds each)
    return distinct.withColumn("s", number_style(value)).localCheckpoint()


def _seen(styles: Any, read: SparkRead) -> dict[str, dict[str, bool]]:
    """Per checked field, whether some value shows each style group (one Spark job)."""
    sf = spark_functions()
    aggs = [sf.max(sf.col("s").isin(list(names))).alias(key) for key, names in _STYLES.items()]
    seen = {fld: dict.fromkeys(_STYLES, False) for fld, _, _ in read.numbers}
    for row in styles.groupBy("f").agg(*aggs).collect():
        seen[row["f"]] = {key: bool(row[key]) for key in _STYLES}
    return seen


def _check_numbers(parsed: Any, read: SparkRead, source: str) -> frozenset[str]:
    """The embedded engine's whole-column number rule on the styles every value shows: raises
    its error for a column mixing conventions or one that cannot tell; the columns to read
    again with a decimal comma (only later rows showed one)."""
    if not read.numbers:
        return frozenset()
    styles = _styles(parsed, read)
    seen = _seen(styles, read)
    later = set()
    for fld, column, comma_read in read.numbers:
        verdict = number_verdict(**seen[fld], comma_read=comma_read)
        if verdict == "comma":
            later.add(column)
        elif verdict == "mixed":
            shown = _examples(styles, fld, ("point",), 3) + _examples(styles, fld, ("comma",), 3)
            raise DataError(
                mixed_message(_listed(shown)), source=source, column=column, hint=MIXED_HINT
            )
        elif verdict == "ambiguous":
            shown = _examples(styles, fld, _STYLES["either"], 5)
            raise DataError(
                ambiguous_message(shown[0].strip()) + f" (e.g. {_listed(shown)})",
                source=source,
                column=column,
                hint=DECIMAL_HINT,
            )
    return frozenset(later)


def _examples(styles: Any, fld: str, names: tuple[str, ...], n: int) -> list[str]:
    """The first ``n`` distinct values of a number field with one of the styles ``names``."""
    sf = spark_functions()
    rows = styles.filter((sf.col("f") == fld) & sf.col("s").isin(list(names)))
    return [str(r[0]) for r in rows.orderBy("line").limit(n).select("v").collect()]


def _listed(values: list[str]) -> str:
    return (
        ", ".join(repr(v) for v in values) + "; line numbers: Spark does not know them, run "
        "seglens ingest on the embedded engine to list them"
    )


def _field_of(name: str) -> str:
    return "unit_price" if name == "__unit_price" else name


def _canonical(parsed: Any) -> Any:
    """The kept rows in canonical form: returns flagged, positive return amounts negated."""
    sf = spark_functions()
    amount = sf.col("amount")
    exprs = []
    for col in TRANSACTIONS.columns:
        if col.name == "amount":
            expr = sf.when(sf.col(MASK + "return_sign"), -amount).otherwise(amount)
        elif col.name == "is_return":
            expr = sf.col(MASK + "is_return")
        elif col.name in parsed.columns:
            expr = sf.col(col.name)
        else:
            expr = sf.lit(None)
        spark_type = {pl.String: "string", pl.Float64: "double", pl.Boolean: "boolean"}.get(
            col.dtype.base_type(), "timestamp_ntz"
        )
        exprs.append(expr.cast(spark_type).alias(col.name))
    return parsed.filter(sf.col("__keep")).select(*exprs)


def _report(
    reader: SparkText,
    mapped: list[MappedColumn],
    layout: Any,
    ctx: Any,
    found: tuple[FrameFacts, set[str], dict[str, Any]],
    read: SparkRead,
    opts: IngestOptions,
) -> CleaningReport:
    """The cleaning report: the embedded engine's rules, counts, messages, details and
    warnings (no examples)."""
    from seglens.io.fixups import _EMPTY_LINE

    facts, names, counts = found
    source = ctx.source
    frame = reader.frame
    details: dict[str, Any] = {**reader.details, **read.details, "engine": "spark"}
    if ctx.as_of is not None:
        details["as_of"] = ctx.as_of.isoformat(sep=" ")
    _, duplicates_note = judge_duplicates(
        opts.drop_duplicates,
        list(frame.columns),
        has_order_id=has_order_id({m.canonical: m for m in mapped}),
    )
    if duplicates_note:
        details["duplicates"] = duplicates_note
    if ctx.return_prefix:
        details["return_prefix"] = ctx.return_prefix
    empty = int(counts["empty"])
    report = CleaningReport(
        source=source,
        table="transactions",
        format="spark",
        rows_read=int(counts["n"]) + empty,
        rows_kept=int(counts["kept"]),
        customers_read=int(counts["customers_read"]),
        customers_kept=int(counts["customers_kept"]),
        columns_read=list(frame.columns),
        mapping=mapped,
        layout=layout.title if layout else None,
        details=details,
        rules=[
            RuleResult("empty_line", "excluded", empty, _EMPTY_LINE, empty),
            *_results(ctx, facts, names, counts),
        ],
        warnings=[*reader.warnings, *read.warnings, *(reread_warning(c) for c in read.reread)],
    )
    if report.rows_kept == 0:
        report.warnings.append(NO_ROWS_KEPT)
    return report
