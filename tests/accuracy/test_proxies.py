"""Label-free proxies on planted-truth populations, and agreement with scikit-learn."""

from __future__ import annotations

from datetime import datetime

import numpy as np
import pytest
from sklearn.cluster import AgglomerativeClustering, KMeans
from sklearn.metrics import davies_bouldin_score, silhouette_samples
from sklearn.mixture import GaussianMixture
from sklearn.tree import DecisionTreeClassifier

from seglens.accuracy import (
    behaviour_from_transactions,
    behavioural_validity,
    bootstrap_stability,
    judge_label_free,
    out_of_time_validity,
    proxy_caveat,
    reproducibility_score,
    separation,
)
from seglens.accuracy.separation import silhouette_sample
from seglens.errors import DataError, UsageError
from seglens.synthetic import make_population

CRISP = make_population(900, n_segments=3, separation=7.0, seed=11)
BLURRED = make_population(900, n_segments=3, separation=0.8, seed=11)


def test_stability_separates_crisp_from_blurred() -> None:
    crisp = bootstrap_stability(CRISP.features, n_segments=3, n_resamples=8)
    blurred = bootstrap_stability(BLURRED.features, n_segments=3, n_resamples=8)
    assert crisp.mean_jaccard > 0.95 and crisp.ari > 0.95
    assert blurred.mean_jaccard < crisp.mean_jaccard - 0.1
    assert set(crisp.jaccard) == {"0", "1", "2"}
    assert crisp.ari_low <= crisp.ari <= crisp.ari_high
    assert all(v == 0.0 for v in crisp.dissolved_share.values())


def test_stability_judges_given_labels_and_any_sklearn_clusterer() -> None:
    truth = CRISP.true_segments()
    res = bootstrap_stability(CRISP.features, GaussianMixture(3), labels=truth, n_resamples=4)
    assert set(res.jaccard) == {"S1", "S2", "S3"} and res.mean_jaccard > 0.9
    # no predict(): labels come from fit_predict on the resample
    agg = bootstrap_stability(
        CRISP.features[:300], AgglomerativeClustering(3), n_resamples=3, random_state=1
    )
    assert agg.mean_jaccard > 0.9


def test_stability_does_not_modify_the_given_segmenter() -> None:
    km = KMeans(3, n_init=1, random_state=0)
    bootstrap_stability(CRISP.features, km, n_resamples=2)
    assert not hasattr(km, "cluster_centers_")


def test_stability_input_errors() -> None:
    with pytest.raises(UsageError, match="n_segments"):
        bootstrap_stability(CRISP.features)
    with pytest.raises(DataError, match="missing or infinite"):
        bootstrap_stability(np.array([[1.0, np.nan], [0.0, 1.0]]), n_segments=2)
    with pytest.raises(UsageError, match="n_resamples"):
        bootstrap_stability(CRISP.features, n_segments=3, n_resamples=0)


def test_out_of_time_with_a_fitted_segmenter() -> None:
    km = KMeans(3, n_init=4, random_state=0).fit(CRISP.features)
    res = out_of_time_validity(CRISP.features, CRISP.holdout_features, km)
    assert res.held.value_pct > 98
    assert res.migration.sum() == CRISP.n_customers
    assert np.trace(res.migration) == round(res.held.value_pct * CRISP.n_customers / 100)
    blurred = out_of_time_validity(BLURRED.features, BLURRED.holdout_features, n_segments=3)
    assert blurred.held.value_pct < res.held.value_pct
    d = res.to_dict()
    assert set(d) >= {"held_pct", "ci_low_pct", "ci_high_pct", "n", "migration", "per_segment"}


def test_out_of_time_shape_mismatch_and_no_predict() -> None:
    with pytest.raises(DataError, match="same customers"):
        out_of_time_validity(CRISP.features, CRISP.holdout_features[:10], n_segments=3)
    with pytest.raises(UsageError, match="no predict"):
        out_of_time_validity(CRISP.features, CRISP.holdout_features, AgglomerativeClustering(3))


