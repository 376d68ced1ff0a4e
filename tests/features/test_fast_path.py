"""The tuned Polars query equals the portable definition (Polars and DuckDB) on any input."""

from __future__ import annotations

import datetime as dt
import logging

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

from seglens.features import _fast, customer_features
from seglens.features._fast import _sort_by_id

START = dt.datetime(2022, 1, 1)


@st.composite
def transactions(draw: st.DrawFn) -> pl.DataFrame:
    n = draw(st.integers(1, 60))
    ids = st.sampled_from(["a", "b", "c", "007", "Ü", ""])
    rows = draw(
        st.lists(
            st.tuples(
                ids,
                st.sampled_from(["o1", "o2", "o3", "o4", "o5"]),
                st.integers(0, 800 * 24),  # hours after START
                st.floats(-500, 500, allow_nan=False).map(lambda x: round(x, 2)),
                st.sampled_from(["p1", "p2", "p3", None]),
                st.sampled_from(["X", "Y", None]),
                st.sampled_from(["web", "store", None]),
                st.sampled_from([True, False, None]),
            ),
            min_size=n,
            max_size=n,
        )
    )
    frame = pl.DataFrame(
        rows,
        schema={
            "customer_id": pl.String,
            "order_id": pl.String,
            "hours": pl.Int64,
            "amount": pl.Float64,
            "product_id": pl.String,
            "category": pl.String,
            "channel": pl.String,
            "is_return": pl.Boolean,
        },
        orient="row",
    )
    return frame.with_columns(
        (pl.lit(START) + pl.duration(hours=pl.col("hours"))).alias("timestamp")
    ).drop("hours")


def same(a: pl.DataFrame, b: pl.DataFrame) -> None:
    assert_frame_equal(a, b, check_exact=False, rel_tol=1e-9, abs_tol=1e-9)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    frame=transactions(),
    as_of=st.dates(dt.date(2021, 12, 1), dt.date(2024, 6, 1)),
    feature_set=st.sampled_from(["lifetimes", "rfm", "all"]),
)
def test_fast_path_equals_definition(frame: pl.DataFrame, as_of: dt.date, feature_set: str) -> None:
    fast = customer_features(frame, as_of=as_of, feature_set=feature_set)  # type: ignore[arg-type]
    slow = customer_features(frame, as_of=as_of, feature_set=feature_set, fast=False)  # type: ignore[arg-type]
    duck = customer_features(frame, as_of=as_of, feature_set=feature_set, engine="duckdb")  # type: ignore[arg-type]
    same(fast.table, slow.table)
    same(duck.table, slow.table)


def test_out_of_range_days_fall_back_to_the_definition(caplog: pytest.LogCaptureFixture) -> None:
    # more than 358 years before as_of does not fit the fast key: the definition answers
    frame = pl.DataFrame(
        {
            "customer_id": ["old", "old", "new"],
            "order_id": ["1", "2", "3"],
            "timestamp": [
                dt.datetime(1600, 1, 1),
                dt.datetime(2020, 1, 1),
                dt.datetime(2020, 1, 2),
            ],
            "amount": [1.0, 2.0, 3.0],
        }
    )
    with caplog.at_level(logging.INFO, logger="seglens.features._fast"):
        fast = customer_features(frame, as_of="2020-12-31").table
    assert "using the portable definition" in caplog.text
    slow = customer_features(frame, as_of="2020-12-31", fast=False).table
    same(fast, slow)
    assert fast.row(1, named=True)["recency"] == (dt.date(2020, 1, 1) - dt.date(1600, 1, 1)).days


