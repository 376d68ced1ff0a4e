"""Every feature on a small hand-built table, on every embedded engine (and Spark, marked)."""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

import pandas as pd
import polars as pl
import pytest

from seglens.features import CATALOG, customer_features, feature_names

AS_OF = dt.date(2024, 3, 31)


def days(a: str, b: str | dt.date) -> int:
    """Days from date ``a`` to ``b``."""
    end = b if isinstance(b, dt.date) else dt.date.fromisoformat(b)
    return (end - dt.date.fromisoformat(a)).days


# Expected values, written from the table in conftest.known_lines.
A_BOUGHT = 10 + 20 + 5 + 40 + 30  # purchase lines up to as_of
EXPECTED: dict[str, dict[str, Any]] = {
    "A": {
        "frequency": 2.0,  # Jan 1 (two orders), Jan 11, Feb 10
        "recency": float(days("2024-01-01", "2024-02-10")),
        "T": float(days("2024-01-01", AS_OF)),
        "monetary_value": (40 + 30) / 2,
        "days_since_last_purchase": days("2024-02-10", AS_OF),
        "n_orders": 4,
        "total_spend": A_BOUGHT - 10.0,
        "tenure_days": days("2024-01-01", AS_OF),
        "avg_order_value": (A_BOUGHT - 10.0) / 4,
        "interpurchase_mean_days": (10 + 30) / 2,
        "interpurchase_std_days": math.sqrt(((10 - 20) ** 2 + (30 - 20) ** 2) / 1),
        "active_months_12m": 2,
        # last 90 days = Jan 2 .. Mar 31; previous 90 = Oct 4 .. Jan 1
        "spend_last_90d": 40 - 10 + 30.0,
        "spend_prev_90d": 35.0,
        "spend_trend": (60 - 35) / (60 + 35),
        "return_rate_value": 10 / A_BOUGHT,
        "return_rate_count": 1 / 4,
        "n_products": 3,
        "n_categories": 2,
        "top_category_share": (10 + 5 + 40) / A_BOUGHT,
        "channel_share_store": 5 / A_BOUGHT,
        "channel_share_unknown": 0.0,
        "channel_share_web": (10 + 20 + 40 + 30) / A_BOUGHT,
    },
    "B": {
        "frequency": 0.0,
        "recency": 0.0,
        "T": 0.0,
        "monetary_value": 0.0,
        "days_since_last_purchase": 0,
        "n_orders": 1,
        "total_spend": 50.0,
        "tenure_days": 0,
        "avg_order_value": 50.0,
        "interpurchase_mean_days": None,
        "interpurchase_std_days": None,
        "active_months_12m": 1,
        "spend_last_90d": 50.0,
        "spend_prev_90d": 0.0,
        "spend_trend": 1.0,
        "return_rate_value": 0.0,
        "return_rate_count": 0.0,
        "n_products": 1,
        "n_categories": 1,
        "top_category_share": 1.0,
        "channel_share_store": 1.0,
        "channel_share_unknown": 0.0,
        "channel_share_web": 0.0,
    },
    "E": {
        "frequency": 1.0,
        "recency": float(days("2023-03-15", "2023-12-20")),
        "T": float(days("2023-03-15", AS_OF)),
        "monetary_value": 10.0,
        "days_since_last_purchase": days("2023-12-20", AS_OF),
        "n_orders": 2,
        "total_spend": 30.0,
        "tenure_days": days("2023-03-15", AS_OF),
        "avg_order_value": 15.0,
        "interpurchase_mean_days": float(days("2023-03-15", "2023-12-20")),
        "interpurchase_std_days": None,  # one gap: no spread
        "active_months_12m": 1,  # March 2023 is outside Apr 2023 .. Mar 2024
        "spend_last_90d": 0.0,
        "spend_prev_90d": 10.0,
        "spend_trend": -1.0,
        "return_rate_value": 0.0,
        "return_rate_count": 0.0,
        "n_products": 1,  # the line without a product is not a product
        "n_categories": 1,
        "top_category_share": 20 / 30,  # Z; the missing category (10) counts as one
        "channel_share_store": 0.0,
        "channel_share_unknown": 10 / 30,
        "channel_share_web": 20 / 30,
    },
}

EMBEDDED = [
    pytest.param({"engine": "polars"}, id="polars-fast"),
    pytest.param({"engine": "polars", "fast": False}, id="polars-definition"),
    pytest.param({"engine": "duckdb"}, id="duckdb"),
]


