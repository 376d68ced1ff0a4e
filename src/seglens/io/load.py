"""``load_transactions``: any source -> the canonical transactions table + a cleaning report."""

from __future__ import annotations

import datetime as dt
import logging
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import polars as pl

from seglens.errors import DataError
from seglens.io.cleaning import (
    LINE,
    MASK,
    RuleContext,
    apply_rules,
    check_fatal,
    mask_exprs,
    raw_name,
    refresh_masks,
)
from seglens.io.config import IngestOptions, check_applicable, read_config
from seglens.io.customers import (
    CustomerIds,
    numeric_ids,
    text_ids,
    whole_numbers,
)
from seglens.io.duplicates import judge_duplicates, start_repeated_hashes
from seglens.io.fixups import (
    drop_empty_rows,
    empty_row_exprs,
    fallback_dates,
    fallback_numbers,
)
from seglens.io.mapping import (
    NO_ORDER_ID_NOTE,
    Layout,
    derived_order_id,
    parse_column_mapping,
    resolve_mapping,
)
from seglens.io.numbers import NumberMode, check_numbers, sample_decimal
from seglens.io.parsing import (
    TWO_DIGIT_YEARS,
    bool_expr,
    detect_date_format,
    finite,
    id_decimal_mode,
    id_expr,
    needs_careful_numbers,
    number_expr,
    text_expr,
    timestamp_expr,
)
from seglens.io.report import CleaningReport, LoadedTable, MappedColumn
from seglens.io.rules import FrameFacts
from seglens.io.sources import DEFAULT_MAX_BYTES, Source, describe_source, open_source
from seglens.io.sources_base import ROW, SHEET, RawSource
from seglens.tables import TRANSACTIONS

__all__ = [
    "collect_source",
    "load_transactions",
    "resolve_options",
    "source_error",
    "unreadable",
]

log = logging.getLogger(__name__)

SAMPLE_ROWS = 100_000
_STRIPPED_ID = "__seglens_cid_stripped"
_TEXT_FIELDS = ("product_id", "category", "channel")


def resolve_options(
    columns: str | Mapping[str, str] | None,
    config: str | os.PathLike[str] | Mapping[str, Any] | None,
    overrides: Mapping[str, Any],
) -> tuple[dict[str, str], dict[str, str], IngestOptions]:
    """Explicit mapping, config mapping and the merged options (keywords over config)."""
    explicit = (
        parse_column_mapping(columns)
        if isinstance(columns, str) or columns is None
        else (dict(columns))
    )
    cfg_columns: dict[str, str] = {}
    opts = IngestOptions()
    if config is not None:
        if isinstance(config, Mapping):
            cfg_columns = dict(config.get("columns", {}))
            cfg_ingest = dict(config.get("ingest", {}))
            origin = "the config mapping"
        else:
            cfg_columns, cfg_ingest = read_config(config)
            origin = f"config file {os.fspath(config)}"
        opts = opts.merged(cfg_ingest, origin)
    opts = opts.merged(overrides, "the arguments")
    return explicit, cfg_columns, opts


