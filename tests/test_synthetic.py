"""The planted-truth generator: knobs do what they say, output has the canonical shapes."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

import numpy as np
import polars as pl
import pytest
from sklearn.cluster import KMeans
from threadpoolctl import threadpool_limits

from seglens.accuracy import accuracy_score
from seglens.errors import UsageError
from seglens.synthetic import make_population
from seglens.tables import LABELS, TRANSACTIONS


@pytest.fixture(autouse=True)
def _one_native_thread() -> Iterator[None]:
    """k-means on one thread: spinning OpenMP threads are very slow on a busy 2-core runner."""
    with threadpool_limits(1):
        yield


def test_same_seed_same_population() -> None:
    a = make_population(300, seed=4)
    b = make_population(300, seed=4)
    c = make_population(300, seed=5)
    np.testing.assert_array_equal(a.features, b.features)
    assert not np.array_equal(a.features, c.features)


@pytest.mark.parametrize("imbalance", [1.0, 3.0, 10.0])
def test_imbalance_sets_largest_over_smallest(imbalance: float) -> None:
    pop = make_population(5000, n_segments=4, imbalance=imbalance)
    sizes = np.bincount(pop.truth)
    assert sizes.sum() == 5000
    assert sizes.max() / sizes.min() == pytest.approx(imbalance, rel=0.02)


def test_separation_is_the_closest_centre_distance() -> None:
    pop = make_population(100, n_segments=5, separation=2.5)
    d = np.sqrt(((pop.centres[:, None] - pop.centres[None]) ** 2).sum(-1))
    assert d[np.triu_indices(5, 1)].min() == pytest.approx(2.5)


def test_separation_controls_how_well_kmeans_recovers_the_truth() -> None:
    accs = []
    for sep in (0.5, 2.0, 6.0):
        pop = make_population(2000, n_segments=3, separation=sep, seed=1)
        pred = KMeans(3, n_init=4, random_state=0).fit_predict(pop.features)
        accs.append(accuracy_score(pop.truth, pred))
    assert accs[0] < accs[1] < accs[2]
    assert accs[2] > 99


def test_label_noise_share() -> None:
    pop = make_population(20_000, label_noise=0.2, seed=2)
    assert np.mean(pop.observed_labels != pop.truth) == pytest.approx(0.2, abs=0.01)
    assert accuracy_score(pop.observed_labels, pop.truth, match="names") == pytest.approx(80, abs=1)


def test_period_noise_moves_the_holdout() -> None:
    still = make_population(500, period_noise=0.0)
    np.testing.assert_array_equal(still.features, still.holdout_features)
    moving = make_population(500, period_noise=0.5)
    gap = np.std(moving.features - moving.holdout_features)
    assert gap == pytest.approx(0.5 * np.sqrt(2), rel=0.1)


def test_tables_have_canonical_shapes() -> None:
    pop = make_population(200, n_segments=3, seed=9)
    tx = pop.transactions()
    for name, dtype in tx.schema.items():
        assert TRANSACTIONS.schema()[name] == dtype
    assert set(TRANSACTIONS.required) <= set(tx.columns)
    assert tx["customer_id"].is_in(pop.customer_id.tolist()).all()
    assert tx["order_id"].n_unique() == tx.height
    assert tx["timestamp"].min() >= datetime(2024, 1, 1)  # type: ignore[operator]
    hold = pop.transactions(holdout=True)
    assert hold["timestamp"].min() > tx["timestamp"].max()
    labels = pop.labels(observed=False)
    assert set(LABELS.required) <= set(labels.columns)
    assert labels["segment"].to_list() == pop.true_segments().tolist()
    cust = pop.customers()
    assert cust.columns[:2] == ["customer_id", "true_segment"] and cust.height == 200


def test_segments_differ_in_spend_and_frequency() -> None:
    pop = make_population(3000, n_segments=3, separation=4.0, seed=3)
    tx = pop.transactions()
    per = (
        tx.group_by("customer_id")
        .agg(pl.len().alias("orders"), pl.col("amount").mean().alias("aov"))
        .join(pop.customers().select("customer_id", "true_segment"), on="customer_id")
        .group_by("true_segment")
        .agg(pl.col("orders").mean(), pl.col("aov").mean())
    )
    assert per["orders"].max() / per["orders"].min() > 1.3


@pytest.mark.parametrize(
    "kwargs",
    [
        {"n_customers": 2, "n_segments": 3},
        {"n_features": 1},
        {"imbalance": 0.5},
        {"label_noise": 1.5},
        {"separation": -1.0},
    ],
)
def test_bad_knobs(kwargs: dict[str, float]) -> None:
    with pytest.raises(UsageError):
        make_population(**kwargs)  # type: ignore[arg-type]
