"""Spark's cleaning report carries the embedded report's warnings and notes, word for word.

Small Online Retail exports re-written the way users send them: a European ``;`` file in
Windows-1252 with ``dd/mm/yyyy`` dates and decimal-comma prices. The whole report objects of
both engines are compared (rows, rule counts and messages, details, warnings); only what
Spark cannot know differs: the format (``spark``), ``details["engine"]`` and the example lines.

The day/month order is decided on the first rows by both engines (the first 2,000 distinct
dates of the first 100,000 rows, :func:`seglens.io.parsing.detect_date_format`), day first when
they read either way: a later day 13 (``13/12/2011``) confirms it, and the warning stays; a
later ``04/13/2011`` shows the file is month first, and both engines read every date month first
(warned, that line named), or refuse a file written both ways with the same error.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from seglens.errors import DataError, UsageError
from seglens.io import CleaningReport, LoadedTable, load_transactions
from seglens.io.projection import NO_ROWS_KEPT
from seglens.io.spark_cleaning import clean_on_spark
from seglens.io.spark_reading import read_spark_text

pytestmark = pytest.mark.spark

HEADER = "InvoiceNo;StockCode;Description;Quantity;InvoiceDate;UnitPrice;CustomerID;Country\n"
AMBIGUOUS_ROWS = 2_100
"""Lines whose dates all have a day of 12 or less: more than the 2,000 distinct dates the
format is detected on."""


def _slots(n: int) -> list[dt.datetime]:
    """The first ``n`` shop times of 2011 whose day is 12 or less (each distinct)."""
    days = [dt.date(2011, m, d) for m in range(1, 13) for d in range(1, 13)]
    times = [dt.time(h, mi) for h in range(8, 18) for mi in (0, 26)]
    return [dt.datetime.combine(d, t) for d in days for t in times][:n]


def _line(i: int, when: dt.datetime, *, month_first: bool = False) -> str:
    """One invoice line, Online Retail style; every 50th without a customer, every 97th a
    cancellation, every 300th the postage code."""
    stamp = when.strftime("%m/%d/%Y %H:%M" if month_first else "%d/%m/%Y %H:%M")
    invoice = f"{'C' if i % 97 == 5 else ''}{540000 + i}"
    code, text = ("POST", "POSTAGE") if i % 300 == 7 else ("85123A", "PORTE-BOUGIE CŒUR BLANC")
    qty = -2 if invoice.startswith("C") else 1 + i % 12
    price = f"{1 + i % 9},{i % 100:02d}"
    customer = "" if i % 50 == 3 else str(12346 + i % 40)
    return f"{invoice};{code};{text.replace('Œ', 'E')};{qty};{stamp};{price};{customer};Côte\n"


def _write(path: Path, lines: list[str]) -> Path:
    path.write_bytes((HEADER + "".join(lines)).encode("cp1252"))
    return path


def _alike(report: CleaningReport) -> dict[str, Any]:
    """The report without what Spark cannot know: format, engine, example lines."""
    out = report.to_dict()
    out.pop("format")
    out["details"].pop("engine", None)
    for rule in out["rules"]:
        rule["examples"] = []
    return out


def _both(path: Path, spark: Any, **options: Any) -> tuple[LoadedTable, CleaningReport]:
    """Both engines' cleaning of ``path``: the embedded result and Spark's report (the
    tables checked equal)."""
    embedded = load_transactions(path, **options)
    on_spark = clean_on_spark(read_spark_text(spark, path), source=str(path), **options)
    table = pl.from_arrow(on_spark.table.toArrow())
    assert isinstance(table, pl.DataFrame)
    order = ["order_id", "product_id", "timestamp", "customer_id"]
    assert_frame_equal(table.sort(order), embedded.table.sort(order))
    return embedded, on_spark.report


@pytest.fixture(scope="module")
def day_first(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """2,100 lines with days of 12 or less, then one on 13/12/2011 (day-first after all)."""
    slots = [*_slots(AMBIGUOUS_ROWS), dt.datetime(2011, 12, 13, 10, 0)]
    lines = [_line(i, when) for i, when in enumerate(slots)]
    return _write(tmp_path_factory.mktemp("dates") / "retail_fr.csv", lines)


def test_day_month_warning_and_reader_notes_alike(day_first: Path, spark: Any) -> None:
    loaded, on_spark = _both(day_first, spark)
    embedded = loaded.report
    assert _alike(on_spark) == _alike(embedded)
    assert on_spark.warnings == [
        on_spark.warnings[0],
        "dates in 'InvoiceDate' read as %d/%m/%Y %H:%M; they could also be %m/%d/%Y %H:%M "
        "— set date_format if that is wrong",
    ]
    assert on_spark.warnings[0].startswith("the file is not UTF-8; it was read as ")
    details = on_spark.details
    assert (details["encoding"], details["delimiter"]) == (
        embedded.details["encoding"],
        "semicolon",
    )
    assert details["timestamp_format"] == "%d/%m/%Y %H:%M"
    assert details["decimal_comma"] == ["UnitPrice"]
    # independent counts of the file as written
    assert on_spark.rows_read == AMBIGUOUS_ROWS + 1
    no_customer = sum(1 for i in range(AMBIGUOUS_ROWS + 1) if i % 50 == 3)
    assert on_spark.rule("missing_customer_id").rows == no_customer == 42
    assert on_spark.rule("cancellation").rows == sum(
        1 for i in range(AMBIGUOUS_ROWS + 1) if i % 97 == 5
    )
    # the later day 13 is read day-first by both (13 December, tables equal), the warning stays
    last = loaded.table.filter(pl.col("order_id") == str(540000 + AMBIGUOUS_ROWS))
    assert last["timestamp"].to_list() == [dt.datetime(2011, 12, 13, 10, 0)]


def test_no_rows_kept_warning_alike(day_first: Path, spark: Any) -> None:
    loaded, on_spark = _both(day_first, spark, as_of="2010-12-31")
    assert _alike(on_spark) == _alike(loaded.report)
    assert on_spark.rows_kept == 0 and on_spark.warnings[-1] == NO_ROWS_KEPT
    assert on_spark.details["as_of"] == "2010-12-31 23:59:59.999999"


def test_month_first_later_is_read_month_first_on_both(tmp_path: Path, spark: Any) -> None:
    """The other way round: month-first dates, days of 12 or less in the first rows, 04/13
    later. Both engines read every date month first and say why (line 2,102: the header, then
    2,100 lines). Before, the embedded engine re-read only that date (the others stayed day
    first) and Spark refused the file. With the format given, no warning on either."""
    slots = [*_slots(AMBIGUOUS_ROWS), dt.datetime(2011, 4, 13, 10, 0)]
    lines = [_line(i, w, month_first=True) for i, w in enumerate(slots)]
    path = _write(tmp_path / "retail_us.csv", lines)
    loaded, on_spark = _both(path, spark)
    assert _alike(on_spark) == _alike(loaded.report)
    assert on_spark.warnings[1:] == [
        "dates in 'InvoiceDate' read as %m/%d/%Y %H:%M, month first: the first rows read either "
        "way (every day 12 or less), and line 2,102 ('04/13/2011 10:00') reads only month "
        "first, as every date in the column does — set date_format if that is wrong"
    ]
    assert on_spark.details["timestamp_format"] == "%m/%d/%Y %H:%M"
    by_order = dict(zip(loaded.table["order_id"], loaded.table["timestamp"], strict=True))
    expected = {f"{'C' if i % 97 == 5 else ''}{540000 + i}": w for i, w in enumerate(slots)}
    assert by_order == {k: expected[k] for k in by_order} and len(by_order) > 2_000
    loaded, us = _both(path, spark, date_format="%m/%d/%Y %H:%M")
    assert _alike(us) == _alike(loaded.report)
    assert len(us.warnings) == 1 and us.warnings[0].startswith("the file is not UTF-8")
    assert us.details["timestamp_format"] == "%m/%d/%Y %H:%M"


def test_dates_written_both_ways_refused_alike(tmp_path: Path, spark: Any) -> None:
    """Month first (04/13, line 2,102), then day first (14/04, line 2,103): no order reads
    every date, and both engines refuse with the same error (lines and values)."""
    slots = [*_slots(AMBIGUOUS_ROWS), dt.datetime(2011, 4, 13, 10, 0)]
    lines = [_line(i, w, month_first=True) for i, w in enumerate(slots)]
    lines.append(_line(len(slots), dt.datetime(2011, 4, 14, 11, 0)))
    path = _write(tmp_path / "retail_both.csv", lines)
    with pytest.raises(DataError) as embedded:
        load_transactions(path)
    with pytest.raises(DataError) as on_spark:
        clean_on_spark(read_spark_text(spark, path), source=str(path))
    assert str(on_spark.value) == str(embedded.value)
    assert embedded.value.lines == (2_102, 2_103)
    assert embedded.value.values == ("04/13/2011 10:00", "14/04/2011 11:00")


_REAL_HEAD = 2_100
"""Distinct Online Retail invoice times with a day of 12 or less, first in the file."""


@pytest.fixture(scope="module")
def real_lines(online_retail_csv: Path) -> pl.DataFrame:
    """Real Online Retail lines in file order: the first line of each of the first 2,100
    distinct invoice times whose day is 12 or less, every 200th later line whose day is 12 or
    less up to 13 April 2011, the lines of the first invoice of 13 April 2011 (549911), then
    every 500th line to the end. Only invoices with one time (a few span two minutes)."""
    lines = pl.read_csv(online_retail_csv, infer_schema=False).with_row_index("i")
    when = pl.col("InvoiceDate").str.to_datetime("%Y-%m-%d %H:%M:%S")
    lines = lines.with_columns(when.alias("t"))
    one_time = lines.group_by("InvoiceNo").agg(pl.col("t").n_unique() == 1).filter("t")
    lines = lines.join(one_time.select("InvoiceNo"), on="InvoiceNo", how="semi").sort("i")
    small = lines.filter(pl.col("t").dt.day() <= 12)
    head = small.unique("t", keep="first", maintain_order=True).head(_REAL_HEAD)
    april = lines.filter(pl.col("InvoiceNo") == "549911")
    start, cut = int(head["i"].max() or 0), int(april["i"].min() or 0)
    middle = small.filter(pl.col("i").is_between(start + 1, cut - 1)).gather_every(200)
    tail = lines.filter(pl.col("i") > april["i"].max()).gather_every(500)
    return pl.concat([head, middle, april, tail]).sort("i")


@pytest.mark.parametrize("fmt", ["%m/%d/%Y %H:%M", "%d/%m/%Y %H:%M"])
def test_real_lines_either_order_read_as_written(
    real_lines: pl.DataFrame, fmt: str, tmp_path: Path, spark: Any
) -> None:
    """Online Retail lines with their dates written month first, or day first: the first
    2,100 dates read either way, 549911's 13 April 2011 decides. On both engines every kept
    line's time is the original file's; month first is warned with the line of 549911."""
    path = tmp_path / "retail.csv"
    written = real_lines.with_columns(pl.col("t").dt.strftime(fmt).alias("InvoiceDate"))
    written.drop("i", "t").write_csv(path)
    loaded, on_spark = _both(path, spark)  # the tables equal
    assert _alike(on_spark) == _alike(loaded.report)
    times = [dt.datetime.fromisoformat(v) for v in real_lines["InvoiceDate"]]
    original = dict(zip(real_lines["InvoiceNo"], times, strict=True))
    table = loaded.table
    assert table.height > 2_400 and "549911" in table["order_id"]
    assert all(original[o] == t for o, t in zip(table["order_id"], table["timestamp"], strict=True))
    assert on_spark.details["timestamp_format"] == fmt
    if fmt.startswith("%m"):
        line = int(real_lines["InvoiceNo"].eq("549911").arg_true()[0]) + 2
        assert on_spark.warnings == [
            f"dates in 'InvoiceDate' read as {fmt}, month first: the first rows read either way "
            f"(every day 12 or less), and line {line:,} ('04/13/2011 08:26') reads only month "
            "first, as every date in the column does — set date_format if that is wrong"
        ]
    else:
        assert on_spark.warnings == [
            f"dates in 'InvoiceDate' read as {fmt}; they could also be %m/%d/%Y %H:%M — set "
            "date_format if that is wrong"
        ]


_PLAIN = "InvoiceNo,StockCode,Quantity,InvoiceDate,UnitPrice,CustomerID\n"


def _plain(n: int, end: str = "\r\n") -> str:
    """``n`` Online Retail lines (no text with a delimiter), ``end`` after each."""
    return "".join(
        f"{536365 + i},85123A,{1 + i % 6},2010-12-{1 + i % 28:02d} 08:26:00,2.55,"
        f"{17850 + i % 7}{end}"
        for i in range(n)
    )


def _same_reading(path: Path, spark: Any, rows: int) -> CleaningReport:
    """Both engines read ``path`` into the same table and report; ``rows`` lines kept."""
    loaded, on_spark = _both(path, spark)
    assert _alike(on_spark) == _alike(loaded.report)
    assert on_spark.rows_kept == loaded.table.height == rows
    return on_spark


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("own_line", _PLAIN + _plain(3) + "\x1a"),
        ("own_line_crlf", _PLAIN + _plain(3) + "\x1a\r\n"),
        ("glued_to_the_last_id", _PLAIN + _plain(3).removesuffix("\r\n") + "\x1a"),
        ("two_marks_glued", _PLAIN + _plain(3).removesuffix("\r\n") + "\x1a\x1a"),
    ],
)
def test_dos_end_of_file_mark_read_alike(name: str, data: str, tmp_path: Path, spark: Any) -> None:
    """A trailing ^Z: skipped on its own line, removed from the last customer id when glued
    to it (Spark read '17852\\x1a', another customer); the embedded reader's warning on both."""
    path = tmp_path / f"{name}.csv"
    path.write_bytes(data.encode())
    report = _same_reading(path, spark, 3)
    assert report.warnings == ["the DOS end-of-file mark (^Z) at the end of the file was ignored"]
    assert report.customers_kept == 3 and report.rows_read == 3


