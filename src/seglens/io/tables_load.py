"""``load_table``: customers, labels and segment assignments from any source."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

import polars as pl

from seglens.errors import DataError
from seglens.io.cleaning import LINE, raw_name
from seglens.io.config import IngestOptions
from seglens.io.fixups import drop_empty_rows, empty_row_exprs, fallback_dates
from seglens.io.load import (
    collect_source,
    load_transactions,
    open_configured,
    resolve_options,
    unreadable,
)
from seglens.io.mapping import resolve_mapping
from seglens.io.parsing import (
    MISSING_TOKENS,
    TWO_DIGIT_YEARS,
    DateFormat,
    detect_date_format,
    id_expr,
    timestamp_expr,
)
from seglens.io.report import CleaningReport, LoadedTable, RuleResult
from seglens.io.sources import DEFAULT_MAX_BYTES, Source
from seglens.io.sources_base import ROW, RawSource
from seglens.tables import CUSTOMERS, TRANSACTIONS, TableSpec

__all__ = ["load_table"]


def _extra_column(df: pl.DataFrame, name: str) -> pl.Series:
    """An extra (demographic) column: numbers when every value reads as one, else text."""
    s = df.get_column(name)
    if s.dtype != pl.String:
        return s
    text = (
        s.to_frame()
        .select(
            pl.when(pl.col(name).str.strip_chars().is_in(MISSING_TOKENS))
            .then(None)
            .otherwise(pl.col(name).str.strip_chars())
            .alias(name)
        )
        .to_series()
    )
    num = text.cast(pl.Float64, strict=False)
    if num.null_count() == text.null_count() and text.null_count() < len(text):
        return num
    return text


def load_table(
    source: Source,
    spec: TableSpec,
    *,
    columns: str | Mapping[str, str] | None = None,
    config: str | os.PathLike[str] | Mapping[str, Any] | None = None,
    sheet: str | int | None = None,
    query: str | None = None,
    table: str | None = None,
    delimiter: str | None = None,
    encoding: str | None = None,
    max_bytes: int | None = DEFAULT_MAX_BYTES,
) -> LoadedTable:
    """Load a canonical table (customers, labels, assignments; transactions delegate).

    Ids are kept as written (``17850.0`` -> ``17850``); rows without a customer id are excluded
    and counted; for customers and assignments a repeated customer id keeps its first row;
    empty lines are dropped and counted. Datetime columns (``labeled_at``) are parsed like
    transaction timestamps; an empty one stays null, an unreadable one is a :class:`DataError`
    naming the line and value (it is never replaced by the time of the import).
    Tables with ``open_ended`` specs keep every other source column (numbers where every value
    is a number).

    Examples
    --------
    >>> import polars as pl
    >>> from seglens.tables import ASSIGNMENTS
    >>> got = load_table(pl.DataFrame({"CustomerID": [1.0, 2.0, 2.0], "cluster": ["a", "b", "c"]}),
    ...                  ASSIGNMENTS)
    >>> got.table.rows()
    [('1', 'a'), ('2', 'b')]
    >>> got.report.rule("duplicate_customer_id").rows
    1
    """
    if spec is TRANSACTIONS:
        return load_transactions(
            source,
            columns=columns,
            config=config,
            sheet=sheet,
            query=query,
            table=table,
            delimiter=delimiter,
            encoding=encoding,
            max_bytes=max_bytes,
        )
    explicit, cfg_columns, opts = resolve_options(
        columns,
        config,
        {
            "sheet": sheet,
            "table": table,
            "query": query,
            "delimiter": delimiter,
            "encoding": encoding,
        },
    )
    try:
        return _load_table(source, spec, explicit, cfg_columns, opts, max_bytes)
    except (pl.exceptions.PolarsError, OSError, UnicodeError) as err:
        raise unreadable(source, err) from None


def _load_table(
    source: Source,
    spec: TableSpec,
    explicit: dict[str, str],
    cfg_columns: dict[str, str],
    opts: IngestOptions,
    max_bytes: int | None,
) -> LoadedTable:
    raw: RawSource = open_configured(source, opts, max_bytes)
    src_columns = raw.columns
    mapped, _ = resolve_mapping(
        src_columns, spec, explicit=explicit, config=cfg_columns, source=raw.name
    )
    src = {m.canonical: m.source for m in mapped}
    schema = raw.frame.collect_schema()
    exprs: list[pl.Expr] = [(pl.col(ROW).cast(pl.Int64) + raw.first_line).alias(LINE)]
    details: dict[str, Any] = dict(raw.details)
    formats: dict[str, DateFormat | None] = {}
    warnings = list(raw.warnings)
    for col in spec.columns:
        if col.name not in src:
            exprs.append(pl.lit(None, col.dtype).alias(col.name))
            continue
        s = src[col.name]
        if isinstance(col.dtype, pl.Datetime):
            fmt = None
            if schema[s] == pl.String:
                sample = raw.frame.select(s).head(100_000).collect().to_series()
                fmt = detect_date_format(sample)
                if fmt is not None and "%y" in fmt.format:
                    warnings.append(
                        f"dates in {s!r} have two-digit years ({fmt.format}), read as "
                        f"{TWO_DIGIT_YEARS}"
                    )
            formats[col.name] = fmt
            exprs.append(timestamp_expr(s, schema[s], fmt).alias(col.name))
            exprs.append(pl.col(s).cast(pl.String).alias(raw_name(col.name)))
        else:
            exprs.append(id_expr(s, schema[s]).cast(col.dtype).alias(col.name))
    used = set(src.values())
    extras = [c for c in src_columns if c not in used] if spec.open_ended else []
    exprs += [pl.col(c) for c in extras if c not in spec.names]
    exprs += empty_row_exprs(src_columns, schema[src_columns[0]] == pl.String)
    df = collect_source(raw, raw.frame.select(exprs))
    df, empty_rule = drop_empty_rows(df, raw.first_line)
    if df.height == 0:
        raise DataError(
            "the source has a header but no data rows",
            source=raw.name,
            hint="export the data again with its rows",
        )
    for name, fmt in formats.items():
        text = schema[src[name]] == pl.String
        df, _ = fallback_dates(df, warnings, fmt.format if fmt else None, text=text, col=name)
    rules: list[RuleResult] = [empty_rule]
    excluded = df.get_column("customer_id").is_null()
    if int(excluded.sum()) == df.height:
        raise DataError(
            "no row has a customer id",
            source=raw.name,
            column=src["customer_id"],
            hint="map the customer column with --columns customer_id=<column>",
        )
    rules.append(
        RuleResult(
            "missing_customer_id",
            "excluded",
            int(excluded.sum()),
            "no customer id; row excluded",
            int(excluded.sum()),
            _examples(df, excluded, "customer_id", src["customer_id"]),
        )
    )
    for req in spec.required:
        if req == "customer_id":
            continue
        miss = df.get_column(req).is_null()
        new = miss & ~excluded
        excluded = excluded | miss
        rules.append(
            RuleResult(
                f"missing_{req}",
                "excluded",
                int(miss.sum()),
                f"no {req}; row excluded",
                int(new.sum()),
                _examples(df, miss, req, src[req]),
            )
        )
    details["excluded_lines"] = _excluded_lines(df, rules)
    for name in formats:
        _check_dates(df, name, src[name], excluded, raw)
    if spec.name in {CUSTOMERS.name, "assignments"}:
        dup = df.get_column("customer_id").is_first_distinct().not_() & ~excluded
        excluded = excluded | dup
        rules.append(
            RuleResult(
                "duplicate_customer_id",
                "excluded",
                int(dup.sum()),
                "customer id already seen on an earlier row; the first row is kept",
                int(dup.sum()),
                _examples(df, dup, "customer_id", src["customer_id"]),
            )
        )
    kept = df.filter(~excluded)
    out = kept.select(
        [pl.col(c.name).cast(c.dtype) for c in spec.columns]
        + [_extra_column(kept, c) for c in extras if c not in spec.names]
    )
    report = CleaningReport(
        source=raw.name,
        table=spec.name,
        format=raw.format,
        rows_read=df.height + empty_rule.rows,
        rows_kept=out.height,
        customers_read=df.get_column("customer_id").drop_nulls().n_unique(),
        customers_kept=out.get_column("customer_id").n_unique(),
        columns_read=src_columns,
        mapping=mapped,
        details=details,
        rules=rules,
        warnings=warnings,
    )
    return LoadedTable(
        table=out, report=report, mapping=src, source=raw.name, lines=kept.get_column(LINE)
    )


MAX_LINES = 1_000
"""Line numbers kept per rule in ``details["excluded_lines"]``."""


def _excluded_lines(df: pl.DataFrame, rules: list[RuleResult]) -> dict[str, list[int]]:
    """The lines each missing-value rule excluded (first :data:`MAX_LINES`), so an import can
    name every skipped row, not only the five examples."""
    out: dict[str, list[int]] = {}
    for r in rules:
        if not r.rule.startswith("missing_") or not r.rows:
            continue
        mask = df.get_column(r.rule.removeprefix("missing_")).is_null()
        out[r.rule] = df.filter(mask).get_column(LINE).head(MAX_LINES).to_list()
    return out


def _check_dates(
    df: pl.DataFrame, name: str, source_col: str, excluded: pl.Series, raw: RawSource
) -> None:
    """Refuse unreadable dates in the rows kept: a label dated by the import time instead
    could outrank a later one."""
    text = df.get_column(raw_name(name)).cast(pl.String).str.strip_chars()
    present = text.is_not_null() & ~text.is_in(MISSING_TOKENS)
    bad = (df.get_column(name).is_null() & present & ~excluded).fill_null(False)
    if not bad.any():
        return
    rows = df.filter(bad).select(LINE, raw_name(name)).head(10).rows()
    raise DataError(
        f"{int(bad.sum()):,} row(s) have a {name} that is not a readable date",
        source=raw.name,
        column=source_col,
        lines=tuple(r[0] for r in rows),
        values=tuple(r[1] for r in rows),
        hint=f"write dates as YYYY-MM-DD or YYYY-MM-DD HH:MM:SS, or leave the cell empty (the "
        f"import time is then used); {name} decides which of two labels is newer",
    )


def _examples(
    df: pl.DataFrame, mask: pl.Series, col: str, label: str
) -> tuple[dict[str, Any], ...]:
    rows = df.filter(mask).select(LINE, col).head(5).rows()
    return tuple(
        {"line": ln, "column": label, "value": None if v is None else str(v)} for ln, v in rows
    )
