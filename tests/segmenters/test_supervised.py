"""The supervised segmenter: recovery of planted segments from noisy labels, honest out-of-fold
figures (no customer is ever scored by a model that saw its label), importance and inputs."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import polars as pl
import pytest

from seglens.errors import DataError, UsageError
from seglens.segmenters import (
    SupervisedSegmenter,
    columns_repeating_labels,
    learn_from_labels,
    out_of_fold,
)
from tests.segmenters.seg_helpers import make_planted

NAMES = np.array(["A", "B", "C", "D"])


def _noisy(truth: np.ndarray, share: float, seed: int) -> np.ndarray:
    """``truth`` with ``share`` of the labels moved to another segment at random."""
    rng = np.random.default_rng(seed)
    y = truth.copy()
    flip = rng.random(y.size) < share
    y[flip] = (y[flip] + rng.integers(1, 4, int(flip.sum()))) % 4
    return y


@pytest.mark.parametrize("seed", [0, 1])
def test_recovers_planted_segments_from_labels_with_ten_percent_noise(seed: int) -> None:
    df, truth = make_planted(4, 300, seed=seed, categorical=True)
    y = _noisy(truth, 0.10, seed)
    assert 0.08 < float(np.mean(y != truth)) < 0.12
    model = SupervisedSegmenter(random_state=0).fit(df, NAMES[y])
    seg = model.assign(df)
    assert float(np.mean(seg["segment"].to_numpy() == NAMES[truth])) >= 0.95
    # new customers from the same segments: the model learnt the segments, not the noise
    fresh, fresh_truth = make_planted(4, 100, seed=seed, categorical=True)
    assert float(np.mean(model.predict(fresh) == NAMES[fresh_truth])) >= 0.95
    # out of fold, the predictions match the true segments as well (and the noisy labels less)
    oof = out_of_fold(SupervisedSegmenter(random_state=0), df, NAMES[y], importance=False)
    pred = oof.predictions["predicted"].to_numpy()
    assert float(np.mean(pred == NAMES[truth])) >= 0.95
    assert 84.0 <= oof.accuracy.value_pct <= 92.0  # at most ~90 % can agree with 10 % noise


def test_out_of_fold_never_uses_a_customers_own_label() -> None:
    """Labels are random; an id-like column lets a flexible model memorise every customer's
    label. In sample it looks good; out of fold it must fall to chance."""
    rng = np.random.default_rng(3)
    n = 240  # fewer than the model's 255 bins: every ticket gets a bin of its own
    df = pl.DataFrame(
        {
            "customer_id": [f"c{i}" for i in range(n)],
            "ticket": rng.permutation(n).astype(float),  # unique per customer, no structure
        }
    )
    y = NAMES[rng.integers(0, 4, n)]
    flexible = SupervisedSegmenter(
        min_samples_leaf=1,
        max_leaf_nodes=64,
        max_iter=300,
        learning_rate=0.5,
        l2_regularization=0.0,
        random_state=0,
    )
    in_sample = flexible.fit(df, y).score(df, y)
    assert in_sample > 0.9  # the leak is real: the model memorised the labels it saw
    oof = out_of_fold(flexible, df, y, importance=False)
    assert oof.accuracy.ci_low_pct <= 25.0 <= oof.accuracy.ci_high_pct
    assert oof.accuracy.value_pct < 35.0


class _Spy:
    """A classifier that fails if asked to predict a customer it was fitted on."""

    def __init__(self) -> None:
        self.seen: set[str] = set()

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        return {}

    def set_params(self, **params: Any) -> _Spy:
        return self

    def fit(self, X: pl.DataFrame, y: Any) -> _Spy:  # noqa: N803
        self.seen = set(X["customer_id"].to_list())
        self.majority_ = pd.Series(list(y)).mode()[0]
        return self

    def predict(self, X: pl.DataFrame) -> np.ndarray:  # noqa: N803
        overlap = self.seen & set(X["customer_id"].to_list())
        assert not overlap, f"scored {len(overlap)} customers with a model that saw their label"
        return np.full(X.height, self.majority_, dtype=object)


def test_every_out_of_fold_and_curve_prediction_comes_from_a_model_without_that_label() -> None:
    from seglens.segmenters import learning_curve

    df = pl.DataFrame({"customer_id": [f"c{i}" for i in range(300)], "x": np.arange(300.0)})
    y = NAMES[np.arange(300) % 4]
    oof = out_of_fold(_Spy(), df, y, importance=True)
    assert oof.predictions.height == 300 and oof.predictions["fold"].n_unique() == 5
    lc = learning_curve(_Spy(), df, y, sizes=[50, 100], n_draws=2)
    assert [p.n_labels for p in lc.points] == [50, 100, 300]


def test_result_reports_segments_confusions_and_what_carries_it() -> None:
    rng = np.random.default_rng(5)
    n = 1200
    spend = rng.normal(0, 1, n)
    region = rng.choice(["north", "south"], n)
    y = np.where(spend > 0.5, "big", np.where(region == "north", "north-small", "south-small"))
    df = pl.DataFrame(
        {
            "customer_id": [str(i) for i in range(n)],
            "total_spend": spend,  # a behavioural feature (seglens features' name)
            "region": region,
            "noise": rng.normal(0, 1, n),
        }
    )
    oof = out_of_fold(SupervisedSegmenter(random_state=0), df, y)
    assert oof.accuracy.value_pct > 95.0 and oof.n_folds == 5
    assert {s.segment for s in oof.segments} == {"big", "north-small", "south-small"}
    big = next(s for s in oof.segments if s.segment == "big")
    assert big.labelled == int(np.sum(y == "big")) and big.recall.n == big.labelled
    assert [i.column for i in oof.importance][:2] == ["total_spend", "region"]
    assert {i.column: i.kind for i in oof.importance}["total_spend"] == "behavioural"
    assert oof.importance[-1].column == "noise" and abs(oof.importance[-1].drop_pts) < 1.0
    beh, dem = oof.share_pct("behavioural"), oof.share_pct("demographic")
    assert beh is not None and dem is not None and abs(beh + dem - 100.0) < 1e-9
    assert 40.0 < beh < 90.0
    assert "shuffling it costs" in oof.importance[0].sentence()
    d = oof.to_dict()
    assert d["metric"].startswith("out-of-fold agreement") and "not the KPI" in d["metric"]


def test_confused_pairs_are_counted_from_the_out_of_fold_predictions() -> None:
    df = pl.DataFrame({"customer_id": [str(i) for i in range(200)], "x": [0.0] * 200})
    y = np.array(["a"] * 120 + ["b"] * 80)  # no signal: everyone predicted "a"
    oof = out_of_fold(SupervisedSegmenter(random_state=0), df, y, importance=False)
    assert oof.accuracy.value_pct == pytest.approx(60.0) and oof.chance_pct == 60.0
    (pair,) = oof.confused
    assert (pair.labelled, pair.predicted, pair.customers, pair.share_pct) == ("b", "a", 80, 100)


def test_inputs_pandas_categories_missing_and_unseen_values() -> None:
    rng = np.random.default_rng(2)
    n = 400
    plan = rng.choice(["gold", "silver", "bronze"], n)
    age = rng.normal(40, 10, n)
    age[::7] = np.nan
    y = np.where(plan == "gold", "premium", "standard")
    pdf = pd.DataFrame({"customer_id": range(n), "plan": plan, "age": age})
    model = SupervisedSegmenter(random_state=0).fit(pdf, y)
    assert model.categorical_columns_ == ["plan"] and model.numeric_columns_ == ["age"]
    new = pl.DataFrame({"customer_id": ["x", "y"], "plan": ["gold", "platinum"], "age": [None, 30]})
    out = model.assign(new)
    assert out.columns == ["customer_id", "segment", "cluster", "probability", "margin"]
    assert out["segment"][0] == "premium"  # unseen "platinum" is treated as missing: no crash
    proba = model.predict_proba(new)
    assert proba.shape == (2, 2) and np.allclose(proba.sum(1), 1.0)
    # a numeric code named categorical is split by category, not by order
    coded = pl.DataFrame({"region": rng.integers(0, 6, n).astype(float)})
    yc = np.where(np.isin(coded["region"].to_numpy(), [0, 3, 5]), "x", "y")
    m2 = SupervisedSegmenter(categorical=["region"], random_state=0).fit(coded, yc)
    assert m2.categorical_columns_ == ["region"] and m2.score(coded, yc) == 1.0


def test_errors_are_clear() -> None:
    df = pl.DataFrame({"customer_id": ["1", "2", "3"], "x": [1.0, 2.0, 3.0]})
    with pytest.raises(ValueError, match="3 rows but y has 2"):
        SupervisedSegmenter().fit(df, ["a", "b"])
    with pytest.raises(UsageError, match="not among the features"):
        SupervisedSegmenter(categorical=["region"]).fit(df, ["a", "b", "a"])
    with pytest.raises(DataError, match="needs the column"):
        SupervisedSegmenter().fit(df, ["a", "b", "a"]).predict(df.drop("x"))
    with pytest.raises(DataError, match="cannot be split into 5 folds"):
        out_of_fold(SupervisedSegmenter(), df, ["a", "b", "a"])


def test_a_column_that_repeats_the_labels_is_left_out() -> None:
    df, truth = make_planted(3, 60, seed=4)
    labels = NAMES[truth]
    feats = df.with_columns(pl.Series("Segmentation", labels))
    assert columns_repeating_labels(feats, labels) == ["Segmentation"]
    lab = pl.DataFrame({"customer_id": df["customer_id"], "segment": labels})
    res = learn_from_labels(feats, lab, curve=False)
    assert res.dropped_columns == ("Segmentation",)
    assert "Segmentation" not in res.model.numeric_columns_ + res.model.categorical_columns_
    assert res.assignments.height == feats.height


def test_learn_from_labels_uses_the_latest_label_and_reports_unmatched_ones() -> None:
    df, truth = make_planted(2, 50, seed=1)
    ids = df["customer_id"].to_list()
    lab = pl.DataFrame(
        {
            "customer_id": [*ids, ids[0], "stranger"],
            "segment": [*NAMES[truth].tolist(), "Z", "A"],
        }
    )
    res = learn_from_labels(df, lab, curve=False)
    assert res.n_labelled == 100 and res.labels_without_features == 1
    assert "Z" in res.model.segment_names_  # the later row of customer 0 wins


def test_fitting_without_labels_says_what_it_needs() -> None:
    df = pl.DataFrame({"customer_id": ["1", "2"], "x": [1.0, 2.0]})
    with pytest.raises(UsageError, match="learns from labelled customers") as err:
        SupervisedSegmenter().fit(df)
    assert isinstance(err.value, ValueError) and "seglens track --model" in str(err.value)