def test_glued_mark_with_other_marked_ids_refused_on_spark(tmp_path: Path, spark: Any) -> None:
    """Another id ending with ^Z besides the glued last one: the embedded reader removes only
    the file's last; Spark cannot tell the lines apart and refuses, naming the file."""
    path = tmp_path / "marks.csv"
    path.write_bytes(
        (
            _PLAIN + "1,A,1,2010-12-01 08:26:00,2.5,17850\x1a\r\n" + "2,A,1,2010-12-01 "
            "08:26:00,2.5,17851\x1a"
        ).encode()
    )
    assert load_transactions(path).report.rows_read == 2
    with pytest.raises(UsageError) as err:
        read_spark_text(spark, path)
    assert err.value.source == str(path) and "^Z" in str(err.value)


def test_old_mac_line_ends_read_alike(tmp_path: Path, spark: Any) -> None:
    """Lines ended by a carriage return alone, in the whole file (old Mac) or after its
    first 256 KB: the first read alike (rows, warning); the second refused alike (the embedded
    reader's error, its line), where Spark's reader would have read it silently."""
    mac = tmp_path / "mac.csv"
    mac.write_bytes((_PLAIN + _plain(5)).replace("\r\n", "\r").encode())
    report = _same_reading(mac, spark, 5)
    assert len(report.warnings) == 1
    assert report.warnings[0].startswith("the file mixes line endings: ")
    late = tmp_path / "late.csv"
    head = _PLAIN + _plain(6_000)
    assert len(head) > 256 * 1024
    late.write_bytes((head + _plain(2).replace("\r\n", "\r", 1)).encode())
    with pytest.raises(DataError) as embedded:
        load_transactions(late)
    with pytest.raises(DataError) as on_spark:
        read_spark_text(spark, late)
    assert str(on_spark.value) == str(embedded.value)
    assert embedded.value.lines == (6_002,)


