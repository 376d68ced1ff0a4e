"""Reading raw transactions on Spark as the embedded loader reads them.

The reading decisions (date format, decimal comma, ids written as ``12346.0``, whether text is
stripped, missing tokens) are taken by the embedded engine's own functions on the same sample
(the first rows); this module turns each decision into the Spark expression that reads the
same values: :func:`read_columns`. :func:`read_spark_csv` reads a delimited text file with
the embedded reader's sniffed delimiter and encoding. What Spark cannot read the same way is
refused (:data:`INGEST_FIRST` says what to do instead). The embedded engine's whole-column
number check has its Spark side here too: :func:`number_style` classes each value as
:func:`seglens.io.numbers.number_styles` does, with the same patterns. Used by
:func:`seglens.io.spark_cleaning.clean_on_spark`.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import polars as pl

from seglens.errors import DataError, UsageError
from seglens.io.config import IngestOptions
from seglens.io.mapping import NO_ORDER_ID_NOTE
from seglens.io.numbers import STYLE_PATTERNS, sample_decimal
from seglens.io.parsing import (
    _COMMA_NUMBER,
    _NUMBER_JUNK,
    _POINT_NUMBER,
    MISSING_TOKENS,
    DateFormat,
    detect_date_format,
    id_decimal_mode,
    needs_careful_numbers,
    text_steps,
)
from seglens.io.projection import SAMPLE_ROWS, date_warnings
from seglens.io.report import MappedColumn
from seglens.io.rules import raw_name

__all__ = [
    "INGEST_FIRST",
    "DateOrder",
    "SparkRead",
    "SparkText",
    "first_rows",
    "number_style",
    "read_columns",
    "read_spark_csv",
    "read_spark_text",
    "refuse_derived",
    "spark_date_pattern",
    "spark_dates",
    "spark_errors",
    "spark_functions",
    "src_col",
    "strip_text",
]

_DATE_CODES: Final = {"Y": "yyyy", "m": "M", "d": "d", "H": "H", "M": "m", "S": "s"}
_WS: Final = r"(?U)^\s+|\s+$"
"""Leading/trailing Unicode white space (Polars' ``strip_chars()``)."""
INGEST_FIRST: Final = (
    "ingest it with the embedded engine first (seglens ingest FILE -o clean.parquet), then "
    "give --engine spark the canonical Parquet file"
)


def spark_functions() -> Any:
    try:
        from pyspark.sql import functions
    except ImportError:
        raise UsageError(
            "the spark engine needs PySpark", hint="pip install 'seglens[spark]' (and Java 17+)"
        ) from None
    return functions


@contextmanager
def spark_errors(source: str) -> Iterator[None]:
    """Turn an error Spark raises on the executors (a malformed line, an unreadable file) into a
    :class:`~seglens.errors.DataError` naming the source, instead of a JVM traceback."""
    from py4j.protocol import Py4JJavaError  # type: ignore[import-untyped]
    from pyspark.errors import PySparkException

    try:
        yield
    except (PySparkException, Py4JJavaError) as err:
        raise DataError(
            f"Spark could not read the source ({_reason(str(err))})",
            source=source,
            hint="check the file is complete and well formed (seglens ingest FILE names a "
            "malformed line), or " + INGEST_FIRST,
        ) from None


def _reason(text: str) -> str:
    """The line of a Spark error that says what went wrong (its error class), else the first."""
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    for line in lines:
        found = re.search(r"(?:Exception|Error): (\[[A-Z_.]+\].*)", line)
        if found:
            return found.group(1)[:300]
    return lines[0][:300] if lines else "no message"


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
                    hint=INGEST_FIRST,
                )
            out.append(code)
        elif part:
            out.append(
                "'" + part.replace("'", "''") + "'" if re.search(r"[A-Za-z']", part) else part
            )
    return "".join(out)


@dataclass(frozen=True)
class SparkText:
    """A delimited text file read by Spark, with what the embedded reader reports about it."""

    frame: Any
    """The Spark DataFrame: every column as text."""
    details: dict[str, Any]
    """The reader's report details (``encoding``, ``compression``, ``delimiter``)."""
    warnings: list[str]
    """The reader's warnings (e.g. the file is not UTF-8 and how it was read)."""


