"""Shared invariance checks run over every registered metric (scikit-learn's test_common idea)."""

from __future__ import annotations

import importlib

import numpy as np
import pandas as pd
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from seglens.accuracy import METRICS, MetricSpec
from seglens.errors import DataError

SPECS = list(METRICS.values())
IDS = [s.name for s in SPECS]

RNG = np.random.default_rng(42)
Y_TRUE = RNG.integers(0, 4, size=300)
Y_PRED = np.where(RNG.random(300) < 0.7, Y_TRUE, RNG.integers(0, 4, size=300))

labels_strategy = st.lists(st.integers(0, 4), min_size=2, max_size=60)


def test_registry_holds_the_documented_metrics() -> None:
    assert set(METRICS) == {
        "accuracy",
        "macro_f1",
        "cohen_kappa",
        "adjusted_rand",
        "normalized_mutual_info",
    }


@pytest.mark.parametrize("spec", SPECS, ids=IDS)
def test_relabelling_segments_changes_nothing(spec: MetricSpec) -> None:
    perm = np.array([3, 0, 2, 1])
    renamed = np.array(["seg-" + "abcd"[i] for i in perm[Y_PRED]], dtype=object)
    assert spec.func(Y_TRUE, renamed) == pytest.approx(spec.func(Y_TRUE, Y_PRED), abs=1e-12)


@pytest.mark.parametrize("spec", SPECS, ids=IDS)
def test_relabelling_labels_changes_nothing(spec: MetricSpec) -> None:
    names = np.array(["A", "B", "C", "D"], dtype=object)
    assert spec.func(names[Y_TRUE], Y_PRED) == pytest.approx(spec.func(Y_TRUE, Y_PRED), abs=1e-12)


@pytest.mark.parametrize("spec", SPECS, ids=IDS)
@settings(max_examples=60, deadline=None)
@given(y_true=labels_strategy, data=st.data())
def test_bounds(spec: MetricSpec, y_true: list[int], data: st.DataObject) -> None:
    y_pred = data.draw(st.lists(st.integers(0, 5), min_size=len(y_true), max_size=len(y_true)))
    value = spec.func(y_true, y_pred)
    assert spec.lower - 1e-9 <= value <= spec.upper + 1e-9


@pytest.mark.parametrize("spec", SPECS, ids=IDS)
@settings(max_examples=60, deadline=None)
@given(y_true=labels_strategy, shift=st.integers(1, 7))
def test_perfect_for_identical_partitions(spec: MetricSpec, y_true: list[int], shift: int) -> None:
    renamed = [f"cluster {(v * 3 + shift) % 11}" for v in y_true]  # a bijective relabelling
    assert spec.func(y_true, renamed) == spec.perfect


@pytest.mark.parametrize("spec", SPECS, ids=IDS)
@settings(max_examples=80, deadline=None)
@given(y_true=labels_strategy, data=st.data())
def test_perfect_only_for_identical_partitions(
    spec: MetricSpec, y_true: list[int], data: st.DataObject
) -> None:
    y_pred = data.draw(st.lists(st.integers(0, 5), min_size=len(y_true), max_size=len(y_true)))
    pairs = set(zip(y_true, y_pred, strict=True))
    identical = len(pairs) == len(set(y_true)) == len(set(y_pred))  # a bijection of labels
    if spec.name == "cohen_kappa" and len(set(y_true)) == 1:
        return  # kappa is undefined (0/0) for a single label; seglens reports 1 or 0 there
    assert (spec.func(y_true, y_pred) == spec.perfect) == identical


@pytest.mark.parametrize("spec", SPECS, ids=IDS)
@pytest.mark.parametrize(
    "bad",
    [[0, 1, np.nan, 1], [0, None, 1, 1], ["a", "b", None, "a"], pd.Series([0.0, 1.0, None, 1.0])],
    ids=["nan", "none", "none-str", "pandas-na"],
)
def test_missing_values_rejected(spec: MetricSpec, bad: object) -> None:
    with pytest.raises(DataError, match="missing value"):
        spec.func([0, 1, 0, 1], bad)
    with pytest.raises(DataError, match="missing value"):
        spec.func(bad, [0, 1, 0, 1])


@pytest.mark.parametrize("spec", SPECS, ids=IDS)
def test_empty_and_mismatched_input_rejected(spec: MetricSpec) -> None:
    with pytest.raises(DataError, match="empty"):
        spec.func([], [])
    with pytest.raises(DataError, match="customers"):
        spec.func([0, 1, 1], [0, 1])
    with pytest.raises(DataError, match="one-dimensional"):
        spec.func(np.zeros((2, 2)), np.zeros((2, 2)))


@pytest.mark.parametrize("spec", SPECS, ids=IDS)
def test_input_types_agree(spec: MetricSpec) -> None:
    expected = spec.func(Y_TRUE, Y_PRED)
    for t, p in [
        (Y_TRUE.tolist(), Y_PRED.tolist()),
        (pd.Series(Y_TRUE), pd.Series(Y_PRED)),
        (pl.Series(Y_TRUE), pl.Series(Y_PRED)),
        (pd.Series(Y_TRUE).astype("category"), pl.Series(Y_PRED).cast(pl.String)),
        (Y_TRUE.astype(np.float64), tuple(Y_PRED.tolist())),
    ]:
        assert spec.func(t, p) == pytest.approx(expected, abs=1e-12)


@pytest.mark.parametrize("spec", [s for s in SPECS if s.symmetric], ids=lambda s: s.name)
def test_symmetric_metrics(spec: MetricSpec) -> None:
    assert spec.func(Y_TRUE, Y_PRED) == pytest.approx(spec.func(Y_PRED, Y_TRUE), abs=1e-12)


def _sklearn(spec: MetricSpec) -> object:
    assert spec.sklearn is not None
    module, name = spec.sklearn.rsplit(".", 1)
    return getattr(importlib.import_module(module), name)


@pytest.mark.parametrize("spec", [s for s in SPECS if s.sklearn], ids=lambda s: s.name)
@settings(max_examples=60, deadline=None)
@given(y_true=st.lists(st.integers(0, 3), min_size=3, max_size=80), data=st.data())
def test_agrees_with_sklearn(spec: MetricSpec, y_true: list[int], data: st.DataObject) -> None:
    y_pred = data.draw(st.lists(st.integers(0, 3), min_size=len(y_true), max_size=len(y_true)))
    ref = _sklearn(spec)
    if spec.uses_matching:
        # name-matched labels (same vocabulary) make sklearn's unmatched comparison the same one
        y_pred_named = [f"s{v}" for v in y_pred]
        y_true_named = [f"s{v}" for v in y_true]
        if len(set(y_true)) < 2 and len(set(y_pred)) < 2:
            return  # sklearn returns nan for kappa with one class on both sides
        ours = spec.func(y_true_named, y_pred_named, match="names")  # type: ignore[call-arg]
        theirs = ref(y_true_named, y_pred_named)  # type: ignore[operator]
    else:
        ours = spec.func(y_true, y_pred)
        theirs = ref(y_true, y_pred)  # type: ignore[operator]
    assert ours == pytest.approx(theirs, abs=1e-9)
