"""`seglens segment --method supervised --labels FILE`: the printed figures are the library's."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl
import pytest
from typer.testing import CliRunner

from seglens.cli import app
from seglens.segmenters import SupervisedSegmenter, learn_from_labels, load_model
from tests.segmenters.seg_helpers import make_planted

runner = CliRunner()
NAMES = np.array(["A", "B", "C"])


@pytest.fixture
def files(tmp_path: Path) -> tuple[Path, Path, pl.DataFrame, pl.DataFrame]:
    df, truth = make_planted(3, 150, seed=7, categorical=True)
    rng = np.random.default_rng(7)
    y = truth.copy()
    flip = rng.random(y.size) < 0.1
    y[flip] = (y[flip] + 1) % 3
    labels = pl.DataFrame({"customer_id": df["customer_id"][:300], "segment": NAMES[y[:300]]})
    feats, lab = tmp_path / "features.csv", tmp_path / "labels.csv"
    df.write_csv(feats)
    labels.write_csv(lab)
    return feats, lab, df, labels


def test_segment_supervised_prints_the_out_of_fold_evidence(
    tmp_path: Path, files: tuple[Path, Path, pl.DataFrame, pl.DataFrame]
) -> None:
    feats, lab, df, labels = files
    out, model = tmp_path / "seg.parquet", tmp_path / "m.seglens"
    res = runner.invoke(
        app,
        [
            "segment", str(feats), "--method", "supervised", "--labels", str(lab),
            "--folds", "4", "--seed", "1", "-o", str(out), "--save-model", str(model),
        ],
    )  # fmt: skip
    assert res.exit_code == 0, res.output
    want = learn_from_labels(
        df, labels, estimator=SupervisedSegmenter(random_state=1), n_splits=4, random_state=1
    )
    oof = want.out_of_fold
    text = " ".join(res.output.split())
    assert "Out-of-fold agreement with the labels (4-fold;" in text
    assert str(oof.accuracy) in text and "n=300" in text
    assert "not the KPI of the deployed segmentation" in text
    assert 85.0 <= oof.accuracy.value_pct <= 95.0
    for s in oof.segments:
        assert f"{s.precision.value_pct:.1f} % ({s.precision.ci_low_pct:.1f}–" in text
    for c in oof.confused:
        assert f"{c.customers:,} customers labelled {c.labelled} were put in {c.predicted}" in text
    assert f"input {oof.importance[0].column}: shuffling it costs" in text
    assert "behavioural inputs" in text and "demographic inputs" in text
    assert want.curve is not None
    assert [p.n_labels for p in want.curve.points] == [100, 200, 300]
    for p in want.curve.points:
        lo, hi = p.accuracy.ci_low_pct, p.accuracy.ci_high_pct
        assert f"{p.accuracy.value_pct:.1f} % ({lo:.1f}–{hi:.1f})" in text
    assert f"projection: {want.curve.projection.message}" in text
    seg = pl.read_parquet(out)
    assert seg.height == df.height == 450  # every customer, labelled or not
    assert seg["segment"].to_list() == want.assignments["segment"].to_list()
    assert load_model(model).segment_names_ == ["A", "B", "C"]


def test_no_curve_and_option_errors(
    tmp_path: Path, files: tuple[Path, Path, pl.DataFrame, pl.DataFrame]
) -> None:
    feats, lab, _, _ = files
    out = str(tmp_path / "seg.csv")
    res = runner.invoke(
        app,
        ["segment", str(feats), "-m", "supervised", "--labels", str(lab), "--no-curve", "-o", out],
    )
    assert res.exit_code == 0, res.output
    assert "Out-of-fold agreement" in res.output and "Learning curve" not in res.output
    res = runner.invoke(app, ["segment", str(feats), "-m", "supervised"])
    assert res.exit_code == 2 and "--labels goes with --method supervised" in res.output
    res = runner.invoke(app, ["segment", str(feats), "-m", "kmeans", "--labels", str(lab)])
    assert res.exit_code == 2 and "--labels goes with --method supervised" in res.output


def test_labels_that_match_no_customer_are_refused(
    tmp_path: Path, files: tuple[Path, Path, pl.DataFrame, pl.DataFrame]
) -> None:
    feats, _, _, _ = files
    other = tmp_path / "other.csv"
    pl.DataFrame({"customer_id": ["x1", "x2"], "segment": ["A", "B"]}).write_csv(other)
    res = runner.invoke(app, ["segment", str(feats), "-m", "supervised", "--labels", str(other)])
    assert res.exit_code == 2 and "0 labelled customers in the feature table" in res.output
