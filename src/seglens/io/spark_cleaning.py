"""The embedded engine's cleaning on Spark: same mapping, parsing decisions, rules and messages.

:func:`clean_on_spark` turns a raw Spark DataFrame (a CSV read as text, a Parquet file, a
table) into the canonical transactions table, as :func:`seglens.io.load_transactions` does:

- the column mapping and layout come from :func:`seglens.io.mapping.resolve_mapping`;
- how each column is read (date format, decimal comma, ids written as ``12346.0``, the
  cancellation prefix, whether text is stripped) is decided by the embedded engine's own
  functions on the same sample (the first 100,000 rows);
- the cleaning rules and their masks are the table of :mod:`seglens.io.rules`, compiled to
  Spark columns by :func:`to_spark`; exact duplicate lines are judged on every source column.

What Spark cannot read the same way it refuses with a :class:`~seglens.errors.UsageError` or
:class:`~seglens.errors.DataError`, never a silently different table: date formats with
two-digit years, month names, AM/PM or time zones; derived order ids; and any value the
detected format cannot read (the embedded engine re-reads those with every known format,
which Spark does not). Line numbers are not known on Spark: examples in its report are empty.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import polars as pl

from seglens.errors import DataError, UsageError
from seglens.io.config import IngestOptions
from seglens.io.duplicates import judge_duplicates
from seglens.io.load import resolve_options
from seglens.io.mapping import NO_ORDER_ID_NOTE, resolve_mapping
from seglens.io.numbers import sample_decimal
from seglens.io.parsing import (
    _COMMA_NUMBER,
    _NUMBER_JUNK,
    _POINT_NUMBER,
    MISSING_TOKENS,
    detect_date_format,
    id_decimal_mode,
    needs_careful_numbers,
    text_steps,
)
from seglens.io.projection import SAMPLE_ROWS, has_order_id, return_prefix, rule_context
from seglens.io.report import CleaningReport, MappedColumn, RuleResult
from seglens.io.rules import (
    DUPLICATES,
    MASK,
    RULES,
    FrameFacts,
    Mask,
    mask_columns,
    raw_name,
)
from seglens.io.sources_base import RawSource
from seglens.tables import TRANSACTIONS

__all__ = ["SparkCleaned", "clean_on_spark", "read_spark_csv", "spark_date_pattern", "to_spark"]

_LINE: Final = "__line"
_DATE_CODES: Final = {"Y": "yyyy", "m": "M", "d": "d", "H": "H", "M": "m", "S": "s"}
_WS: Final = r"(?U)^\s+|\s+$"
"""Leading/trailing Unicode white space (Polars' ``strip_chars()``)."""
_INGEST_FIRST: Final = (
    "ingest it with the embedded engine first (seglens ingest FILE -o clean.parquet), then "
    "give --engine spark the canonical Parquet file"
)


def _functions() -> Any:
    try:
        from pyspark.sql import functions
    except ImportError:
        raise UsageError(
            "the spark engine needs PySpark", hint="pip install 'seglens[spark]' (and Java 17+)"
        ) from None
    return functions


def _lit(value: object) -> Any:
    sf = _functions()
    if isinstance(value, dt.datetime):  # naive: no Python-side time-zone conversion
        return sf.lit(value.isoformat(sep=" ")).cast("timestamp_ntz")
    return sf.lit(value)


def to_spark(mask: Mask) -> Any:
    """The Spark column of a rule mask (:mod:`seglens.io.rules`' vocabulary)."""
    sf = _functions()
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


def spark_date_pattern(fmt: str) -> str:
    """The Spark datetime pattern reading what the strftime ``fmt`` reads (numeric dates).

    Raises
    ------
    UsageError
        For codes whose reading differs on Spark (two-digit years, month names, AM/PM, time
        zones, fractions of seconds).
    """
    parts = re.split(r"(%.)", fmt)
    out = []
    for part in parts:
        if part.startswith("%"):
            code = _DATE_CODES.get(part[1:])
            if code is None:
                raise UsageError(
                    f"the spark engine does not read dates written as {fmt!r} the way the "
                    f"embedded engine does ({part} differs)",
                    hint=_INGEST_FIRST,
                )
            out.append(code)
        elif part:
            out.append(
                "'" + part.replace("'", "''") + "'" if re.search(r"[A-Za-z']", part) else part
            )
    return "".join(out)


def read_spark_csv(
    session: Any, path: str | os.PathLike[str], *, delimiter: str | None = None
) -> Any:
    """Read a delimited text file on Spark as the embedded reader does: every column as text,
    delimiter and encoding sniffed by :func:`seglens.io.textfiles.read_text_file`, quotes
    doubled inside quoted fields, a malformed line an error."""
    from seglens.io.textfiles import read_text_file

    raw = read_text_file(Path(path), delimiter=delimiter, max_bytes=None)
    enc = str(raw.details["encoding"])
    unlike = [w for w in raw.warnings if w.startswith("mixed encodings") or "U+FFFD" in w]
    if enc.startswith(("utf-16", "utf-32")):
        unlike.append(f"{enc} text")
    if raw.details.get("delimiter") == "whitespace" or raw.details.get("header") is False:
        unlike.append("fields separated by runs of blanks, or no header line")
    if unlike:
        raise UsageError(
            f"the spark engine cannot read this file as the embedded engine does ({unlike[0]})",
            source=str(path),
            hint=_INGEST_FIRST,
        )
    delim = {"tab": "\t", "comma": ",", "semicolon": ";", "pipe": "|"}.get(
        str(raw.details["delimiter"]), str(raw.details["delimiter"])
    )
    frame = session.read.csv(
        os.fspath(path),
        header=True,
        inferSchema=False,
        sep=delim,
        encoding=_spark_charset(Path(path), enc),
        quote='"',
        escape='"',
        mode="FAILFAST",
    )
    first = frame.columns[0]
    if first.startswith("\ufeff"):
        frame = frame.withColumnRenamed(first, first.removeprefix("\ufeff"))
    return frame


def _spark_charset(path: Path, enc: str) -> str:
    """Spark's name for the sniffed encoding. Spark reads only UTF-8 and Latin-1 among the
    single-byte encodings; Windows-1252 is Latin-1 except for bytes 0x80-0x9F (€, curly
    quotes), so a Windows-1252 file without them is read as Latin-1, identically."""
    import codecs

    from seglens.io.textfiles import _compression, _opened

    name = codecs.lookup(enc).name
    if name.startswith("utf-8"):
        return "UTF-8"
    if name == "iso8859-1":
        return "ISO-8859-1"
    if name == "cp1252":
        with path.open("rb") as fh:
            kind = _compression(fh.read(8), path)
        with _opened(path, kind) as fh:
            while block := fh.read(1 << 20):
                if re.search(rb"[\x80-\x9f]", block):
                    break
            else:
                return "ISO-8859-1"
    raise UsageError(
        f"the spark engine cannot decode {enc} text as the embedded engine does "
        "(Spark reads UTF-8 and Latin-1; Windows-1252 only without bytes 0x80-0x9F)",
        source=str(path),
        hint=_INGEST_FIRST,
    )


@dataclass(frozen=True)
class SparkCleaned:
    """The kept rows in canonical form (a Spark DataFrame) and the cleaning report."""

    table: Any
    report: CleaningReport


@dataclass
class _Read:
    """What reading the columns decided (for the masks and the report)."""

    exprs: dict[str, Any]
    ids: str = "text"
    text_fields: tuple[str, ...] = ()
    checked: tuple[tuple[str, str], ...] = ()
    """(parsed column, source column) pairs whose non-blank values must all read."""
    warnings: list[str] = field(default_factory=list)


def _src(name: str) -> Any:
    """A source column by its name as written (dots and spaces are not struct access)."""
    return _functions().col("`" + name.replace("`", "``") + "`")


def _strip(c: Any) -> Any:
    return _functions().regexp_replace(c, _WS, "")


def _try_double(c: Any) -> Any:
    return c.try_cast("double")


def _finite(c: Any) -> Any:
    sf = _functions()
    return sf.when(~sf.isnan(c) & (sf.abs(c) != sf.lit(float("inf"))), c)


def _ids(cid: str, dtype: pl.DataType, sample: pl.DataFrame, read: _Read) -> None:
    """Customer ids as the loader reads them (``_build_frame``): whole numbers of a numeric
    column, or text with ``.0`` decimals removed; ``__id_fixed`` marks the rewritten ones."""
    sf = _functions()
    c = _src(cid)
    read.exprs[raw_name("customer_id")] = c
    if dtype.is_float() or (dtype.is_integer() and dtype != pl.UInt64):
        read.ids = "float" if dtype.is_float() else "integer"
        whole = sf.when(c == sf.floor(c), c.try_cast("long")) if dtype.is_float() else c
        read.exprs["__cid_int"] = whole.cast("long")
        text = c.cast("string")
        read.exprs["customer_id"] = sf.coalesce(read.exprs["__cid_int"].cast("string"), text)
        read.exprs["__id_fixed"] = c.isNotNull() if dtype.is_float() else sf.lit(False)
        return
    mode = id_decimal_mode(sample.get_column(cid)) if dtype == pl.String else "none"
    stripped = _strip(c.cast("string"))
    ids = stripped
    if mode == "suffix":
        ids = sf.regexp_replace(stripped, r"\.0$", "")
        fixed = sf.coalesce(stripped.endswith(".0"), sf.lit(False))
    elif mode == "regex":
        ids = sf.regexp_replace(stripped, r"^(-?\d+)\.0+$", "$1")
        fixed = sf.coalesce(c.rlike(r"^\s*-?\d+\.0+\s*$"), sf.lit(False))
    else:
        fixed = sf.lit(False)
    read.exprs["customer_id"] = ids
    read.exprs["__id_fixed"] = fixed


def _text(col: str, dtype: pl.DataType, sample: pl.DataFrame) -> Any:
    """Free text as :func:`seglens.io.parsing.text_expr` reads it (numbers as id text)."""
    sf = _functions()
    c = _src(col)
    if dtype.is_integer():
        return c.cast("string")
    if dtype.is_float():
        return sf.when(c == sf.floor(c), c.try_cast("long").cast("string"))
    strip, missing = text_steps(sample.get_column(col))
    text = _strip(c.cast("string")) if strip else c.cast("string")
    return (
        sf.when(text.isin(list(MISSING_TOKENS)), sf.lit(None)).otherwise(text) if missing else text
    )


def _timestamp(col: str, dtype: pl.DataType, sample: pl.DataFrame, opts: IngestOptions) -> Any:
    """The timestamp as the loader reads it: the format detected on the sample (the same
    function), a ``%Y`` year of four digits; dates and date-times as they are (naive UTC)."""
    sf = _functions()
    c = _src(col)
    if isinstance(dtype, pl.Datetime | pl.Date):
        return c.cast("timestamp_ntz")
    if dtype.is_numeric():
        return sf.try_to_timestamp(c.cast("long").cast("string"), sf.lit("yyyyMMdd")).cast(
            "timestamp_ntz"
        )
    fmt = detect_date_format(sample.get_column(col), preferred=opts.date_format)
    if fmt is None:
        raise DataError(
            "no date of the first rows reads with a known format",
            source=col,
            column=col,
            values=tuple(sample.get_column(col).drop_nulls().head(3).to_list()),
            hint="give the format with --date-format (e.g. %d/%m/%Y)",
        )
    parsed = sf.try_to_timestamp(_strip(c), sf.lit(spark_date_pattern(fmt.format)))
    parsed = parsed.cast("timestamp_ntz")
    return sf.when(sf.year(parsed) >= 1000, parsed) if "%Y" in fmt.format else parsed


def _number(col: str, dtype: pl.DataType, sample: pl.DataFrame, opts: IngestOptions) -> Any:
    """A number as the loader reads it: plain, or the careful way (currency, separators,
    accounting negatives, a decimal comma) when the sample shows it; NaN and infinities null."""
    sf = _functions()
    c = _src(col)
    if dtype == pl.Boolean or dtype.is_numeric():
        return _finite(c.cast("double"))
    values = sample.get_column(col)
    point, comma = sample_decimal(values)
    decimal_comma = opts.decimal == "," if opts.decimal is not None else comma and not point
    if not (decimal_comma or needs_careful_numbers(values)):
        return _finite(_try_double(_strip(c)))
    cleaned = sf.regexp_replace(_strip(c), "(?U)" + _NUMBER_JUNK, "")
    negative = cleaned.rlike(r"^\(.*\)$")
    cleaned = sf.regexp_replace(cleaned, r"^[()]+|[()]+$", "")
    if decimal_comma:
        valid = cleaned.rlike(_COMMA_NUMBER)
        cleaned = sf.regexp_replace(sf.regexp_replace(cleaned, r"\.", ""), ",", ".")
    else:
        valid = cleaned.rlike(_POINT_NUMBER)
        cleaned = sf.regexp_replace(cleaned, ",", "")
    value = sf.when(valid, _try_double(cleaned))
    return _finite(sf.when(negative, -value).otherwise(value))


def _flag(col: str, dtype: pl.DataType) -> Any:
    """A return flag as :func:`seglens.io.parsing.bool_expr` reads it."""
    from seglens.io.parsing import _FALSE, _TRUE

    sf = _functions()
    c = _src(col)
    if dtype == pl.Boolean:
        return c
    if dtype.is_numeric():
        return c != 0
    text = sf.lower(_strip(c.cast("string")))
    return sf.when(text.isin(list(_TRUE)), True).when(text.isin(list(_FALSE)), False)


def _read_columns(
    mapping: dict[str, MappedColumn], sample: pl.DataFrame, opts: IngestOptions
) -> _Read:
    """Every parsed column (and the source values the rules show) as Spark expressions."""
    src = {k: m.source for k, m in mapping.items() if m.how != "derived"}
    schema = sample.schema
    read = _Read(exprs={})
    _ids(src["customer_id"], schema[src["customer_id"]], sample, read)
    read.exprs[raw_name("timestamp")] = _src(src["timestamp"])
    if mapping["order_id"].how == "derived":  # no order column: one order per customer and time
        order = _derived_order(src["customer_id"], src["timestamp"], schema)
        read.exprs["order_id"] = read.exprs[raw_name("order_id")] = order
        read.warnings.append(NO_ORDER_ID_NOTE)
    else:
        read.exprs[raw_name("order_id")] = _src(src["order_id"])
        read.exprs["order_id"] = _text(src["order_id"], schema[src["order_id"]], sample)
    ts = _timestamp(src["timestamp"], schema[src["timestamp"]], sample, opts)
    read.exprs["timestamp"] = ts
    checked = [("timestamp", src["timestamp"])]
    numbers = {"quantity": "quantity", "unit_price": "__unit_price"}
    if mapping["amount"].how != "derived":
        numbers["amount"] = "amount"
    read.exprs["quantity"] = _functions().lit(None).cast("double")
    for fld, name in numbers.items():
        if fld in src:
            read.exprs[name] = _number(src[fld], schema[src[fld]], sample, opts)
            read.exprs[raw_name(fld)] = _src(src[fld])
            checked.append((name, src[fld]))
    if mapping["amount"].how == "derived":
        read.exprs["amount"] = read.exprs["quantity"] * read.exprs["__unit_price"]
    for fld in ("product_id", "category", "channel"):
        if fld in src:
            read.exprs[fld] = _text(src[fld], schema[src[fld]], sample)
    if "is_return" in src:
        read.exprs["is_return"] = _flag(src["is_return"], schema[src["is_return"]])
    read.text_fields = tuple(
        f
        for f in ("customer_id", "product_id", "category", "channel")
        if f in src and schema[src[f]] == pl.String
    )
    read.checked = tuple(checked)
    return read


def _derived_order(customer: str, timestamp: str, schema: pl.Schema) -> Any:
    """:func:`seglens.io.mapping.derived_order_id` on Spark: customer id and timestamp as
    written (text or whole-number columns only: other types are written differently)."""
    for col in (customer, timestamp):
        if not (schema[col] == pl.String or schema[col].is_integer()):
            raise UsageError(
                f"the spark engine cannot make order ids from {col!r} ({schema[col]}) as the "
                "embedded engine writes them",
                source=col,
                hint=_INGEST_FIRST,
            )
    parts = [_strip(_src(c).cast("string")) for c in (customer, timestamp)]
    return _functions().concat_ws(" ", *parts)


def _refuse_derived(mapping: dict[str, MappedColumn], source: str) -> None:
    derived = [
        m for k, m in mapping.items() if m.how == "derived" and k not in ("amount", "order_id")
    ]
    if derived:
        raise UsageError(
            f"the spark engine cannot derive {derived[0].canonical} ({derived[0].source})",
            source=source,
            hint=_INGEST_FIRST,
        )


def _sample(frame: Any, source: str) -> pl.DataFrame:
    """The first rows, on which every reading decision is made (as the embedded loader)."""
    sample = pl.from_arrow(frame.limit(SAMPLE_ROWS).toArrow())
    assert isinstance(sample, pl.DataFrame)
    if sample.height == 0:
        raise DataError(
            "the source has a header but no data rows",
            source=source,
            hint="export the data again with its rows",
        )
    return sample.with_columns(
        pl.col(n).dt.replace_time_zone(None)
        for n, t in sample.schema.items()
        if isinstance(t, pl.Datetime) and t.time_zone
    )


def _lines(frame: Any) -> Any:
    """The source rows with their position, empty lines marked, and duplicates: a row equal in
    every source column to an earlier one (the embedded engine hashes the same columns)."""
    from pyspark.sql import Window

    sf = _functions()
    cols = [_src(c) for c in frame.columns]
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
    sf = _functions()
    return sf.sum(sf.coalesce(c, sf.lit(False)).cast("long"))


def _rule_aggregates(ctx: Any, facts: FrameFacts, names: set[str]) -> tuple[list[Any], Any, Any]:
    """Per rule: rows matched and rows newly excluded (in rule order), as aggregate columns;
    also the rows excluded by every rule, and by every rule but the duplicates."""
    sf = _functions()
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


def _refuse_unreadable(parsed: Any, read: _Read, counts: dict[str, Any], source: str) -> None:
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
            hint=_INGEST_FIRST,
        )