def test_ids_sharing_a_key_prefix_fall_back_to_the_definition(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    # two ids whose key prefix collides are one key group: the second id hash tells them apart
    # and the definition answers (every id is made to collide; fails if the check is removed)
    monkeypatch.setattr(_fast, "_ID_HASH", pl.lit(12345, dtype=pl.UInt64))
    frame = pl.DataFrame(
        {
            "customer_id": ["a", "b", "a", "c"],
            "order_id": ["1", "2", "3", "4"],
            "timestamp": [
                dt.datetime(2020, 1, 1),
                dt.datetime(2020, 1, 1),
                dt.datetime(2020, 3, 1),
                dt.datetime(2020, 5, 1),
            ],
            "amount": [1.0, 2.0, 3.0, 4.0],
        }
    )
    with caplog.at_level(logging.INFO, logger="seglens.features._fast"):
        fast = customer_features(frame, as_of="2020-12-31").table
    assert "using the portable definition" in caplog.text
    assert fast.get_column("customer_id").to_list() == ["a", "b", "c"]
    same(fast, customer_features(frame, as_of="2020-12-31", fast=False).table)


@pytest.mark.parametrize("feature_set", ["lifetimes", "rfm", "all"])
def test_days_whose_purchases_do_not_pack_take_the_sorted_customer_step(
    monkeypatch: pytest.MonkeyPatch, feature_set: str
) -> None:
    # a negative line flagged as no return is a purchase: its day's purchases are negative and
    # cannot be packed beside the day offset, so the sorted customer step answers
    sorted_steps: list[bool] = []
    sorted_step = _fast._customer_table

    def spy(*args: object, **kwargs: object) -> pl.LazyFrame:
        sorted_steps.append(True)
        return sorted_step(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(_fast, "_customer_table", spy)
    frame = pl.DataFrame(
        {
            "customer_id": ["a", "a", "a", "b", "b"],
            "order_id": ["1", "2", "3", "4", "5"],
            "timestamp": [dt.datetime(2020, m, 1) for m in (1, 2, 4, 1, 3)],
            "amount": [5.0, -8.0, 4.0, 2.0, -1.0],
            "is_return": [False, False, False, False, True],
            "product_id": ["p", "q", "p", "p", "p"],
            "channel": ["web", "web", "store", "web", "web"],
        }
    )
    fast = customer_features(frame, as_of="2020-12-31", feature_set=feature_set)  # type: ignore[arg-type]
    slow = customer_features(frame, as_of="2020-12-31", feature_set=feature_set, fast=False)  # type: ignore[arg-type]
    assert sorted_steps == [True]
    same(fast.table, slow.table)
    # a: purchase days 1 Jan, 1 Feb (-8), 1 Apr; the repeat days' mean spend is (-8 + 4) / 2
    assert fast.table.row(0, named=True)["monetary_value"] == pytest.approx(-2.0)


@pytest.mark.slow
def test_fast_path_equals_definition_on_online_retail(online_retail: pl.DataFrame) -> None:
    for as_of in ("2011-06-30", "2011-12-09"):
        fast = customer_features(online_retail, as_of=as_of).table
        slow = customer_features(online_retail, as_of=as_of, fast=False).table
        same(fast, slow)


@settings(max_examples=200, deadline=None)
@given(
    ids=st.lists(
        st.one_of(
            st.text(max_size=12),
            st.text(alphabet="ab\x00", max_size=10),  # ties on the 8-byte prefix, NUL bytes
            st.from_regex(r"C[0-9]{7,9}", fullmatch=True),
        ),
        unique=True,
    )
)
def test_sort_by_id_equals_a_text_sort(ids: list[str]) -> None:
    # the integer-prefix sort must order ids exactly as a text (byte-wise) sort does
    table = pl.DataFrame(
        {"customer_id": ids, "n": range(len(ids))}, schema_overrides={"customer_id": pl.String}
    )
    assert _sort_by_id(table).equals(table.sort("customer_id"))


@pytest.mark.parametrize("feature_set", ["rfm", "all"])
def test_customers_without_a_counted_value_get_zero_counts(feature_set: str) -> None:
    # "a" has purchases but no order id, no category: absent from those count group-bys
    day = dt.datetime(2024, 1, 1)
    frame = pl.DataFrame(
        {
            "customer_id": ["a", "a", "b", "b", "c"],
            "order_id": [None, None, "o1", None, "o2"],
            "timestamp": [day + dt.timedelta(days=i) for i in range(5)],
            "amount": [10.0, -3.0, 5.0, 7.0, -2.0],
            "product_id": ["p", None, "p", "q", None],
            "category": [None, None, "x", "y", "x"],
        }
    )
    fast = customer_features(frame, as_of="2024-01-31", feature_set=feature_set).table  # type: ignore[arg-type]
    slow = customer_features(frame, as_of="2024-01-31", feature_set=feature_set, fast=False).table  # type: ignore[arg-type]
    same(fast, slow)
    a = fast.row(0, named=True)
    assert a["n_orders"] == 0
    if feature_set == "all":
        assert (a["n_categories"], a["n_products"]) == (0, 1)
