"""Clustering segmenters on planted populations: recovery, automatic k, contract details."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest
from sklearn.exceptions import NotFittedError

from seglens.errors import DataError, UsageError
from seglens.segmenters import (
    FeaturePreprocessor,
    GaussianMixtureSegmenter,
    KMeansSegmenter,
    MixedSegmenter,
    choose_k,
)
from tests.segmenters.seg_helpers import make_planted, matched_accuracy

SEGMENTERS = {
    "kmeans": lambda k: KMeansSegmenter(k, random_state=0),
    "kmeans-sampled": lambda k: KMeansSegmenter(k, random_state=0, sample_size=300),
    "minibatch": lambda k: KMeansSegmenter(k, algorithm="minibatch", random_state=0),
    "gmm": lambda k: GaussianMixtureSegmenter(k, random_state=0),
    "mixed": lambda k: MixedSegmenter(k, random_state=0),
}


@pytest.mark.parametrize("name", SEGMENTERS)
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_recovers_well_separated_planted_segments(name: str, seed: int) -> None:
    df, truth = make_planted(5, 200, seed=seed, categorical=name == "mixed")
    seg = SEGMENTERS[name](5).fit(df)
    assert matched_accuracy(truth, seg.labels_) >= 0.95
    # predict on the same customers gives the training labels
    np.testing.assert_array_equal(seg.predict(df), seg.labels_)


def test_mixed_uses_the_categorical_column() -> None:
    # two segments identical on numbers, told apart only by region
    rng = np.random.default_rng(0)
    n = 400
    region = np.where(np.arange(n) < n // 2, "north", "south")
    df = pl.DataFrame({"spend": rng.normal(100, 5, n), "region": region})
    seg = MixedSegmenter(2, random_state=0, gamma=2.0).fit(df)
    assert matched_accuracy((region == "south").astype(int), seg.labels_) == 1.0
    modes = seg.cluster_modes()
    assert sorted(m["region"] for m in modes) == ["north", "south"]


def test_automatic_k_single_seed_shows_its_evidence() -> None:
    df, _ = make_planted(4, 150, seed=3)
    seg = KMeansSegmenter("auto", k_range=(2, 8), random_state=0).fit(df)
    sel = seg.k_selection_
    assert sel is not None and sel.k == seg.n_clusters_ == 4
    assert sel.table["k"].to_list() == list(range(2, 9))
    assert sel.table.filter(pl.col("chosen"))["k"].to_list() == [4]
    best = sel.table.filter(pl.col("k") == 4).row(0, named=True)
    assert best["silhouette"] == sel.table["silhouette"].max()
    assert best["stability"] >= 0.75
    assert "highest silhouette" in sel.reason
    assert set(sel.to_dict()) >= {"k", "reason", "table"}


@pytest.mark.slow
def test_automatic_k_finds_planted_k_in_at_least_90_percent_of_20_seeds() -> None:
    hits = []
    for seed in range(20):
        k = 3 + seed % 5
        df, _ = make_planted(k, 150, seed=100 + seed)
        seg = KMeansSegmenter("auto", k_range=(2, 9), random_state=seed).fit(df)
        hits.append(seg.n_clusters_ == k)
    assert sum(hits) >= 18, hits


def test_gmm_automatic_k_uses_bic() -> None:
    df, _ = make_planted(3, 150, seed=4)
    seg = GaussianMixtureSegmenter("auto", k_range=(2, 6), random_state=0).fit(df)
    sel = seg.k_selection_
    assert sel is not None and sel.criterion == "bic" and sel.k == 3
    assert sel.table.filter(pl.col("k") == 3)["bic"].item() == sel.table["bic"].min()
    proba = seg.predict_proba(df)
    np.testing.assert_allclose(proba.sum(1), 1.0)
    out = seg.assign(df)
    np.testing.assert_allclose(out["probability"].to_numpy(), proba.max(1))


def test_mixed_automatic_k() -> None:
    df, _ = make_planted(3, 120, seed=5, categorical=True)
    seg = MixedSegmenter("auto", k_range=(2, 6), random_state=0).fit(df)
    assert seg.k_selection_ is not None and seg.n_clusters_ == 3


def test_choose_k_validates_candidates() -> None:
    with pytest.raises(UsageError, match="between 2 and"):
        choose_k(np.zeros((10, 2)), k_values=[1, 2])
    with pytest.raises(UsageError, match="needs the categorical codes"):
        choose_k(np.zeros((10, 2)), method="mixed", k_values=[2])


def test_preprocessing_is_part_of_the_model() -> None:
    df, _ = make_planted(3, 100, seed=6)
    seg = KMeansSegmenter(3, random_state=0).fit(df)
    pre = seg.preprocessor_
    rng = np.random.default_rng(0)
    skewed = pl.DataFrame({"spend": rng.lognormal(5, 1.2, 2000), "trend": rng.normal(0, 1, 2000)})
    auto = FeaturePreprocessor().fit(skewed)
    assert auto.log_mask_.tolist() == [True, False]
    assert FeaturePreprocessor(log_transform=["trend"]).fit(skewed).log_mask_.tolist() == [
        False,
        True,
    ]
    # a customer with a missing value is imputed with the training median, not refused
    one = df.head(1).with_columns(pl.lit(None, dtype=pl.Float64).alias("total_spend"))
    assert seg.assign(one)["segment"].null_count() == 0
    # the cluster centres live in the preprocessed space: column means ~0
    z = pre.transform(df)
    np.testing.assert_allclose(z.mean(0), 0.0, atol=1e-9)


def test_assign_gives_names_and_membership_details() -> None:
    df, _ = make_planted(3, 100, seed=7)
    seg = KMeansSegmenter(3, random_state=0).fit(df)
    out = seg.assign(df)
    assert out.columns == ["customer_id", "segment", "cluster", "distance", "margin"]
    assert out["customer_id"].to_list() == df["customer_id"].to_list()
    assert set(out["segment"]) == set(seg.segment_names_)
    assert (out["margin"] >= 0).all() and (out["distance"] >= 0).all()
    np.testing.assert_allclose(out["distance"].to_numpy(), seg.transform(df).min(1))
    seg.rename_segments({seg.segment_names_[0]: "VIP"})
    assert "VIP" in set(seg.assign(df)["segment"])
    with pytest.raises(UsageError, match="no segment named"):
        seg.rename_segments({"nope": "x"})


def test_auto_names_read_like_a_marketer_would_say_them() -> None:
    rng = np.random.default_rng(0)
    n = 300
    best = {"days_since_last_purchase": 10, "n_orders": 20, "total_spend": 5000}
    lapsed = {"days_since_last_purchase": 400, "n_orders": 1, "total_spend": 40}
    rows = [best] * n + [lapsed] * n
    df = pl.DataFrame(
        {c: [r[c] * float(rng.uniform(0.9, 1.1)) for r in rows] for c in best}
    ).with_columns(pl.col("n_orders").round())
    seg = KMeansSegmenter(2, random_state=0).fit(df)
    assert sorted(seg.segment_names_) == sorted(
        ["recent frequent high spenders", "lapsed one-time low spenders"]
    )


def test_unfitted_and_bad_inputs() -> None:
    df, _ = make_planted(2, 20, seed=8)
    for seg in (KMeansSegmenter(2), GaussianMixtureSegmenter(2), MixedSegmenter(2)):
        with pytest.raises(NotFittedError):
            seg.predict(df)
    fitted = KMeansSegmenter(2, random_state=0).fit(df)
    with pytest.raises(DataError, match="'total_spend'"):
        fitted.predict(df.drop("total_spend"))
    with pytest.raises(UsageError, match="positive integer or 'auto'"):
        KMeansSegmenter("many").fit(df)
    with pytest.raises(DataError, match="no feature columns"):
        KMeansSegmenter(2).fit(df.select("customer_id"))
    with pytest.raises(DataError, match="not numeric"):
        FeaturePreprocessor(numeric=["customer_id"]).fit(df)