def read_spark_csv(
    session: Any, path: str | os.PathLike[str], *, delimiter: str | None = None
) -> Any:
    """Read a delimited text file on Spark as the embedded reader does: every column as text,
    delimiter and encoding sniffed by :func:`seglens.io.textfiles.read_text_file`, quotes
    doubled inside quoted fields, a malformed line an error. :func:`read_spark_text` also
    keeps what the reader reports, for the cleaning report."""
    return read_spark_text(session, path, delimiter=delimiter).frame


def read_spark_text(
    session: Any, path: str | os.PathLike[str], *, delimiter: str | None = None
) -> SparkText:
    """:func:`read_spark_csv`, with the embedded reader's details and warnings about the file
    (give it to :func:`seglens.io.spark_cleaning.clean_on_spark` for the same report).

    The quirks the embedded reader handles are read the same way or refused: Spark's line
    reader breaks lines at a lone carriage return (old Mac files) as the embedded reader's fix
    does, and a file the embedded reader refuses for one (found past the first bytes) is
    refused with the same error; a DOS end-of-file mark (^Z) on its own last line is skipped
    by both, one glued to the last value is removed from it as the embedded reader does;
    repeated header names get the embedded reader's names (``amount_duplicated_0``).
    """
    from seglens.io.textfiles import read_text_file

    raw = read_text_file(Path(path), delimiter=delimiter, max_bytes=None)
    # a file the embedded reader scans as it is (no fixes): a lone CR past its head is an error
    locate = raw.locate_bad_structure
    if raw.lossy_frame is not None and locate and _lone_cr(Path(path), raw.details["compression"]):
        raise locate()
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
            hint=INGEST_FIRST,
        )
    delim = {"tab": "\t", "comma": ",", "semicolon": ";", "pipe": "|"}.get(
        str(raw.details["delimiter"]), str(raw.details["delimiter"])
    )
    with spark_errors(str(path)):
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
    frame = _embedded_names(session, frame, raw.columns, str(path))
    if any(w.startswith(_EOF_NOTE) for w in raw.warnings):
        frame = _without_eof_mark(frame, Path(path), raw.details.get("compression"))
    return SparkText(frame, dict(raw.details), list(raw.warnings))


_EOF_NOTE: Final = "the DOS end-of-file mark (^Z)"
"""How the embedded reader's warning about a final ^Z it ignored begins."""


def _decompressed(path: Path, kind: Any) -> Any:
    """The file opened for reading its bytes, decompressed (``kind`` as the reader's
    ``compression`` detail says)."""
    from seglens.io.textfiles import _opened

    return _opened(path, kind if kind in ("gzip", "bz2", "xz") else None)


def _lone_cr(path: Path, kind: Any) -> bool:
    """Whether the (decompressed) file has a carriage return not followed by a line feed
    (a CR as the very last byte excepted: both readers end the line there). Two byte counts
    per block, at about the speed of reading the file."""
    after_cr = False
    with _decompressed(path, kind) as fh:
        while block := fh.read(1 << 23):
            if after_cr and not block.startswith(b"\n"):
                return True
            after_cr = block.endswith(b"\r")
            n = block.count(b"\r")
            if n and n - after_cr != block.count(b"\r\n"):
                return True
    return False


def _embedded_names(session: Any, frame: Any, names: list[str], source: str) -> Any:
    """The Spark columns named as the embedded reader names them: Spark numbers every
    repeated header name (``amount3``, ``amount4``), the embedded reader keeps the first and
    renames the others (``amount_duplicated_0``). Names that differ only in case are refused
    when Spark does not tell them apart (``spark.sql.caseSensitive`` off, its default)."""
    if list(frame.columns) == names or len(frame.columns) != len(names):
        return frame
    if session.conf.get("spark.sql.caseSensitive", "false").lower() != "true":
        first: dict[str, str] = {}
        for name in names:
            other = first.setdefault(name.lower(), name)
            if other != name:
                raise UsageError(
                    f"the header has column names that differ only in case ({other!r} and "
                    f"{name!r}): Spark does not tell them apart",
                    source=source,
                    hint="rename one of them in the header line, or " + INGEST_FIRST,
                )
    return frame.toDF(*names)