def _unreadable(name: str) -> Any:
    """Parsed value missing although the source value is not blank."""
    text = _strip(_functions().col(raw_name(_field_of(name))).cast("string"))
    return _functions().col(name).isNull() & (text != "")


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
        or a canonical table (cleaning it again changes nothing).
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
        module docstring).
    """
    explicit, cfg_columns, opts = resolve_options(columns, config, options)
    mapped_list, layout = resolve_mapping(
        frame.columns, TRANSACTIONS, explicit=explicit, config=cfg_columns, source=source
    )
    mapping = {m.canonical: m for m in mapped_list}
    _refuse_derived(mapping, source)
    sample = _sample(frame, source)
    read = _read_columns(mapping, sample, opts)
    raw = RawSource(frame=sample.lazy(), name=source, format="spark", first_line=2, text=True)
    orders = None
    if mapping["order_id"].how != "derived":
        orders = sample.get_column(mapping["order_id"].source)
    ctx = rule_context(raw, mapping, opts, return_prefix(opts, layout, orders))
    facts = FrameFacts(frozenset(read.exprs), read.ids, read.text_fields)  # type: ignore[arg-type]
    sf = _functions()
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
    parsed = parsed.localCheckpoint()
    empty = parsed.filter(sf.col("__empty")).count()
    parsed = parsed.filter(~sf.col("__empty"))
    counts = _counts(parsed, read, aggs) | {"empty": empty}
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
        report=_report(frame, mapped_list, layout, ctx, (facts, names, counts), read, opts),
    )


def _counts(parsed: Any, read: _Read, aggs: list[Any]) -> dict[str, Any]:
    """Every figure of the report in one pass over the parsed lines."""
    sf = _functions()
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


def _field_of(name: str) -> str:
    return "unit_price" if name == "__unit_price" else name


def _canonical(parsed: Any) -> Any:
    """The kept rows in canonical form: returns flagged, positive return amounts negated."""
    sf = _functions()
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
    frame: Any,
    mapped: list[MappedColumn],
    layout: Any,
    ctx: Any,
    found: tuple[FrameFacts, set[str], dict[str, Any]],
    read: _Read,
    opts: IngestOptions,
) -> CleaningReport:
    """The cleaning report: the embedded engine's rules, counts and messages (no examples)."""
    from seglens.io.fixups import _EMPTY_LINE

    facts, names, counts = found
    source = ctx.source
    details: dict[str, Any] = {"engine": "spark"}
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
    return CleaningReport(
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
        warnings=list(read.warnings),
    )
