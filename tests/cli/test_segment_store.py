"""`seglens segment --db --as-of` stores the segmentation as a run, like `track` does, so a
learnt (supervised) segmentation can be audited and measured like any other."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import polars as pl
from typer.testing import CliRunner

from seglens.cli import app
from seglens.store import list_runs, open_store, run_assignments, run_features


def _features(tmp_path: Path) -> tuple[Path, pl.DataFrame]:
    rng = np.random.default_rng(3)
    n = 300
    group = rng.integers(0, 3, n)
    frame = pl.DataFrame(
        {
            "customer_id": [f"c{i:03d}" for i in range(n)],
            "days_since_last_purchase": (group * 100 + rng.integers(0, 30, n)).astype(float),
            "n_orders": (5 - group + rng.integers(0, 2, n)).astype(float),
            "total_spend": (1000 / (group + 1) + rng.normal(0, 20, n)),
        }
    )
    path = tmp_path / "features.parquet"
    frame.write_parquet(path)
    return path, frame.with_columns(pl.Series("truth", np.array(["A", "B", "C"])[group]))


def test_a_supervised_segmentation_is_stored_as_a_run(tmp_path: Path) -> None:
    feats, frame = _features(tmp_path)
    labels = tmp_path / "labels.csv"
    frame.head(120).select("customer_id", pl.col("truth").alias("segment")).write_csv(labels)
    db = f"sqlite:///{tmp_path / 's.db'}"
    args = ["segment", str(feats), "--method", "supervised", "--labels", str(labels),
            "-o", str(tmp_path / "seg.parquet"), "--no-curve", "--json",
            "--db", db, "--as-of", "2011-09-30"]  # fmt: skip
    out = CliRunner().invoke(app, args)
    assert out.exit_code == 0, out.output
    run_id = json.loads(out.output)["run_id"]
    written = pl.read_parquet(tmp_path / "seg.parquet")
    with open_store(db) as store:
        runs = list_runs(store)
        stored = run_assignments(store, run_id)
        features = run_features(store, run_id)
    assert runs.row(0, named=True)["segmenter"] == "SupervisedSegmenter"
    assert runs["as_of"][0].date().isoformat() == "2011-09-30"
    assert dict(stored.select("customer_id", "segment").iter_rows()) == dict(
        written.select(pl.col("customer_id").cast(pl.String), "segment").iter_rows()
    )
    assert features.height == 300
    sample = CliRunner().invoke(
        app, ["audit-sample", "--db", db, "--run", str(run_id), "--out", str(tmp_path / "a.csv")]
    )
    assert sample.exit_code == 0, sample.output


def test_db_and_as_of_go_together(tmp_path: Path) -> None:
    feats, _ = _features(tmp_path)
    out = CliRunner().invoke(
        app, ["segment", str(feats), "--method", "rfm", "--db", f"sqlite:///{tmp_path}/s.db"]
    )
    assert out.exit_code == 2 and "--as-of" in out.output
