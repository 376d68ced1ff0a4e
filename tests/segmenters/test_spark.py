"""Scoring on Spark (local mode) gives exactly the in-process assignments."""

from __future__ import annotations

from typing import Any

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from seglens.errors import DataError
from seglens.segmenters import (
    GaussianMixtureSegmenter,
    KMeansSegmenter,
    MixedSegmenter,
    RFMSegmenter,
)
from seglens.segmenters.spark import assign_spark
from tests.segmenters.seg_helpers import make_planted

pytestmark = [
    pytest.mark.spark,
    # PySpark 4.x warns on every Arrow/pandas conversion that it does not yet support
    # pandas 3 (installed here); the conversions used below are Arrow-only and tested.
    pytest.mark.filterwarnings(
        "ignore:PySpark does not yet fully support pandas >= 3.0.0:FutureWarning"
    ),
]

MODELS = {
    "rfm": lambda: RFMSegmenter(),
    "kmeans": lambda: KMeansSegmenter(3, random_state=0),
    "gmm": lambda: GaussianMixtureSegmenter(3, random_state=0),
    "mixed": lambda: MixedSegmenter(3, random_state=0),
}


@pytest.mark.parametrize("name", MODELS)
def test_spark_assignments_equal_in_process(spark: Any, name: str) -> None:
    df, _ = make_planted(3, 200, seed=21, categorical=name == "mixed")
    model = MODELS[name]().fit(df)
    expected = model.assign(df).sort("customer_id")
    sdf = spark.createDataFrame(df.to_arrow()).repartition(3)
    got_sdf = assign_spark(model, sdf)
    assert got_sdf.rdd.getNumPartitions() == 3  # scored where the data lives
    got = pl.from_arrow(got_sdf.toArrow()).sort("customer_id")
    assert isinstance(got, pl.DataFrame)
    assert_frame_equal(got, expected, check_dtypes=False, rel_tol=1e-9)


def test_spark_missing_column_is_a_clear_error(spark: Any) -> None:
    df, _ = make_planted(2, 50, seed=22)
    model = KMeansSegmenter(2, random_state=0).fit(df)
    sdf = spark.createDataFrame(df.drop("total_spend").to_arrow())
    with pytest.raises(DataError, match="'total_spend'"):
        assign_spark(model, sdf)