def _without_eof_mark(frame: Any, path: Path, kind: Any) -> Any:
    """The frame without the DOS end-of-file mark (^Z) the embedded reader ignored, when it is
    glued to the last value (on a line of its own, Spark's reader skips it as blank): removed
    from the one value of the last column that ends with it; refused when several do (the
    embedded reader removes only the file's last)."""
    with _decompressed(path, kind) as fh:
        tail = b""
        while block := fh.read(1 << 23):
            tail = (tail + block)[-256:]
    body = tail.rstrip(b"\r\n").rstrip(b"\x1a")
    if body.endswith((b"\n", b"\r")) or not body:
        return frame
    sf = spark_functions()
    last = src_col(frame.columns[-1])
    marked = last.endswith("\x1a")
    if frame.filter(marked).limit(2).count() > 1:
        raise UsageError(
            "the file ends with a DOS end-of-file mark (^Z) glued to its last value, and other "
            f"values of {frame.columns[-1]!r} end with ^Z too: Spark cannot tell which line is "
            "the file's last",
            source=str(path),
            hint="end the file with a line break before the ^Z (or remove the ^Z), or "
            + INGEST_FIRST,
        )
    kept = sf.regexp_replace(last, "\x1a+$", "")
    return frame.withColumn(
        frame.columns[-1], sf.when(marked, sf.nullif(kept, sf.lit(""))).otherwise(last)
    )


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
        hint=INGEST_FIRST,
    )


@dataclass(frozen=True)
class DateOrder:
    """Text dates read in the other day/month order than the first rows chose (later rows
    showed it: :func:`seglens.io.projection.day_month_warnings`)."""

    format: str
    warnings: list[str]
    """The report's warnings about the column, instead of the first rows' ambiguity warning."""


@dataclass
class SparkRead:
    """What reading the columns decided (for the masks and the report)."""

    exprs: dict[str, Any]
    ids: str = "text"
    text_fields: tuple[str, ...] = ()
    checked: tuple[tuple[str, str], ...] = ()
    """(parsed column, source column) pairs whose non-blank values must all read."""
    numbers: tuple[tuple[str, str, bool], ...] = ()
    """Text number columns whose separators are checked on every value: (field, source
    column, read with a decimal comma); none when ``--decimal`` is given."""
    reread: tuple[str, ...] = ()
    """Source columns read with a decimal comma because later rows showed one."""
    warnings: list[str] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)
    """Report details decided on the sample (``timestamp_format``, ``decimal_comma``), as
    :class:`seglens.io.projection.Plan` has them."""
    date_format: str | None = None
    """The format text dates are read with."""
    date_other: str | None = None
    """That format with day and month swapped, when the first rows read either way."""


def src_col(name: str) -> Any:
    """A source column by its name as written (dots and spaces are not struct access)."""
    return spark_functions().col("`" + name.replace("`", "``") + "`")


def strip_text(c: Any) -> Any:
    return spark_functions().regexp_replace(c, _WS, "")


def _try_double(c: Any) -> Any:
    return c.try_cast("double")


def _finite(c: Any) -> Any:
    sf = spark_functions()
    return sf.when(~sf.isnan(c) & (sf.abs(c) != sf.lit(float("inf"))), c)


def _ids(cid: str, dtype: pl.DataType, sample: pl.DataFrame, read: SparkRead) -> None:
    """Customer ids as the loader reads them (``_build_frame``): whole numbers of a numeric
    column, or text with ``.0`` decimals removed; ``__id_fixed`` marks the rewritten ones."""
    sf = spark_functions()
    c = src_col(cid)
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
    stripped = strip_text(c.cast("string"))
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
    sf = spark_functions()
    c = src_col(col)
    if dtype.is_integer():
        return c.cast("string")
    if dtype.is_float():
        return sf.when(c == sf.floor(c), c.try_cast("long").cast("string"))
    stripped, missing = text_steps(sample.get_column(col))
    text = strip_text(c.cast("string")) if stripped else c.cast("string")
    return (
        sf.when(text.isin(list(MISSING_TOKENS)), sf.lit(None)).otherwise(text) if missing else text
    )


