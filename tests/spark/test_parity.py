"""Every Spark stage equals the embedded engine on the raw Online Retail CSV.

Spark reads and cleans the raw file itself. One Spark pass is shared by the checks through
module-scoped fixtures: lines, features, RFM and k-means segments, the KPI with its interval
(declared and learnt mapping). The Spark session is the suite's one session
(``tests/conftest.py``).
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
from seglens.io import LoadedTable
from seglens.segmenters import KMeansSegmenter, RFMSegmenter
from seglens.spark.accuracy import spark_accuracy_report
from seglens.spark.commands import read_lines, segment_on_spark, to_polars
from seglens.spark.features import spark_features

pytestmark = [
    pytest.mark.spark,
    pytest.mark.filterwarnings(
        "ignore:PySpark does not yet fully support pandas >= 3.0.0:FutureWarning"
    ),
]

AS_OF = "2011-12-09"


@pytest.fixture(scope="module")
def lines(online_retail_loaded: LoadedTable) -> pl.DataFrame:
    """The embedded engine's canonical table of the raw file (shared, tests/conftest.py)."""
    return online_retail_loaded.table


@pytest.fixture(scope="module")
def embedded(lines: pl.DataFrame) -> pl.DataFrame:
    return customer_features(lines, as_of=AS_OF).table


@pytest.fixture(scope="module")
def cleaned(online_retail_csv: Path, spark: Any) -> Any:
    """The raw CSV read and cleaned by Spark (``ingest --engine spark``)."""
    return read_lines(spark, str(online_retail_csv), None)


@pytest.fixture(scope="module")
def on_spark(cleaned: Any) -> Any:
    return spark_features(cleaned.table, as_of=AS_OF).frame.localCheckpoint()


def test_ingest_equals_embedded(cleaned: Any, lines: pl.DataFrame) -> None:
    got = to_polars(cleaned.table)
    keys = ["customer_id", "timestamp", "order_id", "product_id", "amount"]
    assert got.height == lines.height > 390_000
    assert_frame_equal(got.select(lines.columns).sort(keys), lines.sort(keys), rel_tol=1e-9)


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


def test_stratified_sample_is_proportional_and_reproducible(
    on_spark: Any, embedded: pl.DataFrame
) -> None:
    from seglens.spark.fit import draw_sample

    first = draw_sample(on_spark, 1000, seed=3)
    band = np.minimum(np.floor(np.log2(np.maximum(embedded["n_orders"].to_numpy(), 1))), 4)
    sizes = {f"n_orders:{b}": int((band == b).sum()) for b in np.unique(band).astype(int)}
    assert first.population == embedded.height
    assert first.strata == {
        s: (n, max(1, round(1000 * n / embedded.height))) for s, n in sizes.items()
    }
    assert first.table.height == sum(k for _, k in first.strata.values())
    again = draw_sample(on_spark, 1000, seed=3)
    assert again.table["customer_id"].to_list() == first.table["customer_id"].to_list()
    assert first.table.columns == embedded.columns
    inside = embedded.join(first.table.select("customer_id"), on="customer_id")
    assert_frame_equal(inside.sort("customer_id"), first.table)


def test_rfm_cut_points_exact_and_approximate(on_spark: Any, embedded: pl.DataFrame) -> None:
    from seglens.spark.fit import rfm_edges

    cols = ["days_since_last_purchase", "n_orders", "total_spend"]
    n = embedded.height
    exact, how = rfm_edges(on_spark, cols, 5, population=n)
    assert how == "exact"
    q = np.arange(1, 5) / 5
    for col, edges in zip(cols, exact, strict=True):
        np.testing.assert_allclose(edges, np.quantile(embedded[col].to_numpy(), q), rtol=1e-12)
    approx, how = rfm_edges(on_spark, cols, 5, population=n, exact_limit=0, relative_error=0.01)
    assert how == "approx, rel. error 0.01"
    for col, edges in zip(cols, approx, strict=True):
        values = np.sort(embedded[col].to_numpy())
        for p, e in zip(q, edges, strict=True):  # the value's rank is within 1 % of p * n
            lo, hi = np.searchsorted(values, e, "left"), np.searchsorted(values, e, "right")
            assert lo - 0.01 * n - 1 <= p * n <= hi + 0.01 * n + 1


def test_rfm_fitted_on_a_sample_still_scores_with_the_population_cut_points(
    on_spark: Any, embedded: pl.DataFrame
) -> None:
    want = RFMSegmenter().fit(embedded).assign(embedded).sort("customer_id")
    res = segment_on_spark(on_spark, RFMSegmenter(), sample_target=1000)
    assert not res.sample.everyone
    assert res.how.endswith("RFM cut points from all customers (exact)")
    got = to_polars(res.assignments).sort("customer_id")
    assert_frame_equal(got, want, check_dtypes=False)


def test_crm_export_of_the_spark_segments_equals_embedded(
    on_spark: Any, embedded: pl.DataFrame, tmp_path: Path
) -> None:
    """The last stage on the same data: Spark's RFM segments of the raw file, exported for
    HubSpot with pseudonyms, give the embedded export's cells (one file here, parts there)."""
    import datetime as dt

    from seglens.export import export_segments
    from seglens.spark.export import export_on_spark

    key, day = b"k" * 32, dt.date(2011, 12, 9)
    want = RFMSegmenter().fit(embedded).assign(embedded).select("customer_id", "segment")
    emb = export_segments(
        want, tmp_path / "emb.csv", format="hubspot", as_of=day, pseudonym_key=key
    )
    res = segment_on_spark(on_spark, RFMSegmenter(), sample_target=100_000)
    got = export_on_spark(
        res.assignments, str(tmp_path / "sp.csv"), format="hubspot", as_of=day, pseudonym_key=key
    )
    assert got.rows == emb.rows == embedded.height and got.columns == emb.columns
    assert got.escaped_cells == emb.escaped_cells
    sort = "seglens_customer_id"
    want_cells = pl.read_csv(emb.paths[0], infer_schema=False).sort(sort)
    got_cells = pl.concat([pl.read_csv(p, infer_schema=False) for p in got.paths]).sort(sort)
    assert_frame_equal(got_cells, want_cells)
    assert want_cells[sort].str.len_chars().unique().to_list() == [32]  # pseudonyms, not ids
