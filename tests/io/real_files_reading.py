"""The date, labels and reading-robustness cases of the generated corpus (see ``real_files``)."""

from __future__ import annotations

import bz2
import datetime as dt
import gzip
import lzma
import os
from collections.abc import Callable
from pathlib import Path

import polars as pl

from seglens.errors import DataError, UsageError
from seglens.io import LoadedTable

from .real_files import (
    GERMAN,
    HEAD,
    PLAIN,
    Case,
    amounts,
    both,
    d,
    ids,
    people,
    rows,
    rule,
    times,
    warned,
)


def _fifo(path: Path) -> None:
    os.mkfifo(path)


def _folder(path: Path) -> None:
    path.mkdir()


def _xlsx_with_blank_rows(path: Path) -> None:
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["customer_id", "order_id", "timestamp", "amount"])
    ws.append(["Jürgen", "O1", "2024-01-05", 12.5])
    ws.append([])
    ws.append(["Zoë", "O2", "2024-01-06", 3])
    ws.append([None, None, None, None])
    wb.save(path)


def _gzip(data: bytes) -> Callable[[Path], None]:
    def write(path: Path) -> None:
        path.write_bytes(gzip.compress(data))

    return write


def _symlink_to(target: str) -> Callable[[Path], None]:
    def write(path: Path) -> None:
        path.symlink_to(target)

    return write


DATES = [
    Case(
        "two_digit_years_day_first",
        rows("C1,O1,05/01/24,5", "C2,O2,31/12/23,6"),
        both(times(d(2024, 1, 5), d(2023, 12, 31)), warned("two-digit years")),
    ),
    Case(
        "two_digit_years_with_time",
        rows("C1,O1,05/01/24 10:00,5", "C2,O2,17/02/24 11:30,6"),
        times(d(2024, 1, 5, 10), d(2024, 2, 17, 11, 30)),
    ),
    Case(
        "two_digit_years_us",
        rows("C1,O1,12/31/99,5", "C2,O2,1/5/24 10:00 PM,6"),
        both(times(d(1999, 12, 31), d(2024, 1, 5, 22)), warned("70-99 -> 1970-1999")),
    ),
    Case(
        "two_digit_year_pivot",
        rows("C1,O1,01.01.69,5", "C2,O2,01.01.70,6", "C3,O3,31.12.00,7"),
        both(
            times(d(2069, 1, 1), d(1970, 1, 1), d(2000, 12, 31)),
            rule("implausible_year", 1, kept=3),
        ),
    ),
    Case(
        "one_two_digit_year_in_four_digit_column",
        rows(*(f"C{i},O{i},0{i}/02/2024,5" for i in range(1, 10)), "C10,O10,05/01/24,6"),
        both(
            lambda t: _last_time(t, d(2024, 1, 5)),
            warned("read with another known format (two-digit years"),
        ),
    ),
    Case(
        "implausible_years_reported",
        rows("C1,O1,1850-03-01,5", "C2,O2,2024-03-01,6", "C3,O3,2999-01-01,7"),
        both(rule("implausible_year", 2, kept=3), lambda t: _example_line(t, 2)),
    ),
    Case(
        "date_format_without_codes",
        PLAIN,
        error=UsageError,
        phrases=("'dd/mm/yyyy' has no strftime codes", "%d/%m/%Y"),
        options={"date_format": "dd/mm/yyyy"},
    ),
    Case(
        "date_format_unknown_code",
        PLAIN,
        error=UsageError,
        phrases=("unknown code(s) %Q",),
        options={"date_format": "%d/%m/%Q"},
    ),
    Case(
        "date_format_without_day",
        PLAIN,
        error=UsageError,
        phrases=("'%Y-%m' has no day",),
        options={"date_format": "%Y-%m"},
    ),
    Case(
        "date_format_matching_nothing",
        rows("C1,O1,05/01/24,5", "C2,O2,06/01/24,6"),
        error=DataError,
        phrases=("no date in the first rows reads with the date format '%Y-%m-%d'",),
        lines=(2, 3),
        column="timestamp",
        values=("05/01/24", "06/01/24"),
        options={"date_format": "%Y-%m-%d"},
    ),
]


def _last_time(loaded: LoadedTable, expected: dt.datetime) -> None:
    assert loaded.table["timestamp"].to_list()[-1] == expected
    assert loaded.table["timestamp"].dt.year().min() == 2024


def _example_line(loaded: LoadedTable, line: int) -> None:
    assert loaded.report.rule("implausible_year").examples[0]["line"] == line


LABEL_FILES = [
    Case(
        "labels_unreadable_labeled_at",
        rows(
            "C1,Champions,2011-03-01",
            "C2,Lost,sometime in 2010",
            head="customer_id,segment,labeled_at\n",
        ),
        error=DataError,
        phrases=("not a readable date", "import time"),
        lines=(3,),
        column="labeled_at",
        values=("sometime in 2010",),
        table="labels",
    ),
    Case(
        "labels_two_digit_years",
        rows("C1,Champions,05/01/24", "C2,Lost,31/12/10", head="customer_id,segment,labeled_at\n"),
        lambda t: _labeled(t, [d(2024, 1, 5), d(2010, 12, 31)]),
        table="labels",
    ),
    Case(
        "labels_blank_lines",
        b"customer_id,segment\r\nC1,Champions\r\n\r\nC2,Lost\r\n,\r\n",
        both(rule("empty_line", 2, kept=2), lambda t: _label_ids(t, ["C1", "C2"])),
        table="labels",
    ),
]