def check(table: pl.DataFrame) -> None:
    assert table.columns[0] == "customer_id"
    assert table.get_column("customer_id").to_list() == ["A", "B", "E"]  # not C, not D
    for row in table.iter_rows(named=True):
        want = EXPECTED[row["customer_id"]]
        for name, value in want.items():
            got = row[name]
            if value is None:
                assert got is None, (row["customer_id"], name, got)
            else:
                assert got == pytest.approx(value, rel=1e-12), (row["customer_id"], name, got)
                assert isinstance(got, type(value)), (name, type(got))


@pytest.mark.parametrize("options", EMBEDDED)
def test_every_feature_known_answer(lines: pl.DataFrame, options: dict[str, Any]) -> None:
    result = customer_features(lines, as_of=AS_OF, **options)
    fixed = feature_names("all")
    channel = ["channel_share_store", "channel_share_unknown", "channel_share_web"]
    assert result.table.columns == ["customer_id", *fixed, *channel]
    assert result.channels == ["store", "unknown", "web"]
    assert result.omitted == []
    check(result.table)


def test_catalog_covers_every_expected_column() -> None:
    documented = {f.name for f in CATALOG}
    for name in EXPECTED["A"]:
        assert name in documented or name.startswith("channel_share_")


@pytest.mark.parametrize("options", EMBEDDED)
@pytest.mark.parametrize("feature_set", ["lifetimes", "rfm"])
def test_smaller_feature_sets_are_prefixes(
    lines: pl.DataFrame, options: dict[str, Any], feature_set: Any
) -> None:
    full = customer_features(lines, as_of=AS_OF, **options).table
    part = customer_features(lines, as_of=AS_OF, feature_set=feature_set, **options).table
    assert part.columns == ["customer_id", *feature_names(feature_set)]
    assert part.equals(full.select(part.columns))


@pytest.mark.parametrize("options", EMBEDDED)
def test_as_of_datetime_cuts_within_the_day(lines: pl.DataFrame, options: dict[str, Any]) -> None:
    # B bought at 23:59:59 on as_of's day: a noon cut-off leaves B out
    table = customer_features(lines, as_of=dt.datetime(2024, 3, 31, 12), **options).table
    assert table.get_column("customer_id").to_list() == ["A", "E"]
    # the day number (hence T) is still as_of's day
    a = table.row(0, named=True)
    assert a["T"] == EXPECTED["A"]["T"]


@pytest.mark.parametrize("options", EMBEDDED)
def test_default_as_of_is_latest_transaction_day(
    lines: pl.DataFrame, options: dict[str, Any]
) -> None:
    result = customer_features(lines, **options)
    assert result.as_of == dt.datetime(2024, 4, 5, 23, 59, 59, 999999)
    assert "C" in result.table.get_column("customer_id").to_list()


@pytest.mark.parametrize("options", EMBEDDED)
def test_time_zone_aware_input_is_converted_to_utc(options: dict[str, Any]) -> None:
    # 20:00 in New York on Jan 1 is 01:00 UTC on Jan 2: the purchase day is Jan 2
    local = pd.DataFrame(
        {
            "customer_id": ["x", "x"],
            "order_id": ["1", "2"],
            "timestamp": pd.to_datetime(["2024-01-01 09:00", "2024-01-01 20:00"]).tz_localize(
                "America/New_York"
            ),
            "amount": [1.0, 2.0],
        }
    )
    out = customer_features(local, as_of="2024-01-31", feature_set="lifetimes", **options).table
    assert out.row(0) == ("x", 1.0, 1.0, 30.0, 2.0)
    # an aware as_of is converted too: 2024-01-01 21:00 New York = 02:00 UTC Jan 2
    aware = dt.datetime(2024, 1, 1, 21, tzinfo=dt.timezone(dt.timedelta(hours=-5)))
    out = customer_features(local, as_of=aware, feature_set="lifetimes", **options).table
    assert out.row(0) == ("x", 1.0, 1.0, 1.0, 2.0)


@pytest.mark.parametrize("options", EMBEDDED)
def test_without_optional_columns_those_features_are_omitted(
    lines: pl.DataFrame, options: dict[str, Any]
) -> None:
    bare = lines.select("customer_id", "order_id", "timestamp", "amount")
    result = customer_features(bare, as_of=AS_OF, **options)
    assert result.omitted == [
        "n_products",
        "n_categories",
        "top_category_share",
        "channel_share_<channel>",
    ]
    assert not any(c.startswith("channel_share_") for c in result.table.columns)
    # without is_return, a negative amount is a return: same answers for the rest
    want = customer_features(lines, as_of=AS_OF, **options).table
    assert result.table.equals(want.select(result.table.columns))


@pytest.mark.spark
def test_spark_known_answer(lines: pl.DataFrame, spark: Any) -> None:
    result = customer_features(lines, as_of=AS_OF, engine="spark", spark=spark)
    assert result.engine == "spark"
    check(result.table)
