"""The real UCI Online Retail file: its published facts come out of the cleaning report."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
import pytest

from seglens.io import LoadedTable, load_transactions


@pytest.fixture(scope="module")
def retail(online_retail_loaded: LoadedTable) -> LoadedTable:
    """``load_transactions`` of the raw file with the default options (tests/conftest.py)."""
    return online_retail_loaded


@pytest.mark.slow
def test_known_facts(retail: LoadedTable) -> None:
    report = retail.report
    assert report.layout == "UCI Online Retail"
    assert report.rows_read == 541_909
    assert report.customers_read == 4_372
    assert report.rule("missing_customer_id").rows == 135_080
    assert report.rule("cancellation").rows == 9_288
    assert report.rule("duplicate_line").rows == 5_268
    assert report.rule("zero_price").rows == 2_515


@pytest.mark.slow
def test_mapping_and_canonical_table(retail: LoadedTable) -> None:
    assert retail.mapping == {
        "customer_id": "CustomerID",
        "order_id": "InvoiceNo",
        "timestamp": "InvoiceDate",
        "amount": "Quantity * UnitPrice",
        "quantity": "Quantity",
        "product_id": "StockCode",
        "unit_price": "UnitPrice",
    }
    table = retail.table
    assert dict(table.schema) == {
        "customer_id": pl.String(),
        "order_id": pl.String(),
        "timestamp": pl.Datetime("us"),
        "amount": pl.Float64(),
        "quantity": pl.Float64(),
        "product_id": pl.String(),
        "category": pl.String(),
        "channel": pl.String(),
        "is_return": pl.Boolean(),
    }
    assert table["customer_id"].null_count() == 0
    assert not table["customer_id"].str.contains(r"\.").any()  # 17850.0 -> 17850
    # every kept cancellation is a return with a non-positive amount
    cancels = table.filter(pl.col("order_id").str.starts_with("C"))
    assert cancels.height > 0 and cancels["is_return"].all()
    assert (cancels["amount"] <= 0).all()
    report = retail.report
    assert report.rows_kept == table.height
    assert report.rows_read - report.rows_kept == sum(r.rows_excluded for r in report.rules)
    assert table["timestamp"].min() == dt.datetime(2010, 12, 1, 8, 26)
    assert table["timestamp"].max() == dt.datetime(2011, 12, 9, 12, 50)


@pytest.mark.slow
def test_duplicates_kept_when_asked(online_retail_csv: Path) -> None:
    kept = load_transactions(online_retail_csv, drop_duplicates=False)
    assert kept.report.rule("duplicate_line").action == "kept"
    assert kept.report.rule("duplicate_line").rows_excluded == 0