def _labeled(loaded: LoadedTable, expected: list[dt.datetime]) -> None:
    assert loaded.table["labeled_at"].to_list() == expected


def _label_ids(loaded: LoadedTable, expected: list[str]) -> None:
    assert loaded.table["customer_id"].to_list() == expected


READING = [
    Case("fifo", _fifo, error=DataError, phrases=("named pipe (FIFO)", "regular file")),
    Case("dev_zero", _symlink_to("/dev/zero"), error=DataError, phrases=("a device",)),
    Case("dev_urandom", _symlink_to("/dev/urandom"), error=DataError, phrases=("a device",)),
    Case("folder", _folder, error=DataError, phrases=("this is a folder",), suffix=""),
    Case("missing", lambda p: None, error=DataError, phrases=("no such file", "check the path")),
    Case(
        "blank_lines",
        HEAD.encode() + b"C1,O1,2024-01-05,12.5\n\nC2,O2,2024-01-06,3\n\n\n",
        both(rule("empty_line", 3, kept=2), amounts(12.5, 3.0), rule("unparseable_timestamp", 0)),
    ),
    Case(
        "trailing_empty_rows",
        PLAIN + b",,,\n,,,\n   \n",
        both(rule("empty_line", 3, kept=2), rule("unparseable_timestamp", 0)),
    ),
    Case(
        "dos_eof_mark",
        PLAIN.replace(b"\n", b"\r\n") + b"\x1a",
        both(amounts(12.5, 3.0), rule("unparseable_timestamp", 0), warned("^Z")),
    ),
    Case(
        "dos_eof_mark_after_value",
        PLAIN.rstrip(b"\n") + b"\x1a",
        both(amounts(12.5, 3.0), rule("unparseable_amount", 0)),
    ),
    Case(
        "dos_eof_mark_gzip",
        _gzip(PLAIN + b"\x1a\n"),
        both(amounts(12.5, 3.0), rule("empty_line", 1, kept=2)),
        suffix=".csv.gz",
    ),
    Case(
        "mixed_line_endings",
        b"customer_id,order_id,timestamp,amount\r\nC1,O1,2024-01-05,12.5\r"
        b"C2,O2,2024-01-06,3\nC3,O3,2024-01-07,4\r\n",
        both(amounts(12.5, 3.0, 4.0), warned("mixes line endings")),
    ),
    Case(
        "lone_cr_after_the_first_256kb",
        rows(
            *(f"C{i},O{i},2024-01-01,5" for i in range(20_000)),
            "X1,Y1,2024-01-02,6\rX2,Y2,2024-01-03,7",
        ),
        error=DataError,
        phrases=("mixes line endings", "carriage return alone", "mac2unix"),
        lines=(20_002,),
        values=("X1,Y1,2024-01-02,6\r",),
    ),
    Case("bzip2", bz2.compress(PLAIN), amounts(12.5, 3.0), suffix=".csv.bz2"),
    Case("xz", lzma.compress(PLAIN), amounts(12.5, 3.0), suffix=".csv.xz"),
    Case(
        "bzip2_cp1252",
        bz2.compress(people(GERMAN, "cp1252")),
        ids(*GERMAN),
        suffix=".csv.bz2",
    ),
    Case(
        "bzip2_truncated",
        bz2.compress(PLAIN * 50)[:40],
        error=DataError,
        phrases=("bzip2-compressed but cannot be decompressed",),
        suffix=".csv.bz2",
    ),
    Case(
        "zstd_refused",
        b"\x28\xb5\x2f\xfd" + b"\x00" * 40,
        error=DataError,
        phrases=("zstd-compressed", "zstd -d zstd_refused.csv.zst"),
        suffix=".csv.zst",
    ),
    Case(
        "markup_in_values",
        rows("C1,O1,2024-01-05,[/b]", "C2,O2,2024-01-06,[bold]x"),
        error=DataError,
        phrases=("unreadable amounts",),
        lines=(2, 3),
        column="amount",
        values=("[/b]", "[bold]x"),
    ),
    Case(
        "excel_blank_rows",
        _xlsx_with_blank_rows,
        both(rule("empty_line", 1, kept=2), ids("Jürgen", "Zoë"), amounts(12.5, 3.0)),
        suffix=".xlsx",
    ),
    Case("glob_characters_in_name[1]*", PLAIN, amounts(12.5, 3.0)),
    Case(
        "glob_characters_in_parquet_name[a-z]?",
        lambda p: pl.read_csv(PLAIN).write_parquet(p),
        amounts(12.5, 3.0),
        suffix=".parquet",
    ),
    Case(
        "parquet_numeric_first_column",
        lambda p: (
            pl.DataFrame(
                {
                    "amount": [1.5, None, 2.0],
                    "customer_id": ["C1", None, None],
                    "order_id": ["O1", None, "O3"],
                }
            )
            .with_columns(pl.Series("timestamp", [d(2024, 1, 1), None, d(2024, 1, 2)]))
            .write_parquet(p)
        ),
        both(rule("empty_line", 1), rule("missing_customer_id", 1, kept=1), amounts(1.5)),
        suffix=".parquet",
    ),
    Case(
        "parquet_all_null_row",
        lambda p: (
            pl.DataFrame(
                {"customer_id": ["C1", None], "order_id": ["O1", None], "amount": [1.5, None]}
            )
            .with_columns(pl.Series("timestamp", [d(2024, 1, 1), None]))
            .write_parquet(p)
        ),
        both(rule("empty_line", 1, kept=1), amounts(1.5)),
        suffix=".parquet",
    ),
]
