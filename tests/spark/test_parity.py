"""Every Spark stage equals the embedded engine on the real Online Retail file.

One Spark pass, shared by the checks through module-scoped fixtures: features, RFM and k-means
segments, the KPI with its interval (declared and learnt mapping). The Spark session is the
suite's one session (``tests/conftest.py``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import pytest
from polars.testing import assert_frame_equal

from seglens.accuracy import accuracy_report_from_tables
from seglens.features import customer_features
from seglens.segmenters import KMeansSegmenter, RFMSegmenter
from seglens.spark.accuracy import spark_accuracy_report
from seglens.spark.commands import segment_on_spark, to_polars
from seglens.spark.features import spark_features

pytestmark = [
    pytest.mark.spark,
    pytest.mark.filterwarnings(
        "ignore:PySpark does not yet fully support pandas >= 3.0.0:FutureWarning"
    ),
]

AS_OF = "2011-12-09"


@pytest.fixture(scope="module")
def lines(online_retail_csv: Path) -> pl.DataFrame:
    from seglens.io import load_transactions

    return load_transactions(online_retail_csv).table


@pytest.fixture(scope="module")
def embedded(lines: pl.DataFrame) -> pl.DataFrame:
    return customer_features(lines, as_of=AS_OF).table


@pytest.fixture(scope="module")
def on_spark(lines: pl.DataFrame, spark: Any) -> Any:
    sdf = spark.createDataFrame(lines.to_arrow()).localCheckpoint()
    return spark_features(sdf, as_of=AS_OF).frame.localCheckpoint()


@pytest.fixture(scope="module")
def labels(embedded: pl.DataFrame) -> pl.DataFrame:
    """500 reviewed customers: the embedded RFM segment, a fifth of them changed, 3 blanks."""
    rng = np.random.default_rng(7)
    truth = RFMSegmenter().fit(embedded).assign(embedded)
    picked = truth.sample(500, seed=7).select("customer_id", "segment")
    names = sorted(truth["segment"].unique().to_list())
    flip = rng.random(500) < 0.2
    other = rng.choice(names, 500)
    kept = picked["segment"].to_list()
    seg = [None if i < 3 else str(other[i]) if flip[i] else kept[i] for i in range(500)]
    return picked.with_columns(pl.Series("segment", seg, dtype=pl.String))


def test_features_equal_embedded(on_spark: Any, embedded: pl.DataFrame) -> None:
    got = to_polars(on_spark).sort("customer_id")
    assert got.height == embedded.height > 4000
    assert_frame_equal(got, embedded, check_exact=False, rel_tol=1e-9, abs_tol=1e-9)


@pytest.mark.parametrize(
    "make", [RFMSegmenter, lambda: KMeansSegmenter(4, random_state=0)], ids=["rfm", "kmeans"]
)
def test_segments_equal_embedded(on_spark: Any, embedded: pl.DataFrame, make: Any) -> None:
    want = make().fit(embedded).assign(embedded).sort("customer_id")
    res = segment_on_spark(on_spark, make(), sample_target=100_000)
    assert res.sample.everyone  # 4,3xx customers < the sample: the embedded fit exactly
    got = to_polars(res.assignments).sort("customer_id")
    assert_frame_equal(got, want, check_dtypes=False, rel_tol=1e-9)


@pytest.mark.parametrize("match", ["names", "hungarian"])
def test_kpi_equals_embedded(
    on_spark: Any, embedded: pl.DataFrame, labels: pl.DataFrame, match: str
) -> None:
    assigned = RFMSegmenter().fit(embedded).assign(embedded).select("customer_id", "segment")
    want = accuracy_report_from_tables(assigned, labels, match=match)
    sdf = on_spark.sparkSession.createDataFrame(assigned.to_arrow())
    got = spark_accuracy_report(sdf, labels, match=match)
    assert got.accuracy == want.accuracy
    assert got.coverage == want.coverage
    assert got.to_dict() == want.to_dict()