def _return_prefix(
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


def source_error(raw: RawSource, err: Exception) -> DataError:
    """A :class:`DataError` for an engine error on malformed input (located when possible)."""
    if raw.locate_bad_structure is not None:
        located = raw.locate_bad_structure()
        if located.lines:
            return located
    first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
    return DataError(
        f"the {raw.format} source could not be read ({first})",
        source=raw.name,
        hint="check the file is complete and in the format its name says",
    )


def collect_source(raw: RawSource, frame: pl.LazyFrame) -> pl.DataFrame:
    """Collect, turning engine errors on malformed input into :class:`DataError`."""
    try:
        return frame.collect()
    except (pl.exceptions.PolarsError, OSError) as err:
        raise source_error(raw, err) from None


def names(exprs: list[pl.Expr]) -> set[str]:
    """Output names of a list of expressions."""
    return {e.meta.output_name() for e in exprs}


@dataclass
class _Plan:
    """What the eager steps after the main projection need to know about it."""

    number_modes: dict[str, NumberMode] = field(default_factory=dict)
    """Text number fields and how they were read."""
    date_format: str | None = None
    """The format of a text timestamp column parsed unstripped (its misses are re-read)."""
    numeric_ids: bool = False
    """The customer id column is numeric: its ids are read from the source column."""
    masks: list[list[pl.Expr]] = field(default_factory=list)
    """The rule-mask expressions added to the projection (re-run on patched rows)."""
    facts: FrameFacts = field(default_factory=lambda: FrameFacts(frozenset(), "text"))
    """What the rule masks were built for (the rules read the same)."""


def _build_frame(
    raw: RawSource,
    mapping: dict[str, MappedColumn],
    opts: IngestOptions,
    details: dict[str, Any],
    layout: Layout | None,
) -> tuple[pl.LazyFrame, list[str], _Plan, RuleContext]:
    """Lazy frame with canonical columns, raw values of checked fields, the line hash and every
    rule's mask (:func:`~seglens.io.cleaning.mask_exprs`); also the rules' context (its
    cancellation prefix is detected on the sample, the same first rows as always).

    Only columns something reads are carried: unmapped optional columns are made null at the
    end, and line numbers come from row positions unless the reader numbers rows otherwise.
    """
    schema = raw.frame.collect_schema()
    warnings: list[str] = []
    plan = _Plan()
    src = {k: m.source for k, m in mapping.items() if m.how != "derived"}
    sample_cols = sorted(set(src.values()))
    sample = raw.frame.select(sample_cols).head(SAMPLE_ROWS).collect() if sample_cols else None
    exprs: list[pl.Expr] = []
    source = raw.frame
    if not raw.row_is_position:
        exprs.append((pl.col(ROW).cast(pl.Int64) + raw.first_line).alias(LINE))
    if SHEET in schema:
        exprs.append(pl.col(SHEET))

    def raw_text(field: str) -> pl.Expr:
        return pl.col(src[field]).alias(raw_name(field))

    def text_at(field: str) -> pl.Expr:
        col = src[field]
        if schema[col] == pl.String and sample is not None:
            return text_expr(col, schema[col], sample.get_column(col)).alias(field)
        return text_expr(col, schema[col]).alias(field)

    cid = src["customer_id"]
    mode = "none"
    if schema[cid] == pl.String and sample is not None:
        mode = id_decimal_mode(sample.get_column(cid))
    if schema[cid].is_float() or (schema[cid].is_integer() and schema[cid] != pl.UInt64):
        plan.numeric_ids = True
        exprs.append(whole_numbers(cid, schema[cid]).alias("__cid_int"))
    elif schema[cid] == pl.String:
        # one strip, shared by the id and its decimal-suffix flag
        source = source.with_columns(pl.col(cid).str.strip_chars().alias(_STRIPPED_ID))
        ids_expr = id_expr(_STRIPPED_ID, pl.String(), decimals=mode, missing=False, stripped=True)
        exprs.append(ids_expr.alias("customer_id"))
    else:
        exprs.append(id_expr(cid, schema[cid], decimals=mode, missing=False).alias("customer_id"))
    exprs.append(raw_text("customer_id"))
    if schema[cid] == pl.String and mode == "suffix":
        fixed = pl.col(_STRIPPED_ID).str.ends_with(".0").fill_null(False)
    elif schema[cid] == pl.String and mode == "regex":
        fixed = pl.col(cid).str.contains(r"^\s*-?\d+\.0+\s*$").fill_null(False)
    elif schema[cid].is_float():
        fixed = pl.col(cid).is_not_null()
    else:
        fixed = pl.lit(False)
    exprs.append(fixed.alias("__id_fixed"))
    if mapping["order_id"].how == "derived":  # no order column: one order per customer and time
        order = derived_order_id(cid, src["timestamp"])
        exprs += [order.alias("order_id"), order.alias(raw_name("order_id"))]
        warnings.append(NO_ORDER_ID_NOTE)
    else:
        exprs += [text_at("order_id"), raw_text("order_id")]
    ts = src["timestamp"]
    fmt = None
    if schema[ts] == pl.String and sample is not None:
        fmt = detect_date_format(sample.get_column(ts), preferred=opts.date_format)
        if fmt is None and opts.date_format is not None:
            raise _format_matches_nothing(raw, ts, sample.get_column(ts), opts.date_format)
        if fmt is not None:
            details["timestamp_format"] = fmt.format
            plan.date_format = fmt.format
            if fmt.ambiguous_with:
                warnings.append(
                    f"dates in {ts!r} read as {fmt.format}; they could also be "
                    f"{fmt.ambiguous_with} — set date_format if that is wrong"
                )
            if "%y" in fmt.format:
                warnings.append(
                    f"dates in {ts!r} have two-digit years ({fmt.format}), read as "
                    f"{TWO_DIGIT_YEARS}; give --date-format with %Y if that is wrong"
                )
    exprs += [
        timestamp_expr(ts, schema[ts], fmt, strip=False).alias("timestamp"),
        raw_text("timestamp"),
    ]

    def num(field: str) -> pl.Expr:
        col = src[field]
        if schema[col] != pl.String or sample is None:
            return number_expr(col, schema[col], strip=False)
        values = sample.get_column(col)
        point, comma = sample_decimal(values)
        explicit = opts.decimal is not None
        decimal_comma = opts.decimal == "," if explicit else comma and not point
        careful = needs_careful_numbers(values)
        if decimal_comma:
            details.setdefault("decimal_comma", []).append(col)
        plan.number_modes[field] = NumberMode(
            decimal_comma,
            unstripped=not (decimal_comma or careful),
            careful=careful,
            explicit=explicit,
            sample_point=point,
            sample_comma=comma,
        )
        return number_expr(
            col, schema[col], decimal_comma=decimal_comma, careful=careful, strip=False
        )

    qty = num("quantity") if "quantity" in src else None
    price = num("unit_price") if "unit_price" in src else None
    exprs.append((qty if qty is not None else pl.lit(None, pl.Float64)).alias("quantity"))
    if price is not None:
        exprs += [price.alias("__unit_price"), raw_text("unit_price")]
    # the source quantity is shown only for unreadable quantities (and re-read when text); an
    # integer column reads exactly, null where null, so its parsed column serves
    if qty is not None and not schema[src["quantity"]].is_integer():
        exprs.append(raw_text("quantity"))
    derived = mapping["amount"].how == "derived"
    if not derived:
        exprs += [num("amount").alias("amount"), raw_text("amount")]
    # unmapped optional columns are not carried: the canonical table gets them as nulls
    exprs += [text_at(fld) for fld in _TEXT_FIELDS if fld in src]
    if "is_return" in src:
        exprs.append(bool_expr(src["is_return"], schema[src["is_return"]]).alias("is_return"))
    # Exact duplicate lines: a 64-bit hash of the whole line (every source column, each hashed
    # with its own seed, summed), first occurrence kept. Far faster than comparing row structs;
    # two different lines collide with probability ~ n^2 / 2^65 (< 3e-6 for 10 M lines).
    line_hash = pl.sum_horizontal(pl.col(c).hash(seed=i + 1) for i, c in enumerate(raw.columns))
    exprs.append(line_hash.alias("__hash"))
    exprs += empty_row_exprs(raw.columns, schema[raw.columns[0]] == pl.String)
    frame = source.select(exprs)
    finite_cols = [c for c in ("quantity", "__unit_price", "amount") if c in names(exprs)]
    frame = frame.with_columns(finite(c) for c in finite_cols)
    if derived:
        frame = frame.with_columns((pl.col("quantity") * pl.col("__unit_price")).alias("amount"))
    orders = None if sample is None or "order_id" not in src else sample.get_column(src["order_id"])
    ctx = _context(raw, mapping, opts, _return_prefix(opts, layout, orders))
    lossy = (
        raw.lossy_frame is None
        and raw.format == "csv"
        and raw.details.get("encoding") in {"utf-8", "utf-8-sig"}
    )
    plan.facts = FrameFacts(
        columns=frozenset(frame.collect_schema().names()),
        ids=("float" if schema[cid].is_float() else "integer") if plan.numeric_ids else "text",
        text_fields=_text_fields(raw, mapping),
        lossy=lossy,
    )
    plan.masks = mask_exprs(ctx, plan.facts)
    for stage in plan.masks:
        frame = frame.with_columns(stage)
    return frame, warnings, plan, ctx


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


def _context(
    raw: RawSource, mapping: dict[str, MappedColumn], opts: IngestOptions, prefix: str | None
) -> RuleContext:
    """What the cleaning rules need besides the frame."""
    return RuleContext(
        source=raw.name,
        line_word="line" if raw.first_line == 2 else "row",
        source_columns={k: m.source for k, m in mapping.items()},
        as_of=opts.as_of,
        non_product_codes=opts.non_product_codes,
        drop_duplicates=judge_duplicates(
            opts.drop_duplicates, raw.columns, has_order_id=_has_order_id(mapping)
        )[0],
        drop_zero_price=opts.drop_zero_price,
        drop_non_product=opts.drop_non_product,
        return_prefix=prefix,
        max_bad_fraction=opts.max_bad_fraction,
        first_line=raw.first_line,
    )


def _text_fields(raw: RawSource, mapping: dict[str, MappedColumn]) -> tuple[str, ...]:
    """Kept fields read from text columns: checked for formula-looking values (=, +, @ first)
    and, after a lenient rescan, for U+FFFD (the ``formula_like_value`` and ``invalid_utf8``
    rules)."""
    schema = raw.frame.collect_schema()
    return tuple(
        f
        for f in ("customer_id", *_TEXT_FIELDS)
        if f in mapping and schema.get(mapping[f].source) == pl.String
    )


def _has_order_id(mapping: dict[str, MappedColumn]) -> bool:
    """Whether the order id comes from a source column (not absent, not made up)."""
    return "order_id" in mapping and mapping["order_id"].how != "derived"


def _customer_ids(df: pl.DataFrame, plan: _Plan) -> CustomerIds:
    """The customer ids: whole numbers of a numeric column, or the parsed text."""
    missing = df.get_column(MASK + "customer_id")
    if plan.numeric_ids:
        ints = df.get_column("__cid_int")
        return numeric_ids(ints, df.get_column(raw_name("customer_id")), missing)
    return text_ids(df.get_column("customer_id"), missing)


def load_transactions(
    source: Source,
    *,
    columns: str | Mapping[str, str] | None = None,
    config: str | os.PathLike[str] | Mapping[str, Any] | None = None,
    sheet: str | int | None = None,
    query: str | None = None,
    table: str | None = None,
    as_of: str | dt.date | dt.datetime | None = None,
    non_product_codes: Sequence[str] | None = None,
    drop_duplicates: bool | None = None,
    drop_zero_price: bool | None = None,
    drop_non_product: bool | None = None,
    return_prefix: str | None = None,
    date_format: str | None = None,
    decimal: str | None = None,
    delimiter: str | None = None,
    encoding: str | None = None,
    max_bad_fraction: float | None = None,
    max_bytes: int | None = DEFAULT_MAX_BYTES,
) -> LoadedTable:
    """Load transactions from any supported source into the canonical table, cleaning as it goes.

    Parameters
    ----------
    source
        A file path (CSV/TSV/TXT, optionally ``.gz``; Parquet; ``.xlsx``), a SQLAlchemy URL
        (``sqlite:///shop.db``, ``postgresql+psycopg://user@host/db``) with ``table=`` or
        ``query=``, or a pandas / Polars DataFrame.
    columns
        Column mapping, ``"customer_id=CustID,timestamp=OrderDate"`` or a dict; unmapped columns
        are recognised from common names and layouts (the mapping used is in the result).
    config
        A TOML file (or a dict) with ``[columns]`` and ``[ingest]`` tables; keywords win.
    sheet
        Excel sheet name or 0-based index; ``"*"`` reads every sheet. Default: the first.
    query, table
        For database URLs: a SQL query, or a table name (``schema.table`` allowed).
    as_of
        Lines after this date (a bare date means the end of that day) are excluded.
    non_product_codes
        Product codes that are not products (default
        :data:`~seglens.io.DEFAULT_NON_PRODUCT_CODES`); ``*`` at the end matches a prefix.
    drop_duplicates, drop_zero_price, drop_non_product
        Whether those lines are excluded or only counted. Default: duplicates excluded (but
        not in a canonical table or a source without order ids:
        :func:`~seglens.io.duplicates.judge_duplicates`), zero-value lines kept (a zero-value
        order is a purchase occasion), non-product codes excluded.
    return_prefix
        Order-id prefix marking cancellations (``"C"``); default: from the layout or detected.
    date_format
        A strftime format for the timestamp column when detection is not enough.
    decimal
        The decimal separator of text numbers, ``"."`` or ``","``, when the values do not show
        it (``1,000`` alone could be either); default: decided per column from its values.
    delimiter, encoding
        Override the sniffed delimiter / encoding of text files.
    max_bad_fraction
        Largest share of rows with unreadable dates/amounts/order ids that is excluded rather
        than fatal (default 0.01).
    max_bytes
        Refuse files larger than this (default 1 GB, gzip: uncompressed); ``None`` for no limit.

    Returns
    -------
    LoadedTable
        ``table`` with every column of :data:`seglens.tables.TRANSACTIONS`, the ``report``,
        and the ``mapping`` used.

    Raises
    ------
    DataError
        The source cannot be used: missing required column, too many unreadable values, empty
        or binary file, over the size limit. The message names the file, lines, column and
        values, and what to do.

    Examples
    --------
    >>> import polars as pl
    >>> frame = pl.DataFrame({
    ...     "InvoiceNo": ["536365", "C536379"], "StockCode": ["85123A", "85123A"],
    ...     "Quantity": [6, -1], "InvoiceDate": ["2010-12-01 08:26:00", "2010-12-01 09:41:00"],
    ...     "UnitPrice": [2.55, 2.55], "CustomerID": [17850.0, 17850.0]})
    >>> loaded = load_transactions(frame)
    >>> loaded.mapping["amount"]
    'Quantity * UnitPrice'
    >>> loaded.table.select("customer_id", "amount", "is_return").rows()
    [('17850', 15.299999999999999, False), ('17850', -2.55, True)]
    """
    explicit, cfg_columns, opts = resolve_options(
        columns,
        config,
        {
            "as_of": as_of,
            "non_product_codes": non_product_codes,
            "drop_duplicates": drop_duplicates,
            "drop_zero_price": drop_zero_price,
            "drop_non_product": drop_non_product,
            "return_prefix": return_prefix,
            "date_format": date_format,
            "decimal": decimal,
            "delimiter": delimiter,
            "encoding": encoding,
            "sheet": sheet,
            "table": table,
            "query": query,
            "max_bad_fraction": max_bad_fraction,
        },
    )
    try:
        return _load_transactions(source, explicit, cfg_columns, opts, max_bytes)
    except (pl.exceptions.PolarsError, OSError, UnicodeError) as err:
        raise unreadable(source, err) from None


def unreadable(source: object, err: Exception) -> DataError:
    """Last-resort :class:`DataError` for an engine error on malformed input."""
    log.debug("unreadable source", exc_info=err)
    first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
    return DataError(
        f"the source could not be read ({type(err).__name__}: {first})",
        source=describe_source(source),
        hint="check the file is complete, in the format its name says, and delimited text "
        "with a header line if it is a CSV",
    )


def open_configured(source: Source, opts: IngestOptions, max_bytes: int | None) -> RawSource:
    """Open ``source`` with the reading options of ``opts`` (sheet, table/query, delimiter,
    encoding); shared by the transactions loader and :func:`~seglens.io.load_table`."""
    return open_source(
        source,
        sheet=opts.sheet,
        table=opts.table,
        query=opts.query,
        delimiter=opts.delimiter,
        encoding=opts.encoding,
        max_bytes=max_bytes,
    )


def _load_transactions(
    source: Source,
    explicit: dict[str, str],
    cfg_columns: dict[str, str],
    opts: IngestOptions,
    max_bytes: int | None,
) -> LoadedTable:
    raw = open_configured(source, opts, max_bytes)
    src_columns = raw.columns
    mapped_list, layout = resolve_mapping(
        src_columns, TRANSACTIONS, explicit=explicit, config=cfg_columns, source=raw.name
    )
    mapping = {m.canonical: m for m in mapped_list}
    check_applicable(opts, raw, {k: m.source for k, m in mapping.items() if m.how != "derived"})
    details: dict[str, Any] = dict(raw.details)
    built = dict(details)
    try:
        frame, warnings, plan, ctx = _build_frame(raw, mapping, opts, built, layout)
        df = frame.collect()
    except pl.exceptions.ComputeError as err:
        if raw.lossy_frame is None or "utf-8" not in str(err).lower():
            raise source_error(raw, err) from None
        log.info("%s has invalid UTF-8 bytes; rescanning with replacement", raw.name)
        raw.frame = raw.lossy_frame()
        raw.lossy_frame = None
        built = dict(details)
        frame, warnings, plan, ctx = _build_frame(raw, mapping, opts, built, layout)
        df = collect_source(raw, frame)
    except (pl.exceptions.PolarsError, OSError) as err:
        raise source_error(raw, err) from None
    details = built
    df, empty_rule = drop_empty_rows(df, raw.first_line)
    if df.height == 0:
        raise DataError(
            "the source has a header but no data rows"
            + (" (only empty lines)" if empty_rule.rows else ""),
            source=raw.name,
            hint="export the data again with its rows",
        )
    # one core sorts the line hashes while this thread patches values and checks the rules
    repeated = start_repeated_hashes(df.get_column("__hash"))
    derived = mapping["amount"].how == "derived"
    customers = _customer_ids(df, plan)
    text_dates = raw.frame.collect_schema()[mapping["timestamp"].source] == pl.String
    df, dated = fallback_dates(df, warnings, plan.date_format, text=text_dates)
    df, numbered, missed = fallback_numbers(df, plan.number_modes, derived=derived)
    df = refresh_masks(df, plan.masks, pl.concat([dated, numbered]).unique(maintain_order=True))
    df, reread = check_numbers(df, plan.number_modes, missed, ctx, details, warnings)
    if reread:  # a column re-read with a decimal comma: amounts and every mask follow
        if derived:
            df = df.with_columns((pl.col("quantity") * pl.col("__unit_price")).alias("amount"))
        df = refresh_masks(df, plan.masks, pl.int_range(df.height, dtype=pl.UInt32, eager=True))
    if customers.missing.all():
        raise DataError(
            "no row has a customer id",
            source=raw.name,
            column=mapping["customer_id"].source,
            hint="map the customer column with --columns customer_id=<column>",
        )
    fatal_fields = ("timestamp", "quantity", "unit_price") if derived else ("timestamp", "amount")
    check_fatal(df, ctx, (*fatal_fields, "order_id"), notes=raw.warnings)
    cleaned = apply_rules(df, ctx, plan.facts, customers=customers, repeated=repeated)
    canonical = cleaned.table
    if opts.as_of is not None:
        details["as_of"] = opts.as_of.isoformat(sep=" ")
    _, duplicates_note = judge_duplicates(
        opts.drop_duplicates, src_columns, has_order_id=_has_order_id(mapping)
    )
    if duplicates_note:
        details["duplicates"] = duplicates_note
    if ctx.return_prefix:
        details["return_prefix"] = ctx.return_prefix
    report = CleaningReport(
        source=raw.name,
        table="transactions",
        format=raw.format,
        rows_read=df.height + empty_rule.rows,
        rows_kept=canonical.height,
        customers_read=cleaned.customers_read,
        customers_kept=cleaned.customers_kept,
        columns_read=src_columns,
        mapping=mapped_list,
        layout=layout.title if layout else None,
        details=details,
        rules=[empty_rule, *cleaned.rules],
        warnings=raw.warnings + warnings,
    )
    if report.rows_kept == 0:
        report.warnings.append("no rows were kept: every line was excluded by a rule above")
    log.info("loaded %s: %d of %d rows kept", raw.name, report.rows_kept, report.rows_read)
    return LoadedTable(
        table=canonical,
        report=report,
        mapping={m.canonical: m.source for m in mapped_list},
        source=raw.name,
    )