def test_repeated_header_names_read_alike(tmp_path: Path, spark: Any) -> None:
    """A header repeating names: the embedded reader keeps the first and renames the others;
    Spark numbered every copy ('CustomerID0', 'CustomerID6') and found no customer column.
    Names differing only in case are refused on Spark (it does not tell them apart)."""
    path = tmp_path / "repeats.csv"
    header = "CustomerID,InvoiceNo,StockCode,Quantity,InvoiceDate,UnitPrice,CustomerID,Note,Note\n"
    lines = "".join(
        f"{17850 + i},{536365 + i},85123A,2,2010-12-0{1 + i} 08:26:00,2.55,X{i},a,b\n"
        for i in range(4)
    )
    path.write_text(header + lines)
    report = _same_reading(path, spark, 4)
    assert report.columns_read[6:] == ["CustomerID_duplicated_0", "Note", "Note_duplicated_0"]
    assert report.customers_kept == 4
    cased = tmp_path / "cased.csv"
    cased.write_text(header.replace(",Note,Note", ",Note,note") + lines)
    assert load_transactions(cased).report.rows_kept == 4
    with pytest.raises(UsageError) as err:
        read_spark_text(spark, cased)
    assert err.value.source == str(cased)
    assert "'Note' and 'note'" in str(err.value)
