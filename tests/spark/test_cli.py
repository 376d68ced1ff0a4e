"""The commands with ``--engine spark`` write what the embedded engine writes.

A small generated log (300 customers) keeps this quick; the real-data parity is
``test_parity.py``. Spark reads files, a ``sql:`` query and a ``table:`` (a temporary view).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from polars.testing import assert_frame_equal
from typer.testing import CliRunner

from seglens.cli import app
from tests.transactions import random_transactions

pytestmark = [
    pytest.mark.spark,
    pytest.mark.filterwarnings(
        "ignore:PySpark does not yet fully support pandas >= 3.0.0:FutureWarning"
    ),
]


def run(*args: object) -> str:
    res = CliRunner().invoke(app, [str(a) for a in args])
    assert res.exit_code == 0, res.output
    return res.stdout


@pytest.fixture(scope="module")
def work(tmp_path_factory: pytest.TempPathFactory, spark: Any) -> Path:
    """Both engines' features and k-means segments of one raw CSV, and a labels file."""
    d = tmp_path_factory.mktemp("cli")
    tx = random_transactions(300, seed=11)
    tx.write_csv(d / "tx.csv", datetime_format="%Y-%m-%d %H:%M:%S")
    (d / "emb_i.json").write_text(run("ingest", d / "tx.csv", "-o", d / "emb_l.parquet", "--json"))
    (d / "sp_i.json").write_text(
        run("ingest", d / "tx.csv", "-o", d / "sp_l.parquet", "--json", "--engine", "spark")
    )
    run("features", d / "tx.csv", "-o", d / "emb_f.parquet", "--as-of", "2011-10-01")
    run(
        "features",
        d / "tx.csv",
        "--engine",
        "spark",
        "-o",
        d / "sp_f.parquet",
        "--as-of",
        "2011-10-01",
    )
    seg = ["segment", "-m", "kmeans", "-k", "3", "--json"]
    (d / "emb.json").write_text(run(*seg, d / "emb_f.parquet", "-o", d / "emb_s.parquet"))
    (d / "sp.json").write_text(
        run(
            *seg,
            "sql:SELECT * FROM parquet.`" + str(d / "sp_f.parquet") + "`",
            "--engine",
            "spark",
            "-o",
            d / "sp_s.parquet",
        )
    )
    segs = pl.read_parquet(d / "emb_s.parquet")
    labels = segs.select("customer_id", "segment").sample(120, seed=1)
    flipped = labels.with_columns(
        pl.when(pl.int_range(pl.len()) % 4 == 0)
        .then(pl.lit("other"))
        .otherwise("segment")
        .alias("segment")
    )
    flipped.write_csv(d / "labels.csv")
    return d


def test_ingest_equals_embedded(work: Path) -> None:
    keys = ["customer_id", "order_id", "timestamp"]
    emb = pl.read_parquet(work / "emb_l.parquet").sort(keys)
    assert_frame_equal(pl.read_parquet(work / "sp_l.parquet").sort(keys), emb, check_dtypes=False)
    e = json.loads((work / "emb_i.json").read_text())
    s = json.loads((work / "sp_i.json").read_text())
    assert (s["rows_read"], s["rows_kept"]) == (e["rows_read"], e["rows_kept"]) == (emb.height,) * 2
    assert [(r["rule"], r["rows"]) for r in s["rules"]] == [
        (r["rule"], r["rows"]) for r in e["rules"]
    ]


def test_features_and_segments_equal_embedded(work: Path) -> None:
    assert_frame_equal(
        pl.read_parquet(work / "sp_f.parquet"),
        pl.read_parquet(work / "emb_f.parquet"),
        check_dtypes=False,
        rel_tol=1e-9,
    )
    emb = pl.read_parquet(work / "emb_s.parquet")
    got = pl.read_parquet(work / "sp_s.parquet")
    assert_frame_equal(got, emb, check_dtypes=False, rel_tol=1e-9)
    e, s = json.loads((work / "emb.json").read_text()), json.loads((work / "sp.json").read_text())
    assert s["segments"] == e["segments"] and s["customers"] == e["customers"] == 300
    assert s["engine"] == "spark"


def test_accuracy_equals_embedded_from_a_table(work: Path, spark: Any) -> None:
    spark.read.parquet(str(work / "sp_s.parquet")).createOrReplaceTempView("cli_segments")
    common = ["accuracy", "--labels", work / "labels.csv", "--match", "hungarian", "--json"]
    emb = json.loads(run(*common, "--segments", work / "emb_s.parquet"))
    got = json.loads(run(*common, "--segments", "table:cli_segments", "--engine", "spark"))
    assert got["inputs"][0]["engine"] == "spark"
    assert got["inputs"][0]["source"] == "table:cli_segments"
    assert {k: v for k, v in got.items() if k != "inputs"} == {
        k: v for k, v in emb.items() if k != "inputs"
    }
    assert got["inputs"][1] == emb["inputs"][1]
    assert emb["n"] == 120 and emb["cross_fit"] is not None


def test_spark_usage_errors_are_clear(work: Path) -> None:
    res = CliRunner().invoke(
        app,
        [
            "segment",
            str(work / "sp_f.parquet"),
            "--engine",
            "spark",
            "--sample",
            "1",
            "-o",
            str(work / "x.parquet"),
        ],
    )
    assert res.exit_code == 2
    assert "--sample must be at least 2 customers, not 1" in res.output
    res = CliRunner().invoke(
        app,
        [
            "accuracy",
            "--segments",
            "table:no_such_table",
            "--labels",
            str(work / "labels.csv"),
            "--engine",
            "spark",
        ],
    )
    assert res.exit_code == 2
    assert "Spark's catalog has no table 'no_such_table'" in res.output
    res = CliRunner().invoke(app, ["segment", str(work / "sp_f.parquet"), "--engine", "sparkle"])
    assert res.exit_code == 2 and "unknown engine 'sparkle'" in res.output


def test_track_stores_the_same_runs_and_kpis(work: Path) -> None:
    from seglens.store import open_store, run_assignments

    out: dict[str, dict[str, Any]] = {}
    for engine in ("embedded", "spark"):
        db = str(work / f"{engine}.db")
        run("track", work / "tx.csv", "--as-of", "2011-06-30", "--db", db, "--engine", engine)
        if engine == "embedded":  # reviewers' answers on 60 customers, a third of them changed
            with open_store(db) as store:
                first = run_assignments(store, 1).sort("customer_id").head(60)
            first.select(
                "customer_id",
                pl.when(pl.int_range(pl.len()) % 3 == 0)
                .then(pl.lit("Lost"))
                .otherwise("segment")
                .alias("segment"),
            ).write_csv(work / "reviewed.csv")
        args = ["--db", db, "--labels", work / "reviewed.csv", "--json", "--engine", engine]
        out[engine] = json.loads(run("track", work / "tx.csv", "--as-of", "2011-09-30", *args))
        with open_store(db) as store:
            out[engine]["stored"] = run_assignments(store, 2).sort("customer_id")
    emb, got = out["embedded"], out["spark"]
    assert_frame_equal(got.pop("stored"), emb.pop("stored"))
    assert got == emb
    assert {k["metric"] for k in got["kpis"]} >= {"segment_hold"} and got["measured"]
