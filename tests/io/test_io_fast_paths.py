"""Known answers for the loader's fast paths: each must read what the plain path would.

The fast paths: numeric customer ids formatted once per id and looked up for the kept rows,
numbers and dates parsed unstripped with the misses re-read stripped, rule masks computed in
the main projection and re-run on patched rows, duplicates found from a sort of line hashes on
a worker thread, line numbers from row positions.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
import pytest

from seglens.io import load_transactions
from seglens.io.load import SAMPLE_ROWS


def _frame(n: int, **columns: list[object]) -> pl.DataFrame:
    base: dict[str, list[object]] = {
        "CustID": [float(1000 + i % 7) for i in range(n)],
        "Invoice": [str(i) for i in range(n)],
        "Date": ["2024-01-05 10:00:00"] * n,
        "Total": ["2.50"] * n,
    }
    base.update(columns)
    return pl.DataFrame(base)


COLUMNS = "customer_id=CustID,order_id=Invoice,timestamp=Date,amount=Total"


@pytest.mark.parametrize(
    ("ids", "expected", "customers"),
    [
        # a short range: looked up by offset; -0.0 is 0
        ([17850.0, 13047.0, -0.0, 0.0, 17850.0], ["17850", "13047", "0", "0", "17850"], 3),
        # a range far wider than the column: cast one by one
        ([1.0, 1e15, 7.0], ["1", "1000000000000000", "7"], 3),
        # not whole: kept as written and counted as the customer it is
        ([5.0, 5.5, 6.0, 5.5], ["5", "5.5", "6", "5.5"], 3),
        # the same in a wide range (counted by group-by rather than by offset)
        ([1.0, 1e15, 7.5, 7.25], ["1", "1000000000000000", "7.5", "7.25"], 4),
    ],
)
def test_numeric_customer_ids(ids: list[float], expected: list[str], customers: int) -> None:
    loaded = load_transactions(_frame(len(ids), CustID=ids), columns=COLUMNS)
    assert loaded.table.get_column("customer_id").to_list() == expected
    assert loaded.report.customers_read == customers
    assert loaded.report.customers_kept == customers
    assert loaded.report.rule("customer_id_decimal").rows == len(ids)


def test_missing_numeric_ids_are_excluded() -> None:
    ids = [1.0, float("nan"), None, float("inf"), 2.0]
    loaded = load_transactions(_frame(len(ids), CustID=ids), columns=COLUMNS)
    assert loaded.table.get_column("customer_id").to_list() == ["1", "2"]
    rule = loaded.report.rule("missing_customer_id")
    assert (rule.rows, rule.rows_excluded) == (3, 3)
    assert [e["line"] for e in rule.examples] == [2, 3, 4]


def test_integer_ids_keep_their_digits() -> None:
    loaded = load_transactions(_frame(3, CustID=[7, 2**40, 7]), columns=COLUMNS)
    assert loaded.table.get_column("customer_id").to_list() == ["7", str(2**40), "7"]
    assert loaded.report.customers_read == 2


def test_padded_values_after_the_sample_are_read_stripped(tmp_path: Path) -> None:
    # the sample shows no padding, so numbers and dates are parsed as written; padded values
    # further down fail that pass and are re-read stripped -- no fallback warning, no loss
    n = SAMPLE_ROWS + 10
    dates = ["2024-01-05 10:00:00"] * n
    totals = ["2.50"] * n
    dates[-3], totals[-2] = " 2024-02-01 09:30:00 ", " 7.25 "
    path = tmp_path / "padded.csv"
    _frame(n, Date=dates, Total=totals).write_csv(path)
    loaded = load_transactions(path, columns=COLUMNS)
    assert loaded.report.rows_kept == n
    assert loaded.report.warnings == []
    table = loaded.table
    assert table.get_column("timestamp")[-3] == dt.datetime(2024, 2, 1, 9, 30)
    assert table.get_column("amount")[-2] == 7.25


def test_patched_values_get_their_masks_recomputed(tmp_path: Path) -> None:
    # "(3.00)" is read by the careful path only; it is negative, hence a return; a date in
    # another format is read by the fallback, and is after the as-of date
    n = SAMPLE_ROWS + 10
    totals = ["2.50"] * n
    dates = ["2024-01-05 10:00:00"] * n
    totals[-1], dates[-4] = "(3.00)", "05.03.2024"
    path = tmp_path / "patched.csv"
    _frame(n, Total=totals, Date=dates).write_csv(path)
    loaded = load_transactions(path, columns=COLUMNS, as_of="2024-02-01")
    report = loaded.report
    assert report.rule("negative_line").rows == 1
    assert report.rule("negative_line").examples[0]["line"] == n + 1
    assert report.rule("after_as_of").rows == 1
    assert report.rule("after_as_of").examples[0]["value"] == "05.03.2024"
    assert report.rule("unparseable_amount").rows == 0
    assert loaded.table.get_column("amount")[-1] == -3.0
    assert loaded.table.get_column("is_return")[-1] is True


def test_duplicates_far_apart_keep_the_first_copy() -> None:
    n = 50
    frame = _frame(n)
    frame = pl.concat([frame, frame.slice(3, 1), frame.slice(40, 1), frame.slice(3, 1)])
    loaded = load_transactions(frame, columns=COLUMNS)
    rule = loaded.report.rule("duplicate_line")
    assert (rule.rows, rule.rows_excluded) == (3, 3)
    assert [e["line"] for e in rule.examples] == [n + 1, n + 2, n + 3]
    assert loaded.report.rows_kept == n
    # the customers of excluded copies are still counted as kept: their first copies are kept
    assert loaded.report.customers_kept == loaded.report.customers_read == 7
