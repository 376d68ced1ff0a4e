"""``load_transactions``: any source -> the canonical transactions table + a cleaning report."""

from __future__ import annotations

import datetime as dt
import logging
import os
from collections.abc import Mapping, Sequence
from typing import Any

import polars as pl

from seglens.errors import DataError
from seglens.io.cleaning import (
    MASK,
    RuleContext,
    apply_rules,
    check_fatal,
    line_numbers,
    raw_name,
    refresh_masks,
)
from seglens.io.config import IngestOptions, check_applicable, read_config
from seglens.io.customers import (
    CustomerIds,
    numeric_ids,
    text_ids,
)
from seglens.io.duplicates import judge_duplicates, start_repeated_hashes
from seglens.io.fixups import (
    drop_empty_rows,
    fallback_dates,
    fallback_numbers,
)
from seglens.io.mapping import (
    parse_column_mapping,
    resolve_mapping,
)
from seglens.io.numbers import check_numbers
from seglens.io.parsing import DateFormat, retry_timestamps
from seglens.io.projection import (
    NO_ROWS_KEPT,
    SAMPLE_ROWS,
    Plan,
    build_frame,
    date_orders_error,
    date_warnings,
    day_month_warnings,
    has_order_id,
)
from seglens.io.report import CleaningReport, LoadedTable
from seglens.io.sources import DEFAULT_MAX_BYTES, Source, describe_source, open_source
from seglens.io.sources_base import RawSource
from seglens.tables import TRANSACTIONS

__all__ = [
    "SAMPLE_ROWS",
    "collect_source",
    "load_transactions",
    "resolve_options",
    "source_error",
    "unreadable",
]

log = logging.getLogger(__name__)


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


def _day_month_order(
    df: pl.DataFrame, plan: Plan, ctx: RuleContext, warnings: list[str], details: dict[str, Any]
) -> tuple[pl.DataFrame, str | None]:
    """The timestamps read in the other day/month order when the first rows read either way
    and a later value reads only the other way: then, if every value the detected format reads
    also reads the other way, the whole column is read again that way (warned, with the first
    value that decided it); else the column mixes both orders, an error. Returns the frame and
    the format its timestamps are now read with.

    Values neither order reads are left to :func:`~seglens.io.fixups.fallback_dates` as before.
    """
    fmt, other = plan.date_format, plan.date_other
    if fmt is None or other is None:
        return df, fmt
    text = df.get_column(raw_name("timestamp")).cast(pl.String)
    misses = df.get_column("timestamp").is_null() & (text.str.strip_chars() != "")
    idx = misses.fill_null(False).arg_true()
    if idx.len() == 0:
        return df, fmt
    missed = text.gather(idx)
    only_other = (
        retry_timestamps(missed, other).is_not_null() & retry_timestamps(missed, fmt).is_null()
    )
    if not only_other.any():
        return df, fmt
    first = idx.gather(only_other.arg_true().head(1))
    line = line_numbers(df, first, ctx)[0]
    value = str(text.gather(first).item())
    swapped = retry_timestamps(text, other)
    back = (retry_timestamps(text, fmt).is_not_null() & swapped.is_null()).arg_true().head(1)
    column = ctx.source_columns["timestamp"]
    if back.len():
        found = [(line, value, other), (line_numbers(df, back, ctx)[0], text[back[0]], fmt)]
        raise date_orders_error(ctx.source, column, fmt, found, ctx.line_word)
    before = date_warnings(column, DateFormat(fmt, 1.0, other))
    at = warnings.index(before[0])
    warnings[at : at + len(before)] = day_month_warnings(
        column, other, f"{ctx.line_word} {line:,}", value
    )
    details["timestamp_format"] = other
    log.info("%s: dates read again as %s (%s %d)", ctx.source, other, ctx.line_word, line)
    return df.with_columns(swapped.alias("timestamp")), other


def _customer_ids(df: pl.DataFrame, plan: Plan) -> CustomerIds:
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
    try:
        frame, warnings, plan, ctx = build_frame(raw, mapping, opts, layout)
        df = frame.collect()
    except pl.exceptions.ComputeError as err:
        if raw.lossy_frame is None or "utf-8" not in str(err).lower():
            raise source_error(raw, err) from None
        log.info("%s has invalid UTF-8 bytes; rescanning with replacement", raw.name)
        raw.frame = raw.lossy_frame()
        raw.lossy_frame = None
        frame, warnings, plan, ctx = build_frame(raw, mapping, opts, layout)
        df = collect_source(raw, frame)
    except (pl.exceptions.PolarsError, OSError) as err:
        raise source_error(raw, err) from None
    details |= plan.details
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
    df, date_format = _day_month_order(df, plan, ctx, warnings, details)
    df, dated = fallback_dates(df, warnings, date_format, text=text_dates)
    df, numbered, missed = fallback_numbers(df, plan.number_modes, derived=derived)
    patched = pl.concat([dated, numbered]).unique(maintain_order=True)
    if date_format != plan.date_format:  # every timestamp was read again
        patched = pl.int_range(df.height, dtype=pl.UInt32, eager=True)
    df = refresh_masks(df, plan.masks, patched)
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
        opts.drop_duplicates, src_columns, has_order_id=has_order_id(mapping)
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
        report.warnings.append(NO_ROWS_KEPT)
    log.info("loaded %s: %d of %d rows kept", raw.name, report.rows_kept, report.rows_read)
    return LoadedTable(
        table=canonical,
        report=report,
        mapping={m.canonical: m.source for m in mapped_list},
        source=raw.name,
    )
