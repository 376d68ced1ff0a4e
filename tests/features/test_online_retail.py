"""Real data (UCI Online Retail): the peers agree, and Spark equals the embedded engine."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import pandas as pd
import polars as pl
import pytest
from polars.testing import assert_frame_equal

from seglens.features import customer_features

AS_OF = "2011-12-09"
LIFETIMES = ["customer_id", "frequency", "recency", "T", "monetary_value"]


def _purchases_pandas(lines: pl.DataFrame) -> pd.DataFrame:
    """What a pymc-marketing / lifetimes user passes: purchase lines (returns are not visits)."""
    buys = lines.filter(~pl.col("is_return")).select("customer_id", "timestamp", "amount")
    return buys.to_pandas()


def _rfm_summary() -> Callable[..., pd.DataFrame]:
    pytest.importorskip("pymc_marketing")
    with warnings.catch_warnings():
        # ArviZ announces its refactor once a day at import; unrelated to what is tested
        warnings.simplefilter("ignore", FutureWarning)
        from pymc_marketing.clv.utils import rfm_summary
    return rfm_summary  # type: ignore[no-any-return]


@pytest.mark.slow
def test_lifetimes_columns_equal_pymc_marketing_rfm_summary(online_retail: pl.DataFrame) -> None:
    as_of = AS_OF
    rfm_summary = _rfm_summary()
    theirs = rfm_summary(
        _purchases_pandas(online_retail),
        customer_id_col="customer_id",
        datetime_col="timestamp",
        monetary_value_col="amount",
        observation_period_end=as_of,
    )
    expected = pl.from_pandas(theirs).select(LIFETIMES).sort("customer_id")
    ours = customer_features(online_retail, as_of=as_of, feature_set="lifetimes").table
    assert ours.height > 4000
    assert_frame_equal(ours, expected, check_exact=False, rel_tol=1e-9, abs_tol=1e-9)


@pytest.mark.slow
def test_lifetimes_columns_equal_lifetimes_summary(online_retail: pl.DataFrame) -> None:
    pytest.importorskip("lifetimes")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from lifetimes.utils import summary_data_from_transaction_data

        theirs = summary_data_from_transaction_data(
            _purchases_pandas(online_retail),
            "customer_id",
            "timestamp",
            monetary_value_col="amount",
            observation_period_end="2011-06-30",
        )
    expected = pl.from_pandas(theirs.reset_index()).select(LIFETIMES).sort("customer_id")
    ours = customer_features(online_retail, as_of="2011-06-30", feature_set="lifetimes").table
    assert ours.height > 2000
    assert_frame_equal(ours, expected, check_exact=False, rel_tol=1e-9, abs_tol=1e-9)


@pytest.mark.slow
def test_embedded_engines_agree_on_online_retail(online_retail: pl.DataFrame) -> None:
    fast = customer_features(online_retail, as_of="2011-09-30").table
    definition = customer_features(online_retail, as_of="2011-09-30", fast=False).table
    duck = customer_features(online_retail, as_of="2011-09-30", engine="duckdb").table
    assert_frame_equal(fast, definition, check_exact=False, rel_tol=1e-9, abs_tol=1e-9)
    assert_frame_equal(duck, definition, check_exact=False, rel_tol=1e-9, abs_tol=1e-9)


@pytest.mark.slow
@pytest.mark.spark
def test_spark_equals_embedded_on_online_retail(online_retail: pl.DataFrame, spark: Any) -> None:
    embedded = customer_features(online_retail, as_of=AS_OF)
    on_spark = customer_features(online_retail, as_of=AS_OF, engine="spark", spark=spark)
    assert embedded.engine == "polars"
    assert on_spark.engine == "spark"
    assert on_spark.table.height == embedded.table.height > 4000
    assert_frame_equal(
        on_spark.table, embedded.table, check_exact=False, rel_tol=1e-9, abs_tol=1e-9
    )
