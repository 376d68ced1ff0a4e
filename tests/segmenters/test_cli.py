"""`seglens segment` and `seglens profile` end to end, in-process."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from seglens.cli import app
from seglens.segmenters.persistence import load_model
from tests.segmenters.seg_helpers import make_planted, matched_accuracy

runner = CliRunner()


@pytest.fixture
def features_csv(tmp_path: Path) -> tuple[Path, pl.DataFrame, object]:
    df, truth = make_planted(3, 120, seed=11)
    path = tmp_path / "features.csv"
    df.with_columns(pl.col("customer_id").str.replace("C", "00")).write_csv(path)
    return path, df, truth


def test_segment_kmeans_auto_prints_evidence_and_writes_parquet(
    tmp_path: Path, features_csv: tuple[Path, pl.DataFrame, object]
) -> None:
    path, _, truth = features_csv
    out = tmp_path / "segments.parquet"
    model = tmp_path / "model.seglens"
    res = runner.invoke(
        app,
        [
            "segment",
            str(path),
            "--method",
            "kmeans",
            "--k",
            "auto",
            "--k-range",
            "2-6",
            "-o",
            str(out),
            "--save-model",
            str(model),
        ],
    )
    assert res.exit_code == 0, res.output
    assert "Automatic k" in res.output and "← chosen" in res.output
    assert "highest silhouette" in res.output
    seg = pl.read_parquet(out)
    assert seg.columns[:3] == ["customer_id", "segment", "cluster"]
    assert {"distance", "margin"} <= set(seg.columns)
    assert seg["customer_id"][0].startswith("00")  # ids kept as text, leading zeros intact
    assert matched_accuracy(truth, seg["cluster"].to_numpy()) >= 0.95
    assert load_model(model).n_clusters_ == seg["cluster"].n_unique() == 3


def test_segment_rfm_then_profile(
    tmp_path: Path, features_csv: tuple[Path, pl.DataFrame, object]
) -> None:
    path, _, _ = features_csv
    out = tmp_path / "rfm.csv"
    res = runner.invoke(app, ["segment", str(path), "--method", "rfm", "-o", str(out)])
    assert res.exit_code == 0, res.output
    assert "RFM score cut points" in res.output
    seg = pl.read_csv(out, schema_overrides={"customer_id": pl.String})
    assert {"r_score", "f_score", "m_score", "rfm_code"} <= set(seg.columns)
    report = tmp_path / "profiles.json"
    res = runner.invoke(
        app, ["profile", str(path), str(out), "--json", str(report), "--rename", "Loyal=Core"]
    )
    assert res.exit_code == 0, res.output
    assert "Segment profiles" in res.output and "rule:" in res.output
    assert "Rule fidelity:" in res.output
    assert "Core" in res.output and "Loyal " not in res.output
    import json

    data = json.loads(report.read_text())
    assert data["n_customers"] == seg.height
    assert 0.0 <= data["rule_fidelity"] <= 1.0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--method", "tree"], "--method must be one of"),
        (["--method", "kmeans", "--k", "lots"], "--k must be 'auto' or a whole number"),
        (["--method", "kmeans", "--k-range", "1-5"], "--k-range must satisfy"),
        (["--cut-points", "recency=a,b"], "is not NAME=v1,v2"),
    ],
)
def test_bad_options_give_clear_errors(
    features_csv: tuple[Path, pl.DataFrame, object], args: list[str], message: str
) -> None:
    path, _, _ = features_csv
    res = runner.invoke(app, ["segment", str(path), *args])
    assert res.exit_code == 2
    assert message in res.output


def test_missing_id_column_and_duplicates(tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("id,n_orders\n1,2\n")
    res = runner.invoke(app, ["segment", str(bad)])
    assert res.exit_code == 2 and "no 'customer_id' column" in res.output
    dup = tmp_path / "dup.csv"
    dup.write_text("customer_id,n_orders\n1,2\n1,3\n")
    res = runner.invoke(app, ["segment", str(dup)])
    assert res.exit_code == 2 and "repeat a customer id" in res.output


def test_show_map_prints_the_default_map_as_toml() -> None:
    res = runner.invoke(app, ["segment", "unused.csv", "--show-map"])
    assert res.exit_code == 0
    assert 'name = "Champions"' in res.output and "scale = 5" in res.output