def test_behavioural_validity_from_synthetic_transactions() -> None:
    pop = make_population(600, n_segments=4, separation=5.0, seed=5)
    start = datetime(2024, 1, 1)
    tx = pop.transactions(start=start, days=180)
    hold = pop.transactions(start=start, days=180, holdout=True)
    mid, end = datetime(2024, 6, 29), datetime(2024, 12, 27)
    before = behaviour_from_transactions(tx, pop.customer_id, start=start, end=mid)
    after = behaviour_from_transactions(hold, pop.customer_id, start=mid, end=end)
    res = behavioural_validity(pop.true_segments(), before, after)
    assert res.order_preserved_pct["spend"] >= 80
    assert 0 <= res.validity_pct <= 100
    assert set(res.per_metric) == {"purchased", "spend"}


def test_behavioural_validity_known_answer() -> None:
    seg = ["a", "a", "b", "b", "c", "c"]
    before = {"spend": [1, 1, 5, 5, 9, 9]}
    after = {"spend": [2, 2, 9, 9, 4, 4]}  # c and b swap order; a stays lowest
    res = behavioural_validity(seg, before, after)
    assert res.order_preserved_pct["spend"] == pytest.approx(200 / 3)
    assert res.rank_correlation["spend"] == pytest.approx(0.5)
    with pytest.raises(UsageError):
        behavioural_validity(seg, before, {"other": after["spend"]})


def test_reproducibility() -> None:
    assert reproducibility_score(CRISP.features, CRISP.truth).value_pct > 98
    est = reproducibility_score(
        BLURRED.features, n_segments=3, classifier=DecisionTreeClassifier(max_depth=3)
    )
    assert 50 < est.value_pct <= 100 and est.n == 900
    with pytest.raises(DataError, match="at least 2 segments"):
        reproducibility_score(CRISP.features, np.zeros(900, dtype=int))


def test_silhouette_and_davies_bouldin_agree_with_sklearn() -> None:
    x, labels = BLURRED.features, BLURRED.truth
    res = separation(x, labels, sample_size=5000)
    assert res.silhouette_sample_size == 900
    np.testing.assert_allclose(
        silhouette_sample(x, labels, 3), silhouette_samples(x, labels), atol=1e-9
    )
    assert res.davies_bouldin == pytest.approx(davies_bouldin_score(x, labels), rel=1e-9)
    small = separation(x, labels, sample_size=200)
    assert small.silhouette_sample_size == 200
    assert abs(small.silhouette - res.silhouette) < 0.1


def test_silhouette_singletons_score_zero_like_sklearn() -> None:
    x = np.array([[0.0, 0.0], [0.1, 0.0], [4.0, 4.0], [9.0, 9.0]])
    labels = np.array([0, 0, 1, 2])
    np.testing.assert_allclose(silhouette_sample(x, labels, 3), silhouette_samples(x, labels))


def test_separation_rejects_one_segment() -> None:
    with pytest.raises(DataError, match="between 2"):
        separation(CRISP.features, np.zeros(900, dtype=int))


def test_every_proxy_has_a_caveat() -> None:
    for name in (
        "stability_jaccard",
        "stability_ari",
        "out_of_time_held",
        "behavioural_validity",
        "reproducibility",
        "silhouette",
        "davies_bouldin",
    ):
        assert len(proxy_caveat(name)) > 40
    with pytest.raises(KeyError):
        proxy_caveat("nonsense")


def test_label_free_segment_level_from_stability_and_out_of_time() -> None:
    km = KMeans(3, n_init=4, random_state=0).fit(CRISP.features)
    stab = bootstrap_stability(CRISP.features, km, labels=km.labels_, n_resamples=4)
    oot = out_of_time_validity(CRISP.features, CRISP.holdout_features, km)
    held = {s: e.value_pct for s, e in oot.per_segment.items()}
    res = judge_label_free(stab.jaccard, held)
    assert set(stab.jaccard) == set(held)
    assert res.value_pct == 100.0 and res.estimate is not None and res.estimate.n == 3
    blurred_km = KMeans(3, n_init=4, random_state=0).fit(BLURRED.features)
    b_stab = bootstrap_stability(BLURRED.features, blurred_km, labels=blurred_km.labels_,
                                 n_resamples=4)  # fmt: skip
    b_oot = out_of_time_validity(BLURRED.features, BLURRED.holdout_features, blurred_km)
    b_res = judge_label_free(b_stab.jaccard, {s: e.value_pct for s, e in b_oot.per_segment.items()})
    assert b_res.value_pct is not None and b_res.value_pct < 100.0