def spark_dates(c: Any, fmt: str) -> Any:
    """Text dates read with the strftime ``fmt`` (stripped; a ``%Y`` year of four digits), as
    :func:`seglens.io.parsing.retry_timestamps` reads them."""
    sf = spark_functions()
    parsed = sf.try_to_timestamp(strip_text(c), sf.lit(spark_date_pattern(fmt)))
    parsed = parsed.cast("timestamp_ntz")
    return sf.when(sf.year(parsed) >= 1000, parsed) if "%Y" in fmt else parsed


def _timestamp(
    col: str, dtype: pl.DataType, sample: pl.DataFrame, opts: IngestOptions
) -> tuple[Any, DateFormat | None]:
    """The timestamp as the loader reads it: the format detected on the sample (the same
    function), a ``%Y`` year of four digits; dates and date-times as they are (naive UTC).
    Also the format of a text column."""
    sf = spark_functions()
    c = src_col(col)
    if isinstance(dtype, pl.Datetime | pl.Date):
        return c.cast("timestamp_ntz"), None
    if dtype.is_numeric():
        return sf.try_to_timestamp(c.cast("long").cast("string"), sf.lit("yyyyMMdd")).cast(
            "timestamp_ntz"
        ), None
    fmt = detect_date_format(sample.get_column(col), preferred=opts.date_format)
    if fmt is None:
        raise DataError(
            "no date of the first rows reads with a known format (e.g. "
            + ", ".join(repr(v) for v in sample.get_column(col).drop_nulls().head(3).to_list())
            + ")",
            column=col,
            hint="give the format with --date-format (e.g. %d/%m/%Y)",
        )
    return spark_dates(c, fmt.format), fmt


def number_style(c: Any) -> Any:
    """The :data:`~seglens.io.numbers.Style` of each text number, as
    :func:`seglens.io.numbers.number_styles` classes it (same cleaning, same patterns; Java's
    ``\\d`` made Unicode like Rust's). Only values with a separator are classed: the others
    (missing, ``plain`` or ``other``) decide nothing and are left null, as the regular
    expressions cost most of the check."""
    sf = spark_functions()
    text = c.cast("string")
    cleaned = sf.regexp_replace(strip_text(text), "(?U)" + _NUMBER_JUNK, "")
    cleaned = sf.regexp_replace(cleaned, r"^[()]+|[()]+$", "")
    cleaned = sf.regexp_replace(sf.regexp_replace(cleaned, r"^-", ""), r"^\+", "")
    style = sf.when(sf.lit(False), sf.lit(None))
    for name, pattern in STYLE_PATTERNS:
        style = style.when(cleaned.rlike("(?U)" + pattern), sf.lit(name))
    separated = text.contains(".") | text.contains(",")
    return sf.when(separated, style.otherwise(sf.lit("other")))


def _number(
    col: str, dtype: pl.DataType, sample: pl.DataFrame, opts: IngestOptions, comma_later: bool
) -> tuple[Any, bool | None, bool]:
    """A number as the loader reads it: plain, or the careful way (currency, separators,
    accounting negatives, a decimal comma) when the sample shows it (or ``comma_later``: later
    rows do); NaN and infinities null. Also, for a text column whose convention was not given,
    whether it is read with a decimal comma (else None: nothing to check); and whether the
    sample or ``--decimal`` chose the decimal comma (the report's ``decimal_comma``)."""
    sf = spark_functions()
    c = src_col(col)
    if dtype == pl.Boolean or dtype.is_numeric():
        return _finite(c.cast("double")), None, False
    values = sample.get_column(col)
    point, comma = sample_decimal(values)
    first = opts.decimal == "," if opts.decimal is not None else comma and not point
    decimal_comma = first or comma_later
    checked = None if opts.decimal is not None else decimal_comma
    if not (decimal_comma or needs_careful_numbers(values)):
        return _finite(_try_double(strip_text(c))), checked, first
    cleaned = sf.regexp_replace(strip_text(c), "(?U)" + _NUMBER_JUNK, "")
    negative = cleaned.rlike(r"^\(.*\)$")
    cleaned = sf.regexp_replace(cleaned, r"^[()]+|[()]+$", "")
    if decimal_comma:
        valid = cleaned.rlike(_COMMA_NUMBER)
        cleaned = sf.regexp_replace(sf.regexp_replace(cleaned, r"\.", ""), ",", ".")
    else:
        valid = cleaned.rlike(_POINT_NUMBER)
        cleaned = sf.regexp_replace(cleaned, ",", "")
    value = sf.when(valid, _try_double(cleaned))
    return _finite(sf.when(negative, -value).otherwise(value)), checked, first


