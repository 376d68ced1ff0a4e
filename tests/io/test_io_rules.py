"""Known answers for every cleaning rule on small hand-built tables."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
import pytest

from seglens.errors import DataError, UsageError
from seglens.io import load_transactions, parse_column_mapping
from seglens.io.parsing import DateFormat

HEAD = ["InvoiceNo", "StockCode", "Quantity", "InvoiceDate", "UnitPrice", "CustomerID"]


def retail(rows: list[tuple[object, ...]]) -> pl.DataFrame:
    return pl.DataFrame(rows, schema=HEAD, orient="row")


def test_each_rule_counts_and_attribution() -> None:
    frame = retail(
        [
            ("536365", "85123A", "6", "2010-12-01 08:26:00", "2.55", "17850.0"),  # kept
            ("536365", "85123A", "6", "2010-12-01 08:26:00", "2.55", "17850.0"),  # duplicate
            ("536366", "POST", "1", "2010-12-01 08:28:00", "18.00", "17850.0"),  # non-product
            ("536367", "22633", "2", "2010-12-01 08:34:00", "0.00", "13047.0"),  # zero price
            ("536368", "22632", "2", "2010-12-01 08:34:00", "1.85", None),  # no customer
            ("C536379", "85123A", "-1", "2010-12-01 09:41:00", "2.55", "17850.0"),  # cancel
            ("536370", "22728", "-3", "2010-12-01 10:00:00", "3.75", "12583.0"),  # negative
            ("536371", "22727", "5", "2012-01-05 10:00:00", "3.75", "12583.0"),  # after as-of
            ("536372", "22726", "2", "2010-12-02 11:00:00", "1.00", None),  # no customer + dup
            ("536372", "22726", "2", "2010-12-02 11:00:00", "1.00", None),
        ]
    )
    loaded = load_transactions(frame, as_of="2011-12-09")
    report = loaded.report
    assert report.layout == "UCI Online Retail"
    counts = {r.rule: (r.rows, r.rows_excluded) for r in report.rules}
    assert counts["missing_customer_id"] == (3, 3)
    assert counts["duplicate_line"] == (2, 1)  # the second repeat had no customer anyway
    assert counts["non_product_code"] == (1, 1)
    assert counts["zero_price"] == (1, 0)  # kept by default: a zero-value purchase
    assert counts["after_as_of"] == (1, 1)
    assert counts["cancellation"] == (1, 0)
    assert counts["negative_line"] == (1, 0)
    assert counts["customer_id_decimal"] == (7, 0)
    assert report.rows_read == 10
    assert report.rows_kept == 4
    assert report.rows_read - report.rows_kept == sum(r.rows_excluded for r in report.rules)
    assert loaded.table.select("customer_id", "order_id", "amount", "is_return").rows() == [
        ("17850", "536365", pytest.approx(15.3), False),
        ("13047", "536367", 0.0, False),
        ("17850", "C536379", pytest.approx(-2.55), True),
        ("12583", "536370", pytest.approx(-11.25), True),
    ]
    assert report.customers_read == 3
    assert report.customers_kept == 3
    # examples point at source lines (row numbers for frames: 1-based)
    assert report.rule("missing_customer_id").examples[0]["line"] == 5


def test_options_turn_rules_off() -> None:
    frame = retail(
        [
            ("1", "A", "1", "2024-01-01", "0", "1"),
            ("1", "A", "1", "2024-01-01", "0", "1"),
            ("2", "post", "1", "2024-01-02", "5", "1"),
        ]
    )
    keep = load_transactions(
        frame, drop_duplicates=False, drop_zero_price=False, drop_non_product=False
    )
    assert keep.report.rows_kept == 3
    assert keep.report.rule("duplicate_line").action == "kept"
    assert keep.report.rule("non_product_code").rows == 1  # matched case-insensitively
    custom = load_transactions(frame, non_product_codes=["A*"], drop_zero_price=False)
    assert custom.report.rule("non_product_code").rows == 2


def test_return_flag_and_sign() -> None:
    frame = pl.DataFrame(
        {
            "customer_id": ["1", "1", "2"],
            "order_id": ["10", "11", "12"],
            "timestamp": ["2024-01-01", "2024-01-02", "2024-01-03"],
            "amount": [10.0, 4.0, 5.0],
            "returned": ["no", "yes", "N"],
        }
    )
    loaded = load_transactions(frame)
    assert loaded.mapping["is_return"] == "returned"
    assert loaded.table["is_return"].to_list() == [False, True, False]
    assert loaded.table["amount"].to_list() == [10.0, -4.0, 5.0]
    assert loaded.report.rule("return_flag").rows == 1
    assert loaded.report.rule("return_sign").rows == 1


def test_no_cancellation_prefix_for_other_order_ids() -> None:
    frame = pl.DataFrame(
        {
            "customer_id": ["1", "2"],
            "order_id": ["CA-2016-152156", "CA-2016-138688"],  # Superstore-style ids
            "timestamp": ["2016-11-08", "2016-06-12"],
            "amount": [261.96, 14.62],
        }
    )
    loaded = load_transactions(frame)
    assert loaded.report.rule("cancellation").action == "not_applied"
    assert loaded.table["is_return"].to_list() == [False, False]


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        (["20240105", "20240131"], [dt.datetime(2024, 1, 5), dt.datetime(2024, 1, 31)]),
        (["05/01/2024", "31/01/2024"], [dt.datetime(2024, 1, 5), dt.datetime(2024, 1, 31)]),
        (
            ["1/5/2024 8:05", "1/31/2024 17:00"],
            [dt.datetime(2024, 1, 5, 8, 5), dt.datetime(2024, 1, 31, 17, 0)],
        ),
        (
            ["2024-01-05T10:00:00+01:00", "2024-01-31T00:00:00Z"],
            [dt.datetime(2024, 1, 5, 9, 0), dt.datetime(2024, 1, 31)],
        ),
        (["05.01.2024", "31.01.2024"], [dt.datetime(2024, 1, 5), dt.datetime(2024, 1, 31)]),
        (["5 Jan 2024", "31 Jan 2024"], [dt.datetime(2024, 1, 5), dt.datetime(2024, 1, 31)]),
    ],
)
def test_date_formats(values: list[str], expected: list[dt.datetime]) -> None:
    frame = pl.DataFrame(
        {
            "customer_id": ["1", "2"],
            "order_id": ["1", "2"],
            "timestamp": values,
            "amount": ["1", "2"],
        }
    )
    assert load_transactions(frame).table["timestamp"].to_list() == expected


def test_ambiguous_dates_warn() -> None:
    frame = pl.DataFrame(
        {"customer_id": ["1"], "order_id": ["1"], "timestamp": ["03/04/2024"], "amount": ["1"]}
    )
    loaded = load_transactions(frame)
    assert any("could also be" in w for w in loaded.report.warnings)
    us = load_transactions(frame, date_format="%m/%d/%Y")
    assert us.table["timestamp"].to_list() == [dt.datetime(2024, 3, 4)]


@pytest.mark.parametrize(
    ("dates", "fmt", "expected"),
    [
        (["03/04/2024", "12/01/2024"], "%d/%m/%Y", ["could also be %m/%d/%Y"]),
        (["03/04/2024", "13/01/2024"], "%d/%m/%Y", []),  # a day 13 in the first rows decides
        (["03/04/24"], "%d/%m/%y", ["could also be %m/%d/%y", "two-digit years (%d/%m/%y)"]),
        (["2024-04-03"], "%Y-%m-%d", []),
    ],
)
def test_date_warnings_are_the_report_warnings(
    dates: list[str], fmt: str, expected: list[str]
) -> None:
    """:func:`date_warnings` (the text both engines use) is what the loader reports."""
    from seglens.io.parsing import detect_date_format
    from seglens.io.projection import date_warnings

    n = len(dates)
    frame = pl.DataFrame(
        {"customer_id": ["1"] * n, "order_id": ["1"] * n, "timestamp": dates, "amount": ["1"] * n}
    )
    detected = detect_date_format(pl.Series(dates))
    assert detected is not None and detected.format == fmt
    texts = date_warnings("timestamp", detected)
    assert load_transactions(frame).report.warnings == texts
    assert len(texts) == len(expected) and all(e in t for e, t in zip(expected, texts, strict=True))


def test_no_rows_kept_warning() -> None:
    from seglens.io.projection import NO_ROWS_KEPT

    frame = retail([("536365", "85123A", "6", "2010-12-01 08:26:00", "2.55", "17850.0")])
    report = load_transactions(frame, as_of="2010-11-30").report
    assert (report.rows_kept, report.warnings) == (0, [NO_ROWS_KEPT])


_AMBIGUOUS = [
    dt.datetime(2011, m, d, h, mi)
    for m in range(1, 13)
    for d in range(1, 13)
    for h in range(8, 18)
    for mi in (0, 26)
][:2_050]
"""2,050 distinct times whose day is 12 or less: the format is decided on the first 2,000."""


def _dated_csv(tmp_path: Path, written: list[str]) -> Path:
    """An Online Retail CSV with one line per date, as ``written``; invoice 540000 + i."""
    lines = [f"{540000 + i},85123A,1,{w},2.55,{12346 + i % 40}" for i, w in enumerate(written)]
    path = tmp_path / "dates.csv"
    path.write_text(",".join(HEAD) + "\n" + "\n".join(lines) + "\n")
    return path


@pytest.mark.parametrize("later", ["04/13/2011 10:00", "13/04/2011 10:00"])
def test_a_later_date_decides_the_day_month_order(tmp_path: Path, later: str) -> None:
    """The first rows read either way and are read day first; a later ``04/13`` shows the file
    is month first: every date is read month first (line and value named). A later ``13/04``
    confirms day first: nothing changes."""
    from seglens.io.projection import date_warnings, day_month_warnings

    month_first = later.startswith("04")
    fmt = "%m/%d/%Y %H:%M" if month_first else "%d/%m/%Y %H:%M"
    when = [*_AMBIGUOUS, dt.datetime(2011, 4, 13, 10)]
    path = _dated_csv(tmp_path, [w.strftime(fmt) for w in when])
    loaded = load_transactions(path)
    by_order = dict(zip(loaded.table["order_id"], loaded.table["timestamp"], strict=True))
    assert by_order == {str(540000 + i): w for i, w in enumerate(when)}
    report = loaded.report
    assert report.details["timestamp_format"] == fmt
    line = len(when) + 1  # the header is line 1
    assert report.warnings == (
        day_month_warnings("InvoiceDate", fmt, f"line {line:,}", later)
        if month_first
        else date_warnings("InvoiceDate", DateFormat(fmt, 1.0, "%m/%d/%Y %H:%M"))
    )
    if month_first:
        assert "line 2,052 ('04/13/2011 10:00') reads only month first" in report.warnings[0]


def test_dates_in_both_orders_are_refused(tmp_path: Path) -> None:
    """Month first (``04/13``) and, later, day first (``13/04``): no order reads every date."""
    when = [*_AMBIGUOUS, dt.datetime(2011, 4, 13, 10), dt.datetime(2011, 4, 14, 11)]
    written = [w.strftime("%m/%d/%Y %H:%M") for w in when[:-1]] + ["14/04/2011 11:00"]
    with pytest.raises(DataError) as err:
        load_transactions(_dated_csv(tmp_path, written))
    assert err.value.lines == (2_052, 2_053)
    assert err.value.values == ("04/13/2011 10:00", "14/04/2011 11:00")
    assert err.value.column == "InvoiceDate"
    assert "written both day first and month first" in str(err.value)
    assert "--date-format" in (err.value.hint or "")


def test_a_later_date_neither_order_reads_changes_nothing(tmp_path: Path) -> None:
    """An ISO date after an ambiguous head contradicts neither order: read day first as
    before, that one date re-read with another known format."""
    when = [*_AMBIGUOUS, dt.datetime(2011, 4, 13, 10)]
    written = [w.strftime("%d/%m/%Y %H:%M") for w in when[:-1]] + ["2011-04-13 10:00:00"]
    loaded = load_transactions(_dated_csv(tmp_path, written))
    assert loaded.table["timestamp"].to_list() == when
    assert loaded.report.details["timestamp_format"] == "%d/%m/%Y %H:%M"
    assert "could also be %m/%d/%Y %H:%M" in loaded.report.warnings[0]
    assert "another known format" in loaded.report.warnings[1]


def test_integer_yyyymmdd_and_leading_zero_ids() -> None:
    frame = pl.DataFrame(
        {
            "cust_no": ["000123", "45"],
            "order_no": [1, 2],
            "order_date": [20240105, 20240229],
            "total": [1, 2],
        }
    )
    loaded = load_transactions(frame)
    assert loaded.table["customer_id"].to_list() == ["000123", "45"]
    assert loaded.table["order_id"].to_list() == ["1", "2"]
    assert loaded.table["timestamp"].to_list() == [
        dt.datetime(2024, 1, 5),
        dt.datetime(2024, 2, 29),
    ]


def test_tolerance_for_bad_amounts() -> None:
    n = 200
    amounts = ["1.5"] * n
    amounts[7] = "n/a?"
    frame = pl.DataFrame(
        {
            "customer_id": ["1"] * n,
            "order_id": [str(i) for i in range(n)],
            "timestamp": ["2024-01-01"] * n,
            "amount": amounts,
        }
    )
    loaded = load_transactions(frame)
    assert loaded.report.rule("unparseable_amount").rows == 1
    assert loaded.report.rule("unparseable_amount").examples[0] == {
        "line": 8,
        "column": "amount",
        "value": "n/a?",
    }
    with pytest.raises(DataError) as info:
        load_transactions(frame, max_bad_fraction=0.0)
    assert list(info.value.lines) == [8]
    assert info.value.column == "amount"


def test_parse_column_mapping_errors() -> None:
    assert parse_column_mapping('customer_id="Cust, ID",amount=Total') == {
        "customer_id": "Cust, ID",
        "amount": "Total",
    }
    for bad in ("customer_id", "customer_id=", "=x", "a=b,a=c"):
        with pytest.raises(UsageError):
            parse_column_mapping(bad)


def test_mapping_errors_suggest_columns() -> None:
    frame = pl.DataFrame(
        {"CustID": ["1"], "OrderNo": ["1"], "Date": ["2024-01-01"], "Total": ["1"]}
    )
    with pytest.raises(DataError, match="did you mean 'CustID'"):
        load_transactions(frame, columns="customer_id=CustId")
    with pytest.raises(UsageError, match="not a column of the transactions table"):
        load_transactions(frame, columns="client=CustID")


def test_the_report_lists_the_rule_table_in_order() -> None:
    from seglens.io.rules import DUPLICATES, MASKS, RULES

    report = load_transactions(retail([RULE_ROW])).report
    # empty_line is found while reading, before the table's rules
    assert [r.rule for r in report.rules] == ["empty_line"] + [
        spec.name
        for spec in RULES
        if spec.name != "return_flag"  # no return column here
    ]
    masks = {m.name for m in MASKS} | {DUPLICATES}
    assert all(spec.mask in masks for spec in RULES)
    assert len({spec.name for spec in RULES}) == len(RULES)


RULE_ROW = ("536365", "85123A", "6", "2010-12-01 08:26:00", "2.55", "17850.0")


def test_a_new_rule_is_one_entry(monkeypatch: pytest.MonkeyPatch) -> None:
    from seglens.io import cleaning, rules
    from seglens.io.mask_expr import col

    bulk = rules.MaskSpec("bulk", 1, lambda ctx, f: col("quantity").ge(100).or_false())
    spec = rules.RuleSpec("bulk_order", "bulk", "100 units or more; kept", "warned", "quantity")
    monkeypatch.setattr(rules, "MASKS", (*rules.MASKS, bulk))
    monkeypatch.setattr(cleaning, "RULES", (*rules.RULES, spec))
    rows: list[tuple[object, ...]] = [
        RULE_ROW,
        ("536366", "22633", "144", "2010-12-01 08:28:00", "0.85", "13047.0"),
    ]
    report = load_transactions(retail(rows)).report
    found = report.rule("bulk_order")
    assert (found.action, found.rows, found.rows_excluded) == ("warned", 1, 0)
    assert found.description == "100 units or more; kept"
    assert found.examples == ({"line": 2, "column": "Quantity", "value": "144"},)


def test_mask_vocabulary_on_polars() -> None:
    from seglens.io.mask_expr import any_of, codes_mask, col, lit, to_polars

    frame = pl.DataFrame(
        {"code": ["POST", "post", "DCGS01", "85123A", None], "x": [1.0, -2.0, None, 0.0, 5.0]}
    )
    masks = {
        "codes": codes_mask("code", ["POST", "DCGS*"]),
        "neg": col("x").lt(0).or_false(),
        "null_or_big": col("x").is_null() | col("x").gt(4),
        "none": any_of([]),
        "not_zero": ~col("x").eq(0),
        "fffd": col("code").contains("12"),
        "lit": lit(True) & col("x").ge(1),
    }
    out = frame.select(to_polars(m).alias(k) for k, m in masks.items())
    assert out.to_dict(as_series=False) == {
        "codes": [True, True, True, False, False],
        "neg": [False, True, False, False, False],
        "null_or_big": [False, False, True, False, True],
        "none": [False] * 5,
        "not_zero": [True, True, None, False, True],
        "fffd": [False, False, False, True, None],
        "lit": [True, False, None, False, True],
    }
