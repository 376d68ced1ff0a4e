"""Saved models reload with identical behaviour; versions are recorded and checked."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import sklearn

from seglens.errors import DataError
from seglens.segmenters import (
    GaussianMixtureSegmenter,
    KMeansSegmenter,
    MixedSegmenter,
    RFMSegmenter,
)
from seglens.segmenters.persistence import load_model, read_metadata, save_model
from tests.segmenters.seg_helpers import make_planted


@pytest.mark.parametrize(
    "model",
    [
        RFMSegmenter(),
        KMeansSegmenter("auto", k_range=(2, 4), random_state=0),
        GaussianMixtureSegmenter(2, random_state=0),
        MixedSegmenter(2, random_state=0),
    ],
    ids=["rfm", "kmeans-auto", "gmm", "mixed"],
)
def test_round_trip(tmp_path: Path, model: Any) -> None:
    df, _ = make_planted(2, 60, seed=31, categorical=True)
    model.fit(df)
    path = save_model(model, tmp_path / "m.seglens")
    back = load_model(path)
    np.testing.assert_array_equal(back.predict(df), model.predict(df))
    assert back.assign(df).equals(model.assign(df))
    meta = read_metadata(path)
    assert meta["versions"]["scikit-learn"] == sklearn.__version__
    assert set(meta["versions"]) == {"seglens", "scikit-learn", "numpy", "python"}
    assert meta["segment_names"] == model.segment_names_
    assert (meta["k_selection"] is not None) == (getattr(model, "k_selection_", None) is not None)


def _rewrite_version(path: Path, lib: str, version: str) -> None:
    with zipfile.ZipFile(path) as zf:
        meta = json.loads(zf.read("metadata.json"))
        blob = zf.read("model.pkl")
    meta["versions"][lib] = version
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("metadata.json", json.dumps(meta))
        zf.writestr("model.pkl", blob)


def test_version_mismatch_is_refused_then_allowed_with_a_warning(tmp_path: Path) -> None:
    df, _ = make_planted(2, 40, seed=32)
    path = save_model(KMeansSegmenter(2, random_state=0).fit(df), tmp_path / "m.seglens")
    _rewrite_version(path, "scikit-learn", "0.24.2")
    with pytest.raises(DataError) as err:
        load_model(path)
    assert f"scikit-learn 0.24.2 (installed: {sklearn.__version__})" in str(err.value)
    assert "strict=False" in str(err.value)
    with pytest.warns(UserWarning, match="results may differ"):
        model = load_model(path, strict=False)
    assert model.predict(df).shape == (df.height,)


def test_not_a_model_file(tmp_path: Path) -> None:
    bad = tmp_path / "x.seglens"
    bad.write_text("hello")
    with pytest.raises(DataError, match="not a seglens model file"):
        load_model(bad)
    with pytest.raises(DataError, match="not found"):
        load_model(tmp_path / "missing.seglens")
    with pytest.raises(DataError, match="only fitted"):
        save_model(RFMSegmenter(), tmp_path / "y.seglens")