def _flag(col: str, dtype: pl.DataType) -> Any:
    """A return flag as :func:`seglens.io.parsing.bool_expr` reads it."""
    from seglens.io.parsing import _FALSE, _TRUE

    sf = spark_functions()
    c = src_col(col)
    if dtype == pl.Boolean:
        return c
    if dtype.is_numeric():
        return c != 0
    text = sf.lower(strip_text(c.cast("string")))
    return sf.when(text.isin(list(_TRUE)), True).when(text.isin(list(_FALSE)), False)


def read_columns(
    mapping: dict[str, MappedColumn],
    sample: pl.DataFrame,
    opts: IngestOptions,
    comma: frozenset[str] = frozenset(),
    dates: DateOrder | None = None,
) -> SparkRead:
    """Every parsed column (and the source values the rules show) as Spark expressions;
    ``comma``: source number columns to read with a decimal comma (later rows showed one);
    ``dates``: text dates read in the other day/month order (later rows showed it)."""
    src = {k: m.source for k, m in mapping.items() if m.how != "derived"}
    schema = sample.schema
    read = SparkRead(exprs={})
    _ids(src["customer_id"], schema[src["customer_id"]], sample, read)
    read.exprs[raw_name("timestamp")] = src_col(src["timestamp"])
    if mapping["order_id"].how == "derived":  # no order column: one order per customer and time
        order = _derived_order(src["customer_id"], src["timestamp"], schema)
        read.exprs["order_id"] = read.exprs[raw_name("order_id")] = order
        read.warnings.append(NO_ORDER_ID_NOTE)
    else:
        read.exprs[raw_name("order_id")] = src_col(src["order_id"])
        read.exprs["order_id"] = _text(src["order_id"], schema[src["order_id"]], sample)
    ts, fmt = _timestamp(src["timestamp"], schema[src["timestamp"]], sample, opts)
    if fmt is not None and dates is not None:
        ts, fmt = (
            spark_dates(src_col(src["timestamp"]), dates.format),
            DateFormat(dates.format, 1.0),
        )
    read.exprs["timestamp"] = ts
    read.warnings += dates.warnings if dates else date_warnings(src["timestamp"], fmt)
    if fmt is not None:
        read.details["timestamp_format"] = fmt.format
        read.date_format, read.date_other = fmt.format, fmt.ambiguous_with
    checked = [("timestamp", src["timestamp"])]
    numbers = {"quantity": "quantity", "unit_price": "__unit_price"}
    if mapping["amount"].how != "derived":
        numbers["amount"] = "amount"
    read.exprs["quantity"] = spark_functions().lit(None).cast("double")
    first_comma = []
    for fld, name in numbers.items():
        if fld in src:
            later = src[fld] in comma
            read.exprs[name], comma_read, first = _number(
                src[fld], schema[src[fld]], sample, opts, later
            )
            read.exprs[raw_name(fld)] = src_col(src[fld])
            checked.append((name, src[fld]))
            if comma_read is not None:
                read.numbers += ((fld, src[fld], comma_read),)
            if first:
                first_comma.append(src[fld])
    # as the embedded report lists them: decided on the sample, then re-read (field order)
    read.reread = tuple(src[f] for f in numbers if f in src and src[f] in comma)
    if first_comma or read.reread:
        read.details["decimal_comma"] = [*first_comma, *read.reread]
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
                column=col,
                hint=INGEST_FIRST,
            )
    parts = [strip_text(src_col(c).cast("string")) for c in (customer, timestamp)]
    return spark_functions().concat_ws(" ", *parts)


def refuse_derived(mapping: dict[str, MappedColumn], source: str) -> None:
    derived = [
        m for k, m in mapping.items() if m.how == "derived" and k not in ("amount", "order_id")
    ]
    if derived:
        raise UsageError(
            f"the spark engine cannot derive {derived[0].canonical} ({derived[0].source})",
            source=source,
            hint=INGEST_FIRST,
        )


def first_rows(frame: Any, source: str) -> pl.DataFrame:
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
